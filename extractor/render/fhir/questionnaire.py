"""The guideline's Questionnaire (Da Vinci DTR shape), generated from the guideline model.

Regenerate the shipped Questionnaire after editing a guideline model: python -m extractor.render.fhir."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date
from typing import Any

from extractor import knowledge
from extractor.knowledge import Guideline
from extractor.schemas import CHECKLIST_STATUSES, COVERED_STATUSES, EXPERIMENTAL_STATUSES

from .common import CPT, REFERENCE_RESOURCE, USAGE_CONTEXT, Urls, fhir_id, status_coding
from .validate import validated

# ---------------------------------------------------------------- Questionnaire


FHIR_DATE = r"\d{4}(-\d{2}(-\d{2})?)?"


def questionnaire(guideline: Guideline) -> dict[str, Any]:
    """The FHIR Questionnaire of one guideline version: one item per indication and per checklist item."""
    cfg = knowledge.fhir_config()
    urls = Urls(cfg)
    names = {"guideline_id": guideline.id, "guideline_version": guideline.version, "guideline_title": guideline.title}

    def options(codes: tuple[str, ...]) -> list[dict]:
        return [{"valueCoding": status_coding(cfg, urls, c)} for c in codes]

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

    return validated(Questionnaire, data)


# ---------------------------------------------------------------- generator


def render_questionnaire(guideline: Guideline) -> str:
    return json.dumps(questionnaire(guideline), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) the shipped Questionnaire of every guideline version under models/."""
    parser = argparse.ArgumentParser(prog="python -m extractor.render.fhir", description=main.__doc__)
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
        print(f"error: {path}: out of date (run python -m extractor.render.fhir)", file=sys.stderr)
    return 1 if stale else 0
