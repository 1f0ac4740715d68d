"""Every knowledge file under models/ loads and validates; the guideline is picked by date."""

import json
from datetime import date

import pytest

from extractor import knowledge
from extractor.errors import KnowledgeError


@pytest.mark.parametrize(
    "name", ["target_rules.json", "documentation_rules.json", "context_rules.json", "section_rules.json"]
)
def test_medspacy_rule_files_load(name):
    path = knowledge.rule_file(name)
    data = json.loads(path.read_text())
    assert next(iter(data.values()))


def test_target_rules_cover_every_spec_concept():
    from medspacy.target_matcher import TargetRule

    rules = TargetRule.from_json(str(knowledge.rule_file("target_rules.json")))
    assert {r.category for r in rules} == set(knowledge.pipeline_config().concepts)


def test_other_knowledge_files_validate():
    assert len(knowledge.pipeline_config().concepts) == 14
    assert {t.id for t in knowledge.document_types().types} >= {"cover_sheet", "office_note", "imaging_report"}
    assert knowledge.request_fields().cpt_codes


def test_guideline_model_has_six_indications_and_checklist():
    g = knowledge.guideline_for(date(2026, 1, 1))
    assert g.id == "NIA_CG_003" and g.version == "2021-02"
    assert [i.id for i in g.indications] == [
        "recurrence_vs_treatment_effect",
        "tumor_vs_nontumor",
        "glioma_grading",
        "epilepsy",
        "neurodegenerative",
        "stroke",
    ]
    assert [d.id for d in g.documentation] == [
        "clinician",
        "office_visit_note",
        "prior_imaging",
        "labs_or_special_testing",
        "alternative_imaging_reason",
    ]


def test_invalid_knowledge_file_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "pipeline.json").write_text('{"version": "1"}')
    monkeypatch.setenv("EXTRACTOR_MODELS_DIR", str(tmp_path))
    knowledge.pipeline_config.cache_clear()
    try:
        with pytest.raises(KnowledgeError, match=r"pipeline\.json: invalid"):
            knowledge.pipeline_config()
    finally:
        monkeypatch.delenv("EXTRACTOR_MODELS_DIR")
        knowledge.pipeline_config.cache_clear()


def test_guideline_versions_are_selected_by_request_date():
    """The reconstructed pre-July-2019 version and the current one; July 2019 - Dec 2021 uses the current one."""
    versions = [g.version for g in knowledge.guidelines()]
    assert versions == ["pre-2019-07", "2021-02"]
    old = knowledge.guideline_for(date(2019, 6, 30))
    assert old.version == "pre-2019-07" and old.assumptions
    assert [i.id for i in old.indications] == [i.id for i in knowledge.guideline_for(date(2026, 1, 1)).indications]
    assert [i.id for i in old.indications if i.not_in_version] == ["tumor_vs_nontumor"]
    assert knowledge.guideline_for(date(2015, 1, 1)).version == "pre-2019-07"
    assert knowledge.guideline_for(date(2019, 7, 1)).version == "2021-02"
    assert knowledge.guideline_for(date(2022, 1, 1)).version == "2021-02"


def test_anatomy_rules_load_through_the_one_loader_and_a_bad_pattern_names_the_file(tmp_path, monkeypatch):
    rules = knowledge.anatomy_rules()
    assert rules.checks and {c.require for c in rules.checks} <= {"brain", "not_elsewhere", "craniotomy"}
    (tmp_path / "anatomy_rules.json").write_text('{"brain": "(brain", "elsewhere": "lung", "checks": []}')
    monkeypatch.setenv("EXTRACTOR_MODELS_DIR", str(tmp_path))
    knowledge.anatomy_rules.cache_clear()
    try:
        with pytest.raises(KnowledgeError, match=r"anatomy_rules\.json: invalid"):
            knowledge.anatomy_rules()
    finally:
        monkeypatch.delenv("EXTRACTOR_MODELS_DIR")
        knowledge.anatomy_rules.cache_clear()
