"""Renderers: SARIF 2.1.0 loads in sarif-tools with CWE tags and fixes; text/markdown/JSON say who said what."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sarif import loader

from app.analysis import Report, to_json, to_markdown, to_sarif, to_text
from app.analysis.models import Evidence, Finding, Fix, Risk
from app.analysis.verify import unified_diff

CODE = "import os\nos.system('ls ' + name)\n"
PATCH = "import subprocess\nsubprocess.run(['ls', name])\n"


def _report() -> Report:
    f = Finding(
        analysis="Shell command from a variable.", label="critical",
        risk=Risk(cwe_id="CWE-78", cwe_name="OS Command Injection", why="name=x;id runs id"),
        fix=Fix(hint="use a list", code=PATCH, diff=unified_diff(CODE, PATCH), verified=False,
                notes=["still triggers x"], author="model"),
        evidence=[Evidence(engine="semgrep", rule_id="py-os-command-from-string", line=2, end_line=2,
                           snippet="os.system('ls ' + name)", message="msg")],
        source="both", confidence=0.95, model_verdict="confirm", model_reason="user input reaches the shell",
        explanation_by="model",
    )
    extra = Finding(analysis="maybe weak", label="low", risk=Risk(cwe_id="CWE-330"), source="model", confidence=0.4,
                    evidence=[Evidence(engine="model", rule_id="model", line=1)])
    skipped = Report(code="", language="unknown", filename="blob.bin", status="skipped", notes=["skipped: binary file"])
    return [Report(code=CODE, language="python", filename="app/run.py", findings=[f, extra],
                   engines_ran=["semgrep", "bandit", "model:x"]).settle(), skipped.settle()]


def test_sarif_loads_in_sarif_tools_with_cwe_tags_and_fixes(tmp_path):
    reports = _report()
    path = tmp_path / "out.sarif"
    path.write_text(to_sarif(reports))
    sf = loader.load_sarif_file(str(path))
    assert sf.get_result_count() == 2
    rec = sf.get_records()[0]
    assert rec["Tool"] == "Bastion" and rec["Line"] == 2 and rec["Location"] == "app/run.py"
    data = json.loads(path.read_text())
    assert data["version"] == "2.1.0"
    run = data["runs"][0]
    rule = run["tool"]["driver"]["rules"][0]
    assert "external/cwe/cwe-78" in rule["properties"]["tags"]
    res = run["results"][0]
    rep = res["fixes"][0]["artifactChanges"][0]["replacements"]
    assert rep and "subprocess.run" in "".join(r["insertedContent"]["text"] for r in rep)
    assert "NOT verified" in res["fixes"][0]["description"]["text"]
    assert res["properties"]["model_verdict"] == "confirm"
    # the sarif CLI (a real consumer) reads it too
    out = subprocess.run([str(Path(sys.executable).parent / "sarif"), "summary", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "py-os-command-from-string" in out.stdout


def test_low_confidence_model_finding_does_not_move_the_label():
    rep = _report()[0]
    assert rep.label == "critical"
    solo = Report(code=CODE, language="python", findings=[rep.findings[1]], engines_ran=["semgrep"]).settle()
    assert solo.label == "safe" and "low-confidence model-only" in solo.safe_reason


def test_text_and_markdown_are_honest_about_sources():
    reps = _report()
    text = to_text(reps)
    assert "NOT VERIFIED" in text and "explained by the model" in text and "SKIPPED" in text
    md = to_markdown(reps)
    assert "**not verified**" in md and "(by the model)" in md and "```diff" in md


def test_json_round_trips():
    reps = _report()
    doc = json.loads(to_json(reps))
    back = [Report.model_validate(r) for r in doc["reports"]]
    assert back[0].findings[0].risk.cwe_id == "CWE-78" and back[1].label is None
    assert doc["summary"]["worst"] == "critical" and doc["summary"]["skipped"] == 1
