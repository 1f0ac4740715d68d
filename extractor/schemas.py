"""Pydantic schemas of the review: the JSON contract of SPEC.md (schema_version "1")."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field

SCHEMA_VERSION = "1"

Flag = Literal["negated", "historical", "hypothetical", "family", "uncertain"]
Recommendation = Literal["likely_meets_criteria", "experimental_investigational", "needs_clinical_review"]
CoveredStatus = Literal["supported", "partial", "not_found"]
ExperimentalStatus = Literal["present", "not_found"]
Status = Literal["supported", "partial", "not_found", "present"]
ChecklistStatus = Literal["present", "missing"]
Role = Literal["intake", "reviewer", "admin"]
CaseStatus = Literal["queued", "processing", "ready", "failed"]
DecisionOutcome = Literal["approve", "refer_to_physician", "request_information"]

FLAGS: tuple[Flag, ...] = get_args(Flag)
RECOMMENDATIONS: tuple[Recommendation, ...] = get_args(Recommendation)
COVERED_STATUSES: tuple[CoveredStatus, ...] = get_args(CoveredStatus)
EXPERIMENTAL_STATUSES: tuple[ExperimentalStatus, ...] = get_args(ExperimentalStatus)
STATUSES: tuple[Status, ...] = get_args(Status)
CHECKLIST_STATUSES: tuple[ChecklistStatus, ...] = get_args(ChecklistStatus)
ROLES: tuple[Role, ...] = get_args(Role)
CASE_STATUSES: tuple[CaseStatus, ...] = get_args(CaseStatus)
DECISIONS: tuple[DecisionOutcome, ...] = get_args(DecisionOutcome)


class Finding(BaseModel):
    concept: str
    text: str
    document: str
    page: int
    start: int
    end: int
    bbox: list[float] | None = None
    section: str | None = None
    sentence: str
    negated: bool = False
    historical: bool = False
    hypothetical: bool = False
    family: bool = False
    uncertain: bool = False
    # the date a date cue made the finding historical by ("in 02/2026"), kept out of the review JSON
    dated: str | None = Field(default=None, exclude=True)

    def flags(self) -> list[str]:
        return [f for f in FLAGS if getattr(self, f)]


class CriterionResult(BaseModel):
    id: str
    description: str
    met: bool
    strength: float


class IndicationResult(BaseModel):
    id: str
    kind: Literal["covered", "experimental"]
    title: str
    status: Status
    score: float = Field(ge=0, le=1)
    evidence: list[Finding] = []
    missing: list[str] = []
    criteria: list[CriterionResult] = []


class Evidence(BaseModel):
    """Documentation evidence: a quoted span of a document, or the document itself."""

    document: str
    page: int | None = None
    start: int | None = None
    end: int | None = None
    bbox: list[float] | None = None
    text: str
    kind: str = "mention"


class DocumentationResult(BaseModel):
    id: str
    status: ChecklistStatus
    description: str
    evidence: list[Evidence] = []


class RequestDetails(BaseModel):
    cpt_codes: list[str] = []
    patient_name: str | None = None
    date_of_birth: str | None = None
    member_id: str | None = None
    ordering_clinician: str | None = None
    clinicians: list[str] = []
    request_date: str
    request_date_source: Literal["given", "documents", "today"]
    document_dates: dict[str, str] = {}
    # the request clock (SPEC "Request clock"); received_at is ISO 8601 UTC with "Z"
    urgency: Literal["expedited", "standard"] = "standard"
    urgency_source: Literal["given", "documents", "default"] = "default"
    received_at: str | None = None
    received_at_source: Literal["given", "documents", "upload"] | None = None


class GuidelineRef(BaseModel):
    id: str
    version: str
    title: str
    last_revised: str
    effective_from: str
    effective_to: str | None = None
    cpt_codes: list[str]


class DocumentInfo(BaseModel):
    name: str
    sha256: str | None = None
    pages: int = 0
    ocr_pages: list[int] = []
    type: str | None = None
    error: str | None = None
    warnings: list[str] = []
    source: str | None = None  # the file this document came from ("fax.pdf" for part "fax.pdf#2")
    first_page: int = 1  # its first page's number in that file; findings' `page` counts in the file
    ocr_confidence: dict[int, float] = {}  # mean Tesseract word confidence (0-100) per OCR'd page
    page_rotation: dict[int, int] = {}  # pages read turned (degrees clockwise): fed upside down or sideways
    noise_pages: list[int] = []  # OCR'd pages that read as noise: no findings come from them


class Review(BaseModel):
    schema_version: Literal["1"] = SCHEMA_VERSION
    pipeline_version: str
    guideline: GuidelineRef
    recommendation: Recommendation
    indications: list[IndicationResult]
    findings: list[Finding]
    documentation: list[DocumentationResult]
    request: RequestDetails
    rationale: str
    documents: list[DocumentInfo]


class PasDocument(BaseModel):
    """One clinical document of a PAS request, decoded from its inline attachment."""

    name: str
    content_type: str
    data: bytes


class PasSubmission(BaseModel):
    """What `Claim/$submit` (or `$inquire`) needs of a PAS request Bundle, validated."""

    claim_system: str = ""
    claim_value: str
    member_id: str | None = None
    provider: str | None = None
    priority: str | None = None
    cpt_codes: list[str] = []
    documents: list[PasDocument] = []
    claim: dict = {}  # the Claim as received
    parties: list[dict] = []  # the Bundle entries the Claim's patient, provider and insurer point at
