"""Validation beyond fhir.resources' structure checks: required bindings, conformance to the
Questionnaire, ext-1 and reference resolution."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from extractor.errors import FhirError

from .common import ANSWER_VALUE, ITEM_TYPES, REQUIRED_CODES, walk_items

# ---------------------------------------------------------------- validation


def validated(model: type, data: dict) -> dict[str, Any]:
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

    out = validated(Bundle, dict(data))
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
            for item in walk_items(r.get("item", [])):
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
