"""The one loader of clinical knowledge under models/, validated by pydantic and read once per process."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, field_validator

from extractor.config import get_settings
from extractor.errors import KnowledgeError

T = TypeVar("T", bound=BaseModel)
Flag = Literal["negated", "historical", "hypothetical", "family", "uncertain"]


def models_dir() -> Path:
    """models/ ships inside the wheel as extractor/models; in a checkout it is the top-level folder."""
    configured = get_settings().models_dir
    if configured:
        return configured
    packaged = Path(__file__).parent / "models"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "models"


class ConceptCheck(BaseModel):
    concepts: list[str]
    exclude: list[Flag] = []


class Criterion(BaseModel):
    id: str
    description: str
    any_of: list[ConceptCheck]


class StatusRule(BaseModel):
    min_met: int
    required: list[str] = []


class Indication(BaseModel):
    id: str
    kind: Literal["covered", "experimental"]
    title: str
    text: str
    criteria: list[Criterion] = Field(min_length=1)
    supported_when: StatusRule | None = None
    partial_when: StatusRule | None = None
    guideline_quote: list[str] = []
    """Verbatim sentences of the guideline the drafted rationale quotes (experimental ones: BACKGROUND)."""
    # Set in a guideline version that lacks this indication: it is then reported not_found with this
    # reason, so every review still lists all six indication ids (SPEC).
    not_in_version: str | None = None


class RecommendationRule(BaseModel):
    recommendation: str
    when_any: dict[str, str]


class DocumentationItem(BaseModel):
    id: str
    text: str
    method: Literal["named_clinician", "recent_office_note", "mentions", "alternative_imaging_reason"]
    document_types: list[str] = []
    labels: list[str] = []
    # a document of those types counts only when it carries one of `labels` (a knee MRI report names no head imaging)
    document_needs_label: bool = False


class Guideline(BaseModel):
    id: str
    version: str
    title: str
    publisher: str
    cpt_codes: list[str]
    last_revised: str
    effective_from: date
    effective_to: date | None = None
    source: str
    background_statement: str
    assumptions: list[str] = []
    office_note_max_age_days: int = 90
    indications: list[Indication]
    recommendation_rules: list[RecommendationRule]
    default_recommendation: str
    documentation: list[DocumentationItem]

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


class DocumentType(BaseModel):
    id: str
    label: str
    min_score: int
    patterns: list[tuple[str, int]]
    titles: list[str] = []  # a line near the top of a page matching one (whole line) starts a new document

    @field_validator("titles")
    @classmethod
    def _titles_compile(cls, value: list[str]) -> list[str]:
        for pattern in value:
            re.compile(pattern)
        return value

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, value: list[tuple[str, int]]) -> list[tuple[str, int]]:
        for pattern, _ in value:
            re.compile(pattern)
        return value


class DocumentTypes(BaseModel):
    version: str
    types: list[DocumentType]


class RequestFields(BaseModel):
    version: str
    patient_name: list[str]
    date_of_birth: list[str]
    member_id: list[str]
    ordering_clinician: list[str]
    clinician: list[str]
    request_date: list[str]
    document_date: list[str]
    cpt_codes: list[str]
    urgent: list[str] = []  # a cover sheet's URGENT / EXPEDITED / STAT stamp, field or sentence
    urgent_box: list[str] = []  # a checkbox ([ ], [X], an OCR'd [X|), a checked one, and an urgent label
    fax_received: list[str] = []  # a fax header's transmission time (groups "date", "time", "ampm", "tz")

    @field_validator("*")
    @classmethod
    def _compiles(cls, value: object) -> object:
        if isinstance(value, list):
            for pattern in value:
                re.compile(pattern)
        return value


class PipelineConfig(BaseModel):
    version: str
    concepts: list[str] = Field(min_length=14)
    documentation_labels: list[str]
    section_attributes: dict[str, dict[str, bool]]
    non_evidence_sections: list[str]
    context_max_scope: int | None = None
    context_terminating_types: dict[str, list[str]] = {}
    context_excluded_types: dict[str, list[str]] = {}
    context_inner_cue_categories: list[str] = []
    old_document_days: int | None = None
    recent_days: int = 90
    old_document_historical: list[str] = []
    chunk_chars: int = Field(ge=1000)
    sentence_abbreviations: list[str]


class TargetRuleData(BaseModel):
    literal: str
    category: str
    pattern: str | list[dict] | None = None


class TargetRuleFile(BaseModel):
    target_rules: list[TargetRuleData]


class ContextRuleData(BaseModel, extra="allow"):
    literal: str
    category: str
    direction: Literal["FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"]


class ContextRuleFile(BaseModel):
    context_rules: list[ContextRuleData]


class SectionRuleData(BaseModel, extra="allow"):
    literal: str
    category: str


class SectionRuleFile(BaseModel):
    section_rules: list[SectionRuleData]


_RATIONALE_FIELDS: dict[str, set[str]] = {
    "guideline_ref": {"guideline_id", "guideline_version"},
    "quote": {"text", "document", "page", "flags"},
    "flags": {"flags"},
    "criterion": {"criterion", "quotes"},
    "supported": {"indication", "guideline_ref", "evidence"},
    "experimental": {"topics", "evidence", "guideline_ref", "statement"},
    "no_covered": {"guideline_ref"},
    "partial": {"indication", "found", "missing"},
    "change_partial": {"items"},
    "change_item": {"missing", "indication"},
    "change_none": {"guideline_ref", "indications"},
    "checklist_missing": {"items"},
    "closing": set(),
    "unreadable_pages": {"pages"},
}


class RationaleTemplates(BaseModel):
    """Wording of the drafted rationale: str.format templates, each limited to its own placeholders."""

    version: str
    guideline_ref: str
    quote: str
    flags: str
    criterion: str
    supported: str
    experimental: str
    no_covered: str
    partial: str
    change_partial: str
    change_item: str
    change_none: str
    checklist_missing: str
    closing: str
    unreadable_pages: str = "Pages {pages} could not be read (OCR noise); nothing in this draft rests on them."

    @field_validator("*")
    @classmethod
    def _known_placeholders(cls, value: str, info) -> str:
        allowed = _RATIONALE_FIELDS.get(info.field_name)
        if allowed is not None:
            used = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
            if used - allowed:
                raise ValueError(f"{info.field_name}: unknown placeholder(s) {sorted(used - allowed)}")
        return value


class Coding(BaseModel):
    system: str
    code: str
    display: str


class InformationOrigin(BaseModel):
    url: str
    source: str
    override: str


class DtrConfig(BaseModel):
    """DTR 2.2 extensions the QuestionnaireResponse carries (qr-coverage, intendedUse) and its profile."""

    qr_coverage_url: str
    intended_use_url: str
    intended_use: Coding
    questionnaire_response_profile: str


class PasConfig(BaseModel):
    """Da Vinci PAS 2.2.1 profiles, extensions, answer codes; `attachment_codes`: checklist item -> LOINC."""

    claim_response_profile: str
    inquiry_response_profile: str
    response_bundle_profile: str
    inquiry_response_bundle_profile: str
    communication_request_profile: str
    payload_content_url: str  # R5's payload.contentCodeableConcept, as PAS carries it on R4
    review_action_url: str
    review_action_code_url: str
    reviewer_url: str
    review_action_system: str
    review_actions: dict[Literal["A1", "A4"], str]
    cpt_system: str
    npi_system: str
    content_types: list[str]
    attachment_codes: dict[str, Coding] = {}


class FhirConfig(BaseModel):
    """Canonical base, wording and codes of the FHIR output (see extractor.fhir)."""

    version: str
    fhir_version: str
    canonical_base: str = Field(pattern=r"^https?://\S+[^/]$")
    questionnaire_file: str
    groups: dict[Literal["indications", "documentation", "summary"], str]
    items: dict[Literal["recommendation", "rationale", "source_documents"], str]
    status_display: dict[str, str]
    recommendation_display: dict[str, str]
    document_types: dict[str, Coding] = {}
    information_origin: InformationOrigin
    dtr: DtrConfig
    pas: PasConfig


def _compiled(value: str | None) -> str | None:
    if value:
        re.compile(value)
    return value


class AnatomyCheck(BaseModel):
    concepts: list[str]
    text: str  # the entity texts (full match, any case) that need the check
    require: Literal["brain", "not_elsewhere", "craniotomy"]  # craniotomy: nearest operation word decides
    keep_family: bool = False  # a relative's lung infection is a family INFECTION (SPEC's is not CNS-only)
    why: str = ""

    _text = field_validator("text")(classmethod(lambda cls, v: _compiled(v)))


class NotMentionRule(BaseModel):
    concepts: list[str]
    text: str
    before: str | None = None
    after: str | None = None
    keep_family: bool = False  # a relative's urinary tract infection is still a family INFECTION
    why: str = ""

    _patterns = field_validator("text", "before", "after")(classmethod(lambda cls, v: _compiled(v)))


class AnatomyRules(BaseModel):
    """models/anatomy_rules.json: what a bare word ("mass", "biopsy") is about (see nlp/anatomy.py)."""

    description: str = ""
    window_sentences: int = 2
    brain: str
    elsewhere: str
    limbs: str = ""  # where a symptom is felt: another organ's word only in the entity's own sentence
    origin: str = ""  # what before an organ word makes it a tumour's origin ("metastasis from breast")
    anchor_concepts: list[str] = []  # concepts whose unchecked mentions place a bare word in the brain (all if empty)
    checks: list[AnatomyCheck]
    not_mentions: list[NotMentionRule] = []
    craniotomy: str = ""  # a skull opening's words ("bone flap") and a shunt's or drain's: the nearer says
    csf_diversion: str = ""  # whose a "burr hole" is

    _patterns = field_validator("brain", "elsewhere", "limbs", "origin", "craniotomy", "csf_diversion")(_compiled)


def _load(name: str, model: type[BaseModel]) -> BaseModel:
    path = models_dir() / name
    try:
        return model.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise KnowledgeError(f"{path}: knowledge file is missing") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise KnowledgeError(f"{path}: invalid ({where}: {err['msg']})") from None
    except (json.JSONDecodeError, re.error) as exc:
        first = str(exc).splitlines()[0]
        raise KnowledgeError(f"{path}: invalid ({first})") from None


def _loader(name: str, model: type[T]) -> Callable[[], T]:
    """One loader per knowledge file, cached: read and validated once per process (`.cache_clear()` rereads)."""
    return lru_cache(maxsize=1)(lambda: _load(name, model))  # type: ignore[return-value]


pipeline_config = _loader("pipeline.json", PipelineConfig)
anatomy_rules = _loader("anatomy_rules.json", AnatomyRules)
document_types = _loader("document_types.json", DocumentTypes)
request_fields = _loader("request_fields.json", RequestFields)
rationale_templates = _loader("rationale.json", RationaleTemplates)
fhir_config = _loader("fhir.json", FhirConfig)


def questionnaire_path(guideline_id: str, version: str) -> Path:
    name = fhir_config().questionnaire_file.format(guideline_id=guideline_id, guideline_version=version)
    return models_dir() / name


@lru_cache(maxsize=8)
def questionnaire(guideline_id: str, version: str) -> dict:
    """The shipped FHIR Questionnaire of one guideline version, validated as an R4(B) Questionnaire."""
    from fhir.resources.R4B.questionnaire import Questionnaire

    path = questionnaire_path(guideline_id, version)
    rel = path.relative_to(models_dir()).as_posix()
    data = _load(rel, Questionnaire).model_dump(mode="json", by_alias=True, exclude_none=True)
    if data.get("version") != version:
        raise KnowledgeError(f"{path}: version {data.get('version')!r} is not guideline version {version!r}")
    return data


def rule_file(name: str) -> Path:
    """Validate a medspaCy rule file and return its path for the medspaCy loaders."""
    model = {"target": TargetRuleFile, "context": ContextRuleFile, "section": SectionRuleFile}
    kind = name.split("_")[0] if not name.startswith("documentation") else "target"
    _load(name, model[kind])
    return models_dir() / name


@lru_cache(maxsize=1)
def guidelines() -> tuple[Guideline, ...]:
    folder = models_dir() / "guidelines"
    files = sorted(folder.glob("*.json"))
    if not files:
        raise KnowledgeError(f"{folder}: no guideline files")
    loaded = tuple(_load(f"guidelines/{f.name}", Guideline) for f in files)
    return tuple(sorted(loaded, key=lambda g: g.effective_from))  # type: ignore[arg-type,return-value]


def guideline_for(on: date, guideline_id: str = "NIA_CG_003") -> Guideline:
    """The version in force on a request date; before the first version, the earliest one."""
    versions = [g for g in guidelines() if g.id == guideline_id]
    if not versions:
        raise KnowledgeError(f"no guideline {guideline_id} under {models_dir() / 'guidelines'}")
    for g in reversed(versions):
        if g.in_force(on):
            return g
    return versions[0] if on < versions[0].effective_from else versions[-1]


class OcrVocabularyFile(BaseModel):
    version: str
    description: str = ""
    derive_from: list[str] = []
    words: list[str] = Field(min_length=1)
    common_words: list[str] = []  # everyday words: a page with few dictionary words reads as noise
    misreads: dict[str, str] = {}  # an abbreviation as OCR misreads it -> the abbreviation (same length)
    confusable: dict[str, str] = {}  # a character OCR reads for another in a code ("T" for "7"): their pairs

    @field_validator("misreads")
    @classmethod
    def _same_length(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k, v in value.items() if len(k) != len(v)]
        if bad:
            raise ValueError(f"misreads must keep the length (offsets stay valid): {bad}")
        return {k.lower(): v for k, v in value.items()}


def _rule_words(node: object) -> set[str]:
    """Alphabetic words of 5+ letters in any `literal` or `pattern` string of a rule file."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("literal", "pattern") and isinstance(value, str):
                text = re.sub(r"\\[a-zA-Z]", " ", value.lower())
                for m in re.finditer(r"[a-z]+", text):
                    before, after = text[m.start() - 1 : m.start()], text[m.end() : m.end() + 1]
                    if len(m.group()) >= 5 and before not in (")", "]", "?", ":", "|") and after not in ("[", "("):
                        found.add(m.group())
            else:
                found |= _rule_words(value)
    elif isinstance(node, list):
        for item in node:
            found |= _rule_words(item)
    return found


@lru_cache(maxsize=1)
def ocr_misreads() -> dict[str, str]:
    """Abbreviations as OCR misreads them ("sip" for "s/p"), restored in OCR'd documents (ocr_clean.py)."""
    data: OcrVocabularyFile = _load("ocr_vocabulary.json", OcrVocabularyFile)  # type: ignore[assignment]
    return dict(data.misreads)


@lru_cache(maxsize=1)
def ocr_confusable() -> dict[str, str]:
    """Characters OCR confuses inside a code, both ways ("7" and "T", "0" and "O"): a CPT code of a guideline
    misread at one of them is restored in OCR'd documents (ocr_clean.py)."""
    data: OcrVocabularyFile = _load("ocr_vocabulary.json", OcrVocabularyFile)  # type: ignore[assignment]
    pairs = dict(data.confusable)
    return pairs | {v: k for k, v in pairs.items()}


@lru_cache(maxsize=1)
def ocr_common_words() -> frozenset[str]:
    """Everyday English of models/ocr_vocabulary.json: with the repair words, the dictionary a page's OCR
    text is checked against before its words are trusted (orientation.is_noise)."""
    data: OcrVocabularyFile = _load("ocr_vocabulary.json", OcrVocabularyFile)  # type: ignore[assignment]
    return frozenset(w.lower() for w in data.common_words)


@lru_cache(maxsize=1)
def ocr_vocabulary() -> tuple[frozenset[str], frozenset[str]]:
    """Lower-case words OCR repair may restore: (curated words of models/ocr_vocabulary.json, those plus the
    5+ letter words of the rule files). Split words are joined only into curated words; a misread digit
    inside a word is repaired into any of them."""
    data: OcrVocabularyFile = _load("ocr_vocabulary.json", OcrVocabularyFile)  # type: ignore[assignment]
    curated = frozenset(w.lower() for w in data.words)
    words = set(curated)
    for name in data.derive_from:
        try:
            words |= _rule_words(json.loads((models_dir() / name).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue
    return curated, frozenset(words)
