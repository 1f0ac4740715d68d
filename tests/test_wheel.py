"""The installed wheel works outside the repo: models/ ships inside it and is found there."""

import json
import subprocess
import sys

from tests.helpers import SAMPLES


def test_wheel_runs_outside_the_repo(tmp_path, installed_wheel):
    target = installed_wheel
    assert (target / "extractor" / "models" / "guidelines").is_dir()
    note = next(SAMPLES.glob("c01_*/office_note.txt"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import extractor.knowledge as k;"
        "assert str(k.models_dir()).startswith(sys.argv[1]), k.models_dir();"
        "from extractor.cli import main; sys.exit(main(['prefill', sys.argv[2]]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(target), str(note)], cwd=elsewhere, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["guideline"]["id"] == "NIA_CG_003"
    fhir_code = code.replace("sys.argv[2]]", "sys.argv[2], '--format', 'fhir']")
    fhir_out = subprocess.run(
        [sys.executable, "-c", fhir_code, str(target), str(note)],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert fhir_out.returncode == 0, fhir_out.stderr
    entries = [e["resource"]["resourceType"] for e in json.loads(fhir_out.stdout)["entry"]]
    assert entries[0] == "QuestionnaireResponse"
    assert "Questionnaire" in entries
