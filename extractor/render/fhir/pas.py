"""Da Vinci PAS 2.2.1 answers: the ClaimResponse of a request in a PAS response Bundle, and OperationOutcomes.

A request is pended (review action A4, X12 306) until a reviewer decides: `approve` certifies it (A1, with a
`preAuthRef`), `request_information` and `refer_to_physician` keep it pended, the former with a
CommunicationRequest naming the missing documentation. Nothing here can say A3 (not certified): the codes
come from models/fhir.json, which has none. Validated with fhir.resources' R4B models.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from pydantic import BaseModel, ValidationError

from extractor import knowledge
from extractor.errors import FhirError

from .common import Urls

CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"


def _concept(system: str, code: str) -> dict:
    return {"coding": [{"system": system, "code": code}]}


class PasDecision(BaseModel):
    """The latest reviewer decision on a PAS case, as the ClaimResponse reports it."""

    decision: str
    reviewer: str
    at: datetime


class MissingDocument(BaseModel):
    """A documentation checklist item the reviewer asks the provider for."""

    id: str
    description: str


def _when(t: datetime) -> str:
    t = t if t.tzinfo else t.replace(tzinfo=UTC)
    return t.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _new_id(urls: Urls, case_id: str, part: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{urls.base}/case/{case_id}/pas/{part}"))


def review_action(code: str, number: str | None = None) -> dict:
    """PAS's reviewAction extension with its X12 306 code (A1 certified in total, A4 pended)."""
    pas = knowledge.fhir_config().pas
    if code not in pas.review_actions:
        raise FhirError(f"review action {code} is not one this system gives")
    ext: list[dict[str, Any]] = [
        {
            "url": pas.review_action_code_url,
            "valueCodeableConcept": {
                "coding": [{"system": pas.review_action_system, "code": code, "display": pas.review_actions[code]}]
            },
        }
    ]
    if number:
        ext.append({"url": "number", "valueString": number})
    return {"url": pas.review_action_url, "extension": ext}


def pre_auth_ref(case_id: str) -> str:
    """The authorization number of an approved case: stable, derived from the case id."""
    return f"PA-{case_id[:12].upper()}"


def claim_response_bundle(
    claim: dict,
    parties: list[dict],
    case_id: str,
    received_at: datetime,
    decision: PasDecision | None = None,
    missing: list[MissingDocument] | None = None,
    *,
    inquiry: bool = False,
    now: datetime | None = None,
) -> dict:
    """A validated PAS response Bundle (or inquiry response Bundle): the ClaimResponse first, then the
    CommunicationRequest of a request for information, then the Claim's patient, provider and insurer."""
    cfg = knowledge.fhir_config()
    pas, urls = cfg.pas, Urls(cfg)
    code = "A1" if decision and decision.decision == "approve" else "A4"
    number = pre_auth_ref(case_id) if code == "A1" else None
    cr_id = _new_id(urls, case_id, "ClaimResponse")
    response: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": cr_id,
        "meta": {"profile": [pas.inquiry_response_profile if inquiry else pas.claim_response_profile]},
    }
    if decision is not None:
        response["extension"] = [
            {"url": pas.reviewer_url, "extension": [{"url": "wasHumanReviewedFlag", "valueBoolean": True}]},
            {"url": urls.ext("reviewer"), "valueString": decision.reviewer},
            {"url": urls.ext("decision"), "valueCode": decision.decision},
        ]
    response |= {
        "identifier": [{"system": urls.sid("case"), "value": case_id}],
        "status": "active",
        "type": claim.get("type") or _concept(CLAIM_TYPE, "professional"),
        "use": "preauthorization",
        "patient": claim["patient"],
        "created": _when(decision.at if decision else received_at),
        "insurer": claim["insurer"],
        "requestor": claim["provider"],
        "request": {"type": "Claim", "identifier": next(i for i in claim["identifier"] if i.get("value"))},
        "outcome": "complete" if code == "A1" else "queued",
        "disposition": {"A1": "Certified in total", "A4": "Pended for review"}[code],
    }
    if number:
        response["preAuthRef"] = number
    response["item"] = [
        {
            "extension": [review_action(code, number)],
            "itemSequence": item.get("sequence", n + 1),
            "adjudication": [{"category": _concept(ADJUDICATION, "submitted")}],
        }
        for n, item in enumerate(claim.get("item") or [])
    ]
    entries = [{"fullUrl": f"urn:uuid:{cr_id}", "resource": response}]
    if decision is not None and decision.decision == "request_information":
        comm_id = _new_id(urls, case_id, f"CommunicationRequest/{_when(decision.at)}")
        response["communicationRequest"] = [{"reference": f"urn:uuid:{comm_id}"}]
        comm = _communication_request(comm_id, claim, cr_id, decision, missing or [])
        entries.append({"fullUrl": f"urn:uuid:{comm_id}", "resource": comm})
    entries += [{"fullUrl": p["fullUrl"], "resource": p["resource"]} for p in parties if p.get("fullUrl")]
    data = {
        "resourceType": "Bundle",
        "id": _new_id(urls, case_id, f"Bundle/{'inquiry' if inquiry else 'response'}"),
        "meta": {"profile": [pas.inquiry_response_bundle_profile if inquiry else pas.response_bundle_profile]},
        "type": "collection",
        "timestamp": _when(now or datetime.now(UTC)),
        "entry": entries,
    }
    return _validated(data)


def _communication_request(
    rid: str, claim: dict, cr_id: str, decision: PasDecision, missing: list[MissingDocument]
) -> dict:
    """PAS CommunicationRequest: the documentation the reviewer needs, LOINC attachment codes where one fits."""
    pas = knowledge.fhir_config().pas
    payload = []
    for m in missing:
        concept: dict[str, Any] = {"text": m.description}
        if m.id in pas.attachment_codes:
            concept["coding"] = [pas.attachment_codes[m.id].model_dump()]
        # R4's payload.content[x] has no CodeableConcept: PAS carries the LOINC code in R5's, as an extension
        payload.append({"extension": [{"url": pas.payload_content_url, "valueCodeableConcept": concept}],
                        "contentString": m.description})  # fmt: skip
    if not payload:
        payload = [{"contentString": "Additional clinical documentation requested by the reviewer."}]
    return {
        "resourceType": "CommunicationRequest",
        "id": rid,
        "meta": {"profile": [pas.communication_request_profile]},
        "identifier": [{"system": Urls(knowledge.fhir_config()).sid("communication-request"), "value": rid}],
        "status": "active",
        "subject": claim["patient"],
        "about": [{"reference": f"urn:uuid:{cr_id}"}],
        "payload": payload,
        "authoredOn": _when(decision.at),
        "requester": claim["insurer"],
        "recipient": [claim["provider"]],
        "reasonCode": [{"text": "Additional documentation needed to review the prior authorization request"}],
    }


def _validated(data: dict) -> dict:
    try:
        Bundle.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise FhirError(f"PAS response: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    return data


def operation_outcome(diagnostic: str, expression: str | None = None, code: str = "invalid") -> dict:
    """The body of every error on a /fhir route: one issue, the diagnostic naming the problem."""
    issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": diagnostic}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}
