"""The prefilled QuestionnaireResponse in a Bundle with a DocumentReference per document, evidence as extensions."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from extractor import knowledge
from extractor.errors import FhirError, KnowledgeError
from extractor.knowledge import FhirConfig
from extractor.schemas import FLAGS, DocumentInfo, Evidence, Finding, Review

from .common import BBOX, DocumentMeta, Urls, content_type, status_coding, walk_items
from .validate import validate

# ---------------------------------------------------------------- Bundle


def bundle(
    review: Review,
    documents_meta: Mapping[str, DocumentMeta] | None = None,
    *,
    case_id: str | None = None,
    authored: datetime | None = None,
    reviewed_rationale: str | None = None,
    reviewer: str | None = None,
) -> dict[str, Any]:
    """A validated FHIR Bundle (collection): the Questionnaire, the prefilled QuestionnaireResponse answering
    it with evidence on every answer, and a DocumentReference per source document.

    `documents_meta` is keyed by document name (as in `review.documents`); `case_id` becomes the
    QuestionnaireResponse identifier. Resource ids are UUIDs derived from the case, so the same case gives
    the same ids. `reviewed_rationale` is the rationale a reviewer sent: it becomes the answer, marked as a
    human override by `reviewer` (DTR information-origin), with the machine draft kept beside it.
    """
    if reviewed_rationale is not None and not (reviewer and reviewer.strip()):
        raise FhirError("a reviewed rationale needs the reviewer who wrote it")
    cfg = knowledge.fhir_config()
    urls = Urls(cfg)
    meta = documents_meta or {}
    q = knowledge.questionnaire(review.guideline.id, review.guideline.version)
    key = (
        case_id
        or hashlib.sha256(
            "|".join(
                [review.guideline.id, review.guideline.version, *(d.sha256 or d.name for d in review.documents)]
            ).encode()
        ).hexdigest()
    )

    def new_id(part: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{urls.base}/case/{key}/{part}"))

    doc_ids = {d.name: new_id(f"DocumentReference/{d.name}") for d in review.documents}
    refs = {name: {"reference": f"urn:uuid:{i}", "display": name} for name, i in doc_ids.items()}
    when = (authored or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    origin = {
        "url": cfg.information_origin.url,
        "extension": [{"url": "source", "valueCode": cfg.information_origin.source}],
    }

    def answer(coding: dict, evidence: list[dict], extra: list[dict] | None = None) -> dict:
        return {"extension": [origin, *(extra or []), *evidence], "valueCoding": coding}

    ind_items = []
    for ind in review.indications:
        extra = [{"url": urls.ext("score"), "valueDecimal": ind.score}]
        extra += [{"url": urls.ext("missing"), "valueString": m} for m in ind.missing]
        evidence = [_finding_extension(urls, f, refs) for f in ind.evidence]
        ind_items.append(
            {"linkId": ind.id, "text": _item_text(q, ind.id),
             "answer": [answer(status_coding(cfg, urls, ind.status), evidence, extra)]}
        )  # fmt: skip
    doc_items = [
        {
            "linkId": item.id,
            "text": _item_text(q, item.id),
            "answer": [
                answer(
                    status_coding(cfg, urls, item.status), [_evidence_extension(urls, e, refs) for e in item.evidence]
                )
            ],
        }
        for item in review.documentation
    ]
    summary = [
        {
            "linkId": "recommendation",
            "text": _item_text(q, "recommendation"),
            "answer": [
                {
                    "extension": [origin],
                    "valueCoding": {
                        "system": urls.cs("recommendation"),
                        "code": review.recommendation,
                        "display": cfg.recommendation_display[review.recommendation],
                    },
                }
            ],
        },
        {
            "linkId": "rationale",
            "text": _item_text(q, "rationale"),
            "answer": [_rationale_answer(cfg, urls, origin, review.rationale, reviewed_rationale, reviewer)],
        },
        {
            "linkId": "source_documents",
            "text": _item_text(q, "source_documents"),
            "answer": [{"extension": [origin], "valueReference": refs[d.name]} for d in review.documents],
        },
    ]
    qr: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": new_id("QuestionnaireResponse"),
        "meta": {"profile": [cfg.dtr.questionnaire_response_profile]},
        "extension": _dtr_extensions(cfg, review),
        "questionnaire": f"{q['url']}|{q['version']}",
        "status": "in-progress",
        "authored": when,
        "author": {"display": f"brain-mrs-extractor {review.pipeline_version}"},
        "item": [
            {"linkId": "indications", "text": _item_text(q, "indications"), "item": ind_items},
            {"linkId": "documentation", "text": _item_text(q, "documentation"), "item": doc_items},
            {"linkId": "summary", "text": _item_text(q, "summary"), "item": summary},
        ],
    }
    if case_id:
        qr["identifier"] = {"system": urls.sid("case"), "value": case_id}
    subject = _subject(review)
    if subject:
        qr["subject"] = subject
    entries = [  # DTR: the QuestionnaireResponse is the Bundle's first entry
        {"fullUrl": f"urn:uuid:{qr['id']}", "resource": qr},
        {"fullUrl": f"{urls.base}/Questionnaire/{q['id']}", "resource": q},
    ] + [
        {"fullUrl": f"urn:uuid:{doc_ids[d.name]}", "resource": _document_reference(cfg, urls, d, doc_ids[d.name], meta)}
        for d in review.documents
    ]
    data = {
        "resourceType": "Bundle",
        "id": new_id("Bundle"),
        "type": "collection",
        "timestamp": when,
        "entry": entries,
    }
    return validate(data)


def _dtr_extensions(cfg: FhirConfig, review: Review) -> list[dict[str, Any]]:
    """DTR 2.2's qr-coverage (the member's Coverage, by its member id: the payer holds the resource) and
    intendedUse (the answers go with a prior-authorization request)."""
    coverage: dict[str, Any] = {"type": "Coverage"}
    if review.request.member_id:
        coverage["identifier"] = {"system": Urls(cfg).sid("member-id"), "value": review.request.member_id}
        coverage["display"] = f"Coverage of member {review.request.member_id}"
    else:
        coverage["display"] = "Coverage of the request (no member id found in the records)"
    return [
        {"url": cfg.dtr.qr_coverage_url, "valueReference": coverage},
        {"url": cfg.dtr.intended_use_url, "valueCodeableConcept": {"coding": [cfg.dtr.intended_use.model_dump()]}},
    ]


def _rationale_answer(
    cfg: FhirConfig, urls: Urls, origin: dict, draft: str, reviewed: str | None, reviewer: str | None
) -> dict[str, Any]:
    if reviewed is None or not reviewed.strip() or reviewed == draft:
        return {"extension": [origin], "valueString": draft}
    override = {
        "url": cfg.information_origin.url,
        "extension": [
            {"url": "source", "valueCode": cfg.information_origin.override},
            {"url": "author", "extension": [{"url": "practitioner", "valueReference": {"display": reviewer}}]},
        ],
    }
    return {
        "extension": [override, {"url": urls.ext("draft-rationale"), "valueString": draft}],
        "valueString": reviewed,
    }


def _item_text(q: dict, link_id: str) -> str:
    for item in walk_items(q.get("item", [])):
        if item["linkId"] == link_id:
            return item["text"]
    raise KnowledgeError(
        f"Questionnaire {q.get('id')}: no item {link_id!r} (regenerate: python -m extractor.render.fhir)"
    )


def _subject(review: Review) -> dict | None:
    r = review.request
    if not (r.patient_name or r.member_id):
        return None
    subject: dict[str, Any] = {"type": "Patient"}
    if r.member_id:
        subject["identifier"] = {"value": r.member_id}
    if r.patient_name:
        subject["display"] = r.patient_name
    return subject


def _document_ref(refs: dict[str, dict], name: str) -> dict:
    try:
        return refs[name]
    except KeyError:
        raise FhirError(f"evidence names document {name!r}, which is not among the review's documents") from None


def _location(refs: dict, document: str, page: int | None, start: int | None, end: int | None,
              bbox: list[float] | None, quote: str) -> list[dict]:  # fmt: skip
    sub: list[dict[str, Any]] = [{"url": "document", "valueReference": _document_ref(refs, document)}]
    if page:
        sub.append({"url": "page", "valuePositiveInt": page})
    if quote.strip():
        sub.append({"url": "quote", "valueString": quote})
    if start is not None and end is not None:
        sub += [{"url": "start", "valueInteger": start}, {"url": "end", "valueInteger": end}]
    if bbox:
        sub.append(
            {"url": "bbox", "extension": [{"url": k, "valueDecimal": v} for k, v in zip(BBOX, bbox, strict=True)]}
        )
    return sub


def _finding_extension(urls: Urls, f: Finding, refs: dict) -> dict:
    sub = _location(refs, f.document, f.page, f.start, f.end, f.bbox, f.text)
    sub.append({"url": "concept", "valueCode": f.concept})
    if f.section:
        sub.append({"url": "section", "valueCode": f.section})
    if f.sentence.strip():
        sub.append({"url": "sentence", "valueString": f.sentence})
    sub += [{"url": flag, "valueBoolean": getattr(f, flag)} for flag in FLAGS]
    return {"url": urls.ext("evidence"), "extension": sub}


def _evidence_extension(urls: Urls, e: Evidence, refs: dict) -> dict:
    """A quoted span ("mention"), or the document as a whole, described rather than quoted."""
    quoted = e.kind == "mention"
    sub = _location(refs, e.document, e.page, e.start, e.end, e.bbox, e.text if quoted else "")
    if not quoted and e.text.strip():
        sub.append({"url": "description", "valueString": e.text})
    sub.append({"url": "kind", "valueCode": e.kind})
    return {"url": urls.ext("evidence"), "extension": sub}


def _document_reference(
    cfg: FhirConfig, urls: Urls, d: DocumentInfo, rid: str, meta: Mapping[str, DocumentMeta]
) -> dict:
    m = meta.get(d.name) or DocumentMeta()
    attachment: dict[str, Any] = {"contentType": m.content_type or content_type(d.name), "title": d.name}
    if m.url:
        attachment["url"] = m.url
    if m.size is not None:
        attachment["size"] = m.size
    if m.sha1:
        attachment["hash"] = base64.b64encode(bytes.fromhex(m.sha1)).decode()
    if m.creation:
        attachment["creation"] = m.creation.isoformat()
    ext: list[dict[str, Any]] = [{"url": urls.ext("page-count"), "valueUnsignedInt": d.pages}]
    ext += [{"url": urls.ext("ocr-page"), "valuePositiveInt": p} for p in d.ocr_pages]
    if d.error:
        ext.append({"url": urls.ext("read-error"), "valueString": d.error})
    ext += [{"url": urls.ext("warning"), "valueString": w} for w in d.warnings]
    resource: dict[str, Any] = {"resourceType": "DocumentReference", "id": rid, "extension": ext}
    if d.sha256:
        resource["identifier"] = [{"system": urls.sid("sha256"), "value": d.sha256}]
    resource["status"] = "current"
    if d.type:
        label = {t.id: t.label for t in knowledge.document_types().types}.get(d.type, d.type)
        doc_type: dict[str, Any] = {"text": label}
        if d.type in cfg.document_types:
            doc_type["coding"] = [cfg.document_types[d.type].model_dump()]
        resource["type"] = doc_type
    resource["description"] = d.name
    resource["content"] = [{"attachment": attachment}]
    return resource
