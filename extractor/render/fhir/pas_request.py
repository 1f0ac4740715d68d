"""Reading a Da Vinci PAS 2.2.1 request Bundle (`Claim/$submit`, `Claim/$inquire`): parsed with fhir.resources'
R4B models, then PAS's own rules of a request checked, each failure one OperationOutcome diagnostic."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from extractor import knowledge
from extractor.errors import PasRequestError
from extractor.schemas import PasDocument, PasSubmission

SUFFIX = {"application/pdf": ".pdf", "text/plain": ".txt"}


def operation_input(body: Any) -> dict:
    """The Bundle of an operation call: the body itself, or a `Parameters` body's `resource` parameter."""
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        for p in body.get("parameter") or []:
            if isinstance(p, dict) and p.get("name") == "resource" and isinstance(p.get("resource"), dict):
                return p["resource"]
        raise PasRequestError("Parameters without a 'resource' parameter holding the request Bundle", "Parameters")
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise PasRequestError("the body is not a FHIR Bundle (resourceType 'Bundle')", "Bundle")
    return body


def _parse(body: dict) -> None:
    try:
        Bundle.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        if first.get("type") == "base64_decode" or where.endswith(".data"):
            raise PasRequestError("an attachment's data is not valid base64", where or "Bundle") from None
        raise PasRequestError(f"not a valid FHIR R4 Bundle: {where}: {first.get('msg')}", where or "Bundle") from None


def _resolve(entries: list[dict], ref: dict | None) -> dict | None:
    """The Bundle entry a reference points at (by fullUrl, or by `Type/id`)."""
    target = (ref or {}).get("reference")
    if not target:
        return None
    for e in entries:
        r = e.get("resource") or {}
        if e.get("fullUrl") == target or f"{r.get('resourceType')}/{r.get('id')}" == target:
            return e
        if e.get("fullUrl", "").endswith("/" + target):
            return e
    return None


def _identifier_value(resource: dict | None, system: str | None = None, type_code: str | None = None) -> str | None:
    for ident in (resource or {}).get("identifier") or []:
        codes = {c.get("code") for c in ((ident.get("type") or {}).get("coding") or [])}
        if (system is None or ident.get("system") == system) and (type_code is None or type_code in codes):
            if ident.get("value"):
                return ident["value"]
    return None


def _member_id(entries: list[dict], claim: dict) -> str | None:
    """The subscriber's member id: the Patient's `MB` identifier, else the Coverage's subscriberId."""
    patient = (_resolve(entries, claim.get("patient")) or {}).get("resource")
    found = _identifier_value(patient, type_code="MB")
    if found:
        return found
    for ins in claim.get("insurance") or []:
        coverage = (_resolve(entries, ins.get("coverage")) or {}).get("resource") or {}
        if coverage.get("subscriberId"):
            return coverage["subscriberId"]
    return _identifier_value(patient)


def _provider(entries: list[dict], claim: dict, npi_system: str) -> str | None:
    """The requesting provider as inquiries match it: its NPI, else its reference or display."""
    ref = claim.get("provider") or {}
    resource = (_resolve(entries, ref) or {}).get("resource")
    npi = _identifier_value(resource, system=npi_system) or (ref.get("identifier") or {}).get("value")
    return npi or ref.get("reference") or ref.get("display")


def _claim(body: dict) -> tuple[list[dict], dict]:
    operation_input(body)
    _parse(body)
    entries = body.get("entry") or []
    first = (entries[0].get("resource") or {}) if entries else {}
    if first.get("resourceType") != "Claim":
        raise PasRequestError("the Bundle's first entry must be the Claim", "Bundle.entry[0].resource")
    idents = [i for i in first.get("identifier") or [] if i.get("value")]
    if not idents:
        raise PasRequestError("the Claim has no identifier (PAS matches requests and inquiries on it)",
                              "Claim.identifier")  # fmt: skip
    return entries, first


def _common(entries: list[dict], claim: dict) -> PasSubmission:
    cfg = knowledge.fhir_config().pas
    ident = next(i for i in claim["identifier"] if i.get("value"))
    parties = []
    for field in ("patient", "provider", "insurer"):
        e = _resolve(entries, claim.get(field))
        if e is not None and e not in parties:
            parties.append(e)
    for ins in claim.get("insurance") or []:
        e = _resolve(entries, ins.get("coverage"))
        if e is not None and e not in parties:
            parties.append(e)
    priority = next((c.get("code") for c in ((claim.get("priority") or {}).get("coding") or [])), None)
    return PasSubmission(
        claim_system=ident.get("system") or "",
        claim_value=ident["value"],
        member_id=_member_id(entries, claim),
        provider=_provider(entries, claim, cfg.npi_system),
        priority=priority,
        claim=claim,
        parties=parties,
    )


def covered_cpt_codes() -> list[str]:
    """Every CPT code some guideline version covers (76390, 0698T), from the guideline models."""
    return sorted({c for g in knowledge.guidelines() for c in g.cpt_codes})


def _documents(entries: list[dict], claim: dict, allowed: list[str]) -> list[PasDocument]:
    attachments: list[tuple[str, dict, dict | None]] = []
    for n, info in enumerate(claim.get("supportingInfo") or []):
        where = f"Claim.supportingInfo[{n}]"
        if "valueAttachment" in info:
            attachments.append((where + ".valueAttachment", info["valueAttachment"], None))
            continue
        if "valueReference" not in info:
            continue
        target = _resolve(entries, info["valueReference"])
        resource = (target or {}).get("resource") or {}
        if resource.get("resourceType") != "DocumentReference":
            raise PasRequestError("supportingInfo points at no DocumentReference in the Bundle", where)
        for k, content in enumerate(resource.get("content") or []):
            attachments.append((f"DocumentReference/{resource.get('id')}.content[{k}].attachment",
                                content.get("attachment") or {}, resource))  # fmt: skip
    if not attachments:
        raise PasRequestError(
            "the Claim carries no documents: supportingInfo must point at DocumentReferences with the clinical "
            "documents inline (attachment.data)",
            "Claim.supportingInfo",
        )
    docs = []
    for n, (where, att, resource) in enumerate(attachments, 1):
        kind = (att.get("contentType") or "").split(";")[0].strip().lower()
        if kind not in allowed:
            raise PasRequestError(
                f"unsupported contentType {kind or '(none)'!r}: only {', '.join(allowed)}", where + ".contentType"
            )
        if not att.get("data"):
            raise PasRequestError("the attachment has no inline data (a url is not fetched)", where + ".data")
        try:
            data = base64.b64decode(att["data"], validate=True)
        except ValueError:
            raise PasRequestError("an attachment's data is not valid base64", where + ".data") from None
        title = att.get("title") or (resource or {}).get("description") or f"document-{n}"
        name = re.sub(r"[^\w.\- ]", "_", title)[:120] or f"document-{n}"
        if not name.lower().endswith(SUFFIX[kind]):
            name += SUFFIX[kind]
        docs.append(PasDocument(name=name, content_type=kind, data=data))
    return docs


def parse_submit(body: Any) -> PasSubmission:
    """The PAS request of a `$submit` body; PasRequestError (-> 400 OperationOutcome) names what is wrong."""
    bundle = operation_input(body)
    entries, claim = _claim(bundle)
    cfg = knowledge.fhir_config().pas
    if claim.get("use") != "preauthorization":
        raise PasRequestError(f"Claim.use must be 'preauthorization', not {claim.get('use')!r}", "Claim.use")
    for field in ("patient", "provider", "insurer"):
        if not claim.get(field):
            raise PasRequestError(f"the Claim has no {field}", f"Claim.{field}")
    if not claim.get("item"):
        raise PasRequestError("the Claim has no items (the services requested)", "Claim.item")
    covered = covered_cpt_codes()
    codes: list[str] = []
    for n, item in enumerate(claim["item"]):
        cpts = [c.get("code") for c in ((item.get("productOrService") or {}).get("coding") or [])
                if c.get("system") == cfg.cpt_system]  # fmt: skip
        if not cpts:
            where = f"Claim.item[{n}].productOrService"
            raise PasRequestError(f"item {n + 1} has no CPT code ({cfg.cpt_system})", where)
        for code in cpts:
            if code not in covered:
                raise PasRequestError(
                    f"CPT {code} is not covered by this review's guideline (it covers {', '.join(covered)})",
                    f"Claim.item[{n}].productOrService",
                )
            if code not in codes:
                codes.append(code)
    sub = _common(entries, claim)
    stored = json.loads(json.dumps(claim))
    stored.pop("supportingInfo", None)
    return sub.model_copy(
        update={"cpt_codes": codes, "documents": _documents(entries, claim, cfg.content_types), "claim": stored}
    )


def parse_inquiry(body: Any) -> PasSubmission:
    """What a `$inquire` body identifies: the Claim identifier, member id and provider (no documents)."""
    entries, claim = _claim(operation_input(body))
    return _common(entries, claim)
