"""FHIR R4 output (HL7 Da Vinci DTR shape): the guideline's Questionnaire and a prefilled QuestionnaireResponse.

Built and validated with fhir.resources' R4B models (FHIR 4.3.0; the library's pydantic-2 line ships R5,
R4B and STU3 but no 4.0.1 package). Questionnaire, QuestionnaireResponse, DocumentReference and Bundle are
the same in R4 and R4B for every element written here, so the output is R4 JSON. fhir.resources checks
structure, cardinality and primitive formats but not code bindings, so `validate` adds the required
bindings we use, the QuestionnaireResponse's conformance to its Questionnaire, ext-1 and reference
resolution. Names, codes and the canonical base live in models/fhir.json.

Regenerate the shipped Questionnaire after editing a guideline model: `python -m extractor.render.fhir`.
"""

from .bundle import bundle
from .common import DocumentMeta, document_meta_from_file, fhir_id
from .pas import claim_response_bundle, operation_outcome
from .pas_request import covered_cpt_codes, parse_inquiry, parse_submit
from .questionnaire import main, questionnaire, render_questionnaire
from .validate import validate

__all__ = [
    "DocumentMeta",
    "bundle",
    "claim_response_bundle",
    "covered_cpt_codes",
    "document_meta_from_file",
    "fhir_id",
    "main",
    "operation_outcome",
    "parse_inquiry",
    "parse_submit",
    "questionnaire",
    "render_questionnaire",
    "validate",
]
