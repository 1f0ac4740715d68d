"""The one per-case function: files in, a prefilled review out. CLI, web and backfill all call it.

files -> ingest (documents) -> nlp (findings) -> guideline (indications, checklist, request, rationale) -> Review.
`prefill` returns the documents it read with the review, so no caller reads or OCRs a file twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from extractor import PIPELINE_VERSION, knowledge
from extractor.errors import DocumentError, NoReadableDocuments
from extractor.guideline.checklist import documentation
from extractor.guideline.dates import date_findings
from extractor.guideline.indications import evaluate_indications, recommend
from extractor.guideline.inputs import DocContext, DocMention
from extractor.guideline.rationale import draft_rationale
from extractor.guideline.receipt import with_clock
from extractor.guideline.request import request_details
from extractor.ingest.cache import ReadingCache
from extractor.ingest.document import Document, FailedDocument, sha256_bytes
from extractor.ingest.files import read_file, read_regular
from extractor.nlp.extract import extract
from extractor.nlp.ocr_clean import clean_ocr
from extractor.schemas import DocumentInfo, Evidence, Finding, GuidelineRef, Review


@dataclass
class CaseResult:
    """What a front needs from one case: the review, and the documents it rests on (their texts and pages)."""

    review: Review
    documents: list[Document] = field(default_factory=list)
    failed: list[FailedDocument] = field(default_factory=list)

    @property
    def texts(self) -> dict[str, str]:
        return {d.name: d.text for d in self.documents}


_WS = re.compile(r"\s+")


def read_documents(
    files: Sequence[Path], cache: ReadingCache | None = None, *, follow_links: bool = True
) -> tuple[list[Document], list[FailedDocument]]:
    """Read every file (a PDF from the document-text cache when given and it has the bytes); one unreadable
    file is listed with its error and never stops the rest (`follow_links=False`: the backfill, whose input
    paths are already resolved, opens none through a link)."""
    docs: list[Document] = []
    failed: list[FailedDocument] = []
    for path in files:
        path = Path(path)
        try:
            docs.extend(read_file(path, cache, follow_links=follow_links))
        except DocumentError as exc:
            digest = None
            try:
                digest = sha256_bytes(read_regular(path, follow_links=follow_links))
            except DocumentError:
                pass
            failed.append(FailedDocument(name=path.name, sha256=digest, error=str(exc)))
    return docs, failed


def _unique_names(docs: list[Document]) -> None:
    seen: dict[str, int] = {}
    for d in docs:
        if d.name in seen:
            seen[d.name] += 1
            d.name = f"{d.name} ({seen[d.name]})"
        else:
            seen[d.name] = 1


def analyse(doc: Document) -> tuple[list[Finding], list[DocMention], DocContext]:
    """NLP over one document; every offset points into the document's extracted text."""
    cfg = knowledge.pipeline_config()
    # an OCR'd document is read with its fax specks removed (same length: offsets hold)
    source = clean_ocr(doc.text) if doc.ocr_pages else doc.text
    result = extract(source)
    skip = set(cfg.non_evidence_sections)
    concepts = set(cfg.concepts)
    blank = [(s, e) for s, e, cat in result.sections if cat in skip and e > s]

    findings: list[Finding] = []
    mentions: list[DocMention] = []
    for m in result.mentions:
        if m.section in skip:
            continue
        start, end = m.start, m.end
        text = _WS.sub(" ", m.text).strip()
        page = doc.page_of(start)
        if m.label in concepts:
            findings.append(
                Finding(
                    concept=m.label,
                    text=text,
                    document=doc.name,
                    page=page,
                    start=start,
                    end=end,
                    bbox=doc.bbox(start, end),
                    section=m.section,
                    sentence=m.sentence,
                    negated=m.negated,
                    historical=m.historical,
                    hypothetical=m.hypothetical,
                    family=m.family,
                    uncertain=m.uncertain,
                    dated=m.dated,
                )
            )
        else:
            mentions.append(
                DocMention(
                    label=m.label,
                    sentence=m.sentence,
                    negated=m.negated,
                    hypothetical=m.hypothetical,
                    family=m.family,
                    evidence=Evidence(
                        document=doc.name,
                        page=page,
                        start=start,
                        end=end,
                        bbox=doc.bbox(start, end),
                        text=m.sentence if m.label == "DOC_ALT_REASON" else text,
                    ),
                )
            )
    evidence_text = source
    for s, e in blank:
        evidence_text = evidence_text[:s] + re.sub(r"[^\n\f]", " ", evidence_text[s:e]) + evidence_text[e:]
    context = DocContext(
        name=doc.name, doc_type=doc.doc_type, text=source, evidence_text=evidence_text, page_of=doc.page_of
    )
    return findings, mentions, context


def prefill_documents(
    docs: list[Document],
    failed: list[FailedDocument],
    request_date: date | None = None,
    today: date | None = None,
    *,
    urgency: str | None = None,
    received_at: datetime | None = None,
    uploaded_at: datetime | None = None,
) -> Review:
    """The review of documents already read (the web worker reads them from its store); `urgency`,
    `received_at` and `uploaded_at` as intake gave them (see receipt.with_clock)."""
    if not docs:
        raise NoReadableDocuments([(f.name, f.error) for f in failed])
    _unique_names(docs)
    findings: list[Finding] = []
    mentions: list[DocMention] = []
    contexts: list[DocContext] = []
    for doc in docs:
        f, m, c = analyse(doc)
        findings += f
        mentions += m
        contexts.append(c)
    request = request_details(contexts, request_date, today or date.today())
    # a fax's transmission header lines are off its text (no findings in them) but carry its receipt time
    heads = ["\n".join([*d.fax_headers, d.text]) for d in docs]
    request = with_clock(request, heads, urgency, received_at, uploaded_at)
    date_findings(findings, request.document_dates, date.fromisoformat(request.request_date))
    model = knowledge.guideline_for(date.fromisoformat(request.request_date))
    indications = evaluate_indications(model, findings)
    recommendation = recommend(model, indications)
    checklist = documentation(model, contexts, mentions, request)
    infos = [
        DocumentInfo(
            name=d.name,
            sha256=d.sha256,
            pages=d.pages,
            ocr_pages=d.ocr_pages,
            type=d.doc_type,
            warnings=d.warnings,
            source=d.source or d.name,
            first_page=d.first_page,
            ocr_confidence=d.ocr_confidence,
            page_rotation=d.page_rotation,
            noise_pages=d.noise_pages,
        )
        for d in docs
    ] + [DocumentInfo(name=f.name, sha256=f.sha256, error=f.error) for f in failed]
    review = Review(
        pipeline_version=PIPELINE_VERSION,
        guideline=GuidelineRef(
            id=model.id,
            version=model.version,
            title=model.title,
            last_revised=model.last_revised,
            effective_from=model.effective_from.isoformat(),
            effective_to=model.effective_to.isoformat() if model.effective_to else None,
            cpt_codes=model.cpt_codes,
        ),
        recommendation=recommendation,
        indications=indications,
        findings=findings,
        documentation=checklist,
        request=request,
        rationale="",
        documents=infos,
    )
    review.rationale = draft_rationale(review, model, {d.name: d.text for d in docs})
    unreadable = [f"{d.source or d.name} page {', '.join(map(str, d.noise_pages))}" for d in docs if d.noise_pages]
    if unreadable:  # the reviewer is told the review rests on fewer pages than were sent
        note = knowledge.rationale_templates().unreadable_pages.format(pages="; ".join(unreadable))
        review.rationale = f"{note} {review.rationale}"
    return review


def prefill(
    files: Sequence[Path],
    request_date: date | None = None,
    today: date | None = None,
    cache: ReadingCache | None = None,
    *,
    urgency: str | None = None,
    received_at: datetime | None = None,
    uploaded_at: datetime | None = None,
    follow_links: bool = True,
) -> CaseResult:
    """Read the files of one case and prefill its review; the documents read come back with it."""
    docs, failed = read_documents(files, cache, follow_links=follow_links)
    clock = {"urgency": urgency, "received_at": received_at, "uploaded_at": uploaded_at}
    return CaseResult(prefill_documents(docs, failed, request_date, today, **clock), docs, failed)
