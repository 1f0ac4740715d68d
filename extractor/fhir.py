"""FHIR R4 output (HL7 Da Vinci DTR shape): the guideline's Questionnaire and a prefilled QuestionnaireResponse.

Built and validated with fhir.resources' R4B models (FHIR 4.3.0; the library's pydantic-2 line ships R5,
R4B and STU3 but no 4.0.1 package). Questionnaire, QuestionnaireResponse, DocumentReference and Bundle are
the same in R4 and R4B for every element written here, so the output is R4 JSON. fhir.resources checks
structure, cardinality and primitive formats but not code bindings, so `validate` adds the required
bindings we use, the QuestionnaireResponse's conformance to its Questionnaire, ext-1 and reference
resolution. Names, codes and the canonical base live in models/fhir.json.

Regenerate the shipped Questionnaire after editing a guideline model: `python -m extractor.fhir`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import mimetypes
import re
import sys
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from . import knowledge
from .errors import FhirError, KnowledgeError
from .knowledge import FhirConfig, Guideline
from .schemas import COVERED_STATUSES, FLAGS, DocumentInfo, Evidence, Finding, Review

EXPERIMENTAL_STATUSES = ("present", "not_found")
CHECKLIST_STATUSES = ("present", "missing")
BBOX = ("x0", "top", "x1", "bottom")
REFERENCE_RESOURCE = "http://hl7.org/fhir/StructureDefinition/questionnaire-referenceResource"
USAGE_CONTEXT = "http://terminology.hl7.org/CodeSystem/usage-context-type"
CPT = "http://www.ama-assn.org/go/cpt"

# Required bindings of the elements written here (fhir.resources does not check code bindings).
REQUIRED_CODES = {
    ("Bundle", "type"): {
        "document", "message", "transaction", "transaction-response", "batch", "batch-response",
        "history", "searchset", "collection",
    },
    ("Questionnaire", "status"): {"draft", "active", "retired", "unknown"},
    ("QuestionnaireResponse", "status"): {"in-progress", "completed", "amended", "entered-in-error", "stopped"},
    ("DocumentReference", "status"): {"current", "superseded", "entered-in-error"},
}  # fmt: skip
ITEM_TYPES = {
    "group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time", "string", "text",
    "url", "choice", "open-choice", "attachment", "reference", "quantity",
}  # fmt: skip
ANSWER_VALUE = {"choice": "valueCoding", "text": "valueString", "string": "valueString", "reference": "valueReference"}


class DocumentMeta(BaseModel):
    """What the caller knows about a source file beyond the review: where it is stored, its type and bytes."""

    content_type: str | None = None
    url: str | None = None
    size: int | None = None
    sha1: str | None = None
    creation: datetime | None = None


def document_meta_from_file(path: Path) -> DocumentMeta:
    """Size, SHA-1 (FHIR Attachment.hash) and content type of a file on disk; nothing if it cannot be read."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return DocumentMeta(content_type=_content_type(Path(path).name))
    return DocumentMeta(
        content_type=_content_type(Path(path).name), size=len(data), sha1=hashlib.sha1(data).hexdigest()
    )


def _content_type(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "text/plain"


class _Urls:
    def __init__(self, cfg: FhirConfig):
        self.base = cfg.canonical_base

    def ext(self, name: str) -> str:
        return f"{self.base}/StructureDefinition/{name}"

    def cs(self, name: str) -> str:
        return f"{self.base}/CodeSystem/{name}"

    def sid(self, name: str) -> str:
        return f"{self.base}/sid/{name}"


def fhir_id(value: str) -> str:
    """A FHIR id ([A-Za-z0-9-.]{1,64}) from a guideline id or version."""
    return re.sub(r"[^A-Za-z0-9.-]", "-", value)[:64]


# ---------------------------------------------------------------- Questionnaire


FHIR_DATE = r"\d{4}(-\d{2}(-\d{2})?)?"


def questionnaire(guideline: Guideline) -> dict[str, Any]:
    """The FHIR Questionnaire of one guideline version: one item per indication and per checklist item."""
    cfg = knowledge.fhir_config()
    urls = _Urls(cfg)
    names = {"guideline_id": guideline.id, "guideline_version": guideline.version, "guideline_title": guideline.title}

    def options(codes: tuple[str, ...]) -> list[dict]:
        return [{"valueCoding": _status_coding(cfg, urls, c)} for c in codes]

    indications = [
        {
            "linkId": ind.id,
            "code": [
                {"system": urls.cs("guideline-indication"), "code": ind.id, "display": ind.title},
                {"system": urls.cs("indication-kind"), "code": ind.kind},
            ],
            "text": ind.text,
            "type": "choice",
            "required": True,
            "answerOption": options(COVERED_STATUSES if ind.kind == "covered" else EXPERIMENTAL_STATUSES),
        }
        for ind in guideline.indications
    ]
    checklist = [
        {
            "linkId": item.id,
            "code": [{"system": urls.cs("documentation-item"), "code": item.id}],
            "text": item.text,
            "type": "choice",
            "required": True,
            "answerOption": options(CHECKLIST_STATUSES),
        }
        for item in guideline.documentation
    ]
    summary = [
        {
            "linkId": "recommendation",
            "text": cfg.items["recommendation"],
            "type": "choice",
            "required": True,
            "answerOption": [
                {"valueCoding": {"system": urls.cs("recommendation"), "code": code, "display": display}}
                for code, display in cfg.recommendation_display.items()
            ],
        },
        {"linkId": "rationale", "text": cfg.items["rationale"], "type": "text", "required": True},
        {
            "extension": [{"url": REFERENCE_RESOURCE, "valueCode": "DocumentReference"}],
            "linkId": "source_documents",
            "text": cfg.items["source_documents"],
            "type": "reference",
            "required": True,
            "repeats": True,
        },
    ]
    period = {"start": guideline.effective_from.isoformat()}
    if guideline.effective_to:
        period["end"] = guideline.effective_to.isoformat()
    data = {
        "resourceType": "Questionnaire",
        "id": fhir_id(f"{guideline.id}-{guideline.version}"),
        "url": f"{urls.base}/Questionnaire/{fhir_id(guideline.id)}",
        "identifier": [{"system": urls.sid("guideline"), "value": guideline.id}],
        "version": guideline.version,
        "name": re.sub(r"\W", "_", guideline.id),
        "title": f"{guideline.title} ({guideline.id})",
        "status": "retired" if guideline.effective_to and guideline.effective_to < date.today() else "active",
        "experimental": False,
        "subjectType": ["Patient"],
        # FHIR wants a date; a reconstructed version may only say "before 2019-07"
        **({"date": guideline.last_revised} if re.fullmatch(FHIR_DATE, guideline.last_revised) else {}),
        "publisher": guideline.publisher,
        "description": f"{guideline.source}. Answered from the records of a prior-authorization request; "
        "each answer carries its evidence.",
        "useContext": [
            {
                "code": {"system": USAGE_CONTEXT, "code": "focus"},
                "valueCodeableConcept": {"coding": [{"system": CPT, "code": c} for c in guideline.cpt_codes]},
            }
        ],
        "effectivePeriod": period,
        "item": [
            {"linkId": "indications", "text": cfg.groups["indications"].format(**names), "type": "group",
             "item": indications},
            {"linkId": "documentation", "text": cfg.groups["documentation"].format(**names), "type": "group",
             "item": checklist},
            {"linkId": "summary", "text": cfg.groups["summary"].format(**names), "type": "group", "item": summary},
        ],
    }  # fmt: skip
    from fhir.resources.R4B.questionnaire import Questionnaire

    return _validated(Questionnaire, data)


def _status_coding(cfg: FhirConfig, urls: _Urls, code: str) -> dict[str, str]:
    return {"system": urls.cs("review-status"), "code": code, "display": cfg.status_display[code]}


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
    urls = _Urls(cfg)
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
             "answer": [answer(_status_coding(cfg, urls, ind.status), evidence, extra)]}
        )  # fmt: skip
    doc_items = [
        {
            "linkId": item.id,
            "text": _item_text(q, item.id),
            "answer": [
                answer(
                    _status_coding(cfg, urls, item.status), [_evidence_extension(urls, e, refs) for e in item.evidence]
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
            "answer": [{"valueReference": refs[d.name]} for d in review.documents],
        },
    ]
    qr: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": new_id("QuestionnaireResponse"),
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
    entries = [
        {"fullUrl": f"{urls.base}/Questionnaire/{q['id']}", "resource": q},
        {"fullUrl": f"urn:uuid:{qr['id']}", "resource": qr},
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


def _rationale_answer(
    cfg: FhirConfig, urls: _Urls, origin: dict, draft: str, reviewed: str | None, reviewer: str | None
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
    for item in _walk_items(q.get("item", [])):
        if item["linkId"] == link_id:
            return item["text"]
    raise KnowledgeError(f"Questionnaire {q.get('id')}: no item {link_id!r} (regenerate: python -m extractor.fhir)")


def _walk_items(items: list[dict]) -> Iterator[dict]:
    for item in items:
        yield item
        yield from _walk_items(item.get("item", []))


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


def _finding_extension(urls: _Urls, f: Finding, refs: dict) -> dict:
    sub = _location(refs, f.document, f.page, f.start, f.end, f.bbox, f.text)
    sub.append({"url": "concept", "valueCode": f.concept})
    if f.section:
        sub.append({"url": "section", "valueCode": f.section})
    if f.sentence.strip():
        sub.append({"url": "sentence", "valueString": f.sentence})
    sub += [{"url": flag, "valueBoolean": getattr(f, flag)} for flag in FLAGS]
    return {"url": urls.ext("evidence"), "extension": sub}


def _evidence_extension(urls: _Urls, e: Evidence, refs: dict) -> dict:
    """A quoted span ("mention"), or the document as a whole, described rather than quoted."""
    quoted = e.kind == "mention"
    sub = _location(refs, e.document, e.page, e.start, e.end, e.bbox, e.text if quoted else "")
    if not quoted and e.text.strip():
        sub.append({"url": "description", "valueString": e.text})
    sub.append({"url": "kind", "valueCode": e.kind})
    return {"url": urls.ext("evidence"), "extension": sub}


def _document_reference(
    cfg: FhirConfig, urls: _Urls, d: DocumentInfo, rid: str, meta: Mapping[str, DocumentMeta]
) -> dict:
    m = meta.get(d.name) or DocumentMeta()
    attachment: dict[str, Any] = {"contentType": m.content_type or _content_type(d.name), "title": d.name}
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


# ---------------------------------------------------------------- validation


def _validated(model: type, data: dict) -> dict[str, Any]:
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise FhirError(f"invalid {data.get('resourceType', 'resource')}: {where}: {err['msg']}") from None
    return parsed.model_dump(mode="json", by_alias=True, exclude_none=True)


def validate(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a Bundle from `bundle` (fhir.resources model plus the rules the models do not check) and
    return it as normalised FHIR JSON; raise FhirError naming the first problem."""
    from fhir.resources.R4B.bundle import Bundle

    out = _validated(Bundle, dict(data))
    problems = list(_rule_problems(out))
    if problems:
        raise FhirError(f"invalid Bundle: {problems[0]}")
    return out


def _rule_problems(b: dict) -> Iterator[str]:
    full_urls = {e.get("fullUrl") for e in b.get("entry", [])}
    by_canonical = {}
    for e in b.get("entry", []):
        r = e["resource"]
        for (rtype, element), codes in REQUIRED_CODES.items():
            if r["resourceType"] == rtype and r.get(element) not in codes:
                yield f"{rtype}.{element} {r.get(element)!r} is not a valid code"
        if r["resourceType"] == "Questionnaire":
            by_canonical[f"{r.get('url')}|{r.get('version')}"] = r
            for item in _walk_items(r.get("item", [])):
                if item.get("type") not in ITEM_TYPES:
                    yield f"Questionnaire item {item.get('linkId')}: type {item.get('type')!r} is not a valid code"
    for (rtype, element), codes in REQUIRED_CODES.items():
        if rtype == "Bundle" and b.get(element) not in codes:
            yield f"Bundle.{element} {b.get(element)!r} is not a valid code"
    yield from _extension_problems(b, "Bundle")
    for ref in _references(b):
        if ref.startswith("urn:uuid:") and ref not in full_urls:
            yield f"reference {ref} does not resolve to an entry of the Bundle"
    for e in b.get("entry", []):
        r = e["resource"]
        if r["resourceType"] == "QuestionnaireResponse":
            q = by_canonical.get(r.get("questionnaire"))
            if q is None:
                yield f"QuestionnaireResponse.questionnaire {r.get('questionnaire')!r} is not in the Bundle"
            else:
                yield from _conformance_problems(q.get("item", []), r.get("item", []), "QuestionnaireResponse")


def _conformance_problems(q_items: list[dict], r_items: list[dict], path: str) -> Iterator[str]:
    """The QuestionnaireResponse answers its Questionnaire: known linkIds in order, typed answers, options."""
    defs = {i["linkId"]: i for i in q_items}
    order = [i["linkId"] for i in q_items]
    seen = [i.get("linkId") for i in r_items]
    if seen != sorted(seen, key=lambda x: order.index(x) if x in order else -1):
        yield f"{path}: items are not in the Questionnaire's order"
    for q in q_items:
        if q.get("required") and q["linkId"] not in seen:
            yield f"{path}: required item {q['linkId']} is not answered"
    for item in r_items:
        where = f"{path}.{item.get('linkId')}"
        q = defs.get(item.get("linkId"))
        if q is None:
            yield f"{where}: linkId is not in the Questionnaire"
            continue
        answers = item.get("answer", [])
        if q["type"] == "group":
            if answers:
                yield f"{where}: a group has no answers"
            yield from _conformance_problems(q.get("item", []), item.get("item", []), where)
            continue
        if q.get("required") and not answers:
            yield f"{where}: required item has no answer"
        if len(answers) > 1 and not q.get("repeats"):
            yield f"{where}: several answers to an item that does not repeat"
        want = ANSWER_VALUE.get(q["type"])
        options = [o["valueCoding"] for o in q.get("answerOption", []) if "valueCoding" in o]
        for a in answers:
            values = [k for k in a if k.startswith("value")]
            if values != [want]:
                yield f"{where}: answer {values} does not fit item type {q['type']}"
            elif (
                want == "valueCoding"
                and options
                and not any(
                    o.get("system") == a[want].get("system") and o["code"] == a[want].get("code") for o in options
                )
            ):
                yield f"{where}: answer {a[want].get('code')!r} is not one of the item's options"


def _extension_problems(node: Any, path: str) -> Iterator[str]:
    if isinstance(node, dict):
        for key in ("extension", "modifierExtension"):
            for ext in node.get(key, []):
                values = [k for k in ext if k.startswith("value")]
                if not ext.get("url"):
                    yield f"{path}: extension without url"
                if bool(values) == bool(ext.get("extension")):
                    yield f"{path}: extension {ext.get('url')} must have either a value or extensions (ext-1)"
        for k, v in node.items():
            yield from _extension_problems(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _extension_problems(v, f"{path}[{i}]")


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node["reference"]
        for v in node.values():
            yield from _references(v)
    elif isinstance(node, list):
        for v in node:
            yield from _references(v)


# ---------------------------------------------------------------- generator


def render_questionnaire(guideline: Guideline) -> str:
    return json.dumps(questionnaire(guideline), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) the shipped Questionnaire of every guideline version under models/."""
    parser = argparse.ArgumentParser(prog="python -m extractor.fhir", description=main.__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if a shipped Questionnaire is out of date")
    args = parser.parse_args(argv)
    stale = []
    for g in knowledge.guidelines():
        path = knowledge.questionnaire_path(g.id, g.version)
        text = render_questionnaire(g)
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        if args.check:
            stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    for path in stale:
        print(f"error: {path}: out of date (run python -m extractor.fhir)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
