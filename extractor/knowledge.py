"""The one loader of clinical knowledge under models/, validated by pydantic and read once per process."""

from __future__ import annotations

import json
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from .config import get_settings
from .errors import KnowledgeError

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


def _load(name: str, model: type[BaseModel]) -> BaseModel:
    path = models_dir() / name
    try:
        return model.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise KnowledgeError(f"{path}: knowledge file is missing") from None
    except (json.JSONDecodeError, ValidationError, re.error) as exc:
        first = str(exc).splitlines()[0]
        raise KnowledgeError(f"{path}: invalid ({first})") from None


@lru_cache(maxsize=1)
def pipeline_config() -> PipelineConfig:
    return _load("pipeline.json", PipelineConfig)  # type: ignore[return-value]


@lru_cache(maxsize=1)
def document_types() -> DocumentTypes:
    return _load("document_types.json", DocumentTypes)  # type: ignore[return-value]


@lru_cache(maxsize=1)
def request_fields() -> RequestFields:
    return _load("request_fields.json", RequestFields)  # type: ignore[return-value]


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
