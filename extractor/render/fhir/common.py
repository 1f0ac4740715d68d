"""What the FHIR writers share: codes, document metadata, ids and canonical URLs from models/fhir.json."""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from extractor.knowledge import FhirConfig

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
        return DocumentMeta(content_type=content_type(Path(path).name))
    return DocumentMeta(content_type=content_type(Path(path).name), size=len(data), sha1=hashlib.sha1(data).hexdigest())


def content_type(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "text/plain"


class Urls:
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


def status_coding(cfg: FhirConfig, urls: Urls, code: str) -> dict[str, str]:
    return {"system": urls.cs("review-status"), "code": code, "display": cfg.status_display[code]}


def walk_items(items: list[dict]) -> Iterator[dict]:
    for item in items:
        yield item
        yield from walk_items(item.get("item", []))
