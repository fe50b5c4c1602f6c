"""Real Semgrep + Bandit runs: every language has a vulnerable and a safe case; every report is schema-valid."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from app.analysis import analyze_code, report_schema, to_json
from app.analysis.analyzer import analyze_files

from .cases import CASES

pytestmark = pytest.mark.slow  # one Semgrep batch (~10 s)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """All language cases analysed in one batch (one Semgrep and one Bandit run)."""
    root = tmp_path_factory.mktemp("cases")
    files = []
    for lang, items in CASES.items():
        for name, code, _ in items:
            p = root / name
            p.write_text(code)
            files.append(p)
    reps = analyze_files(files, use_model=False)
    return {Path(r.filename).name: r for r in reps}


@pytest.mark.parametrize("lang", sorted(CASES))
def test_vulnerable_case_found_with_cwe(reports, lang):
    name, _code, cwe = next(c for c in CASES[lang] if c[2])
    rep = reports[name]
    assert rep.status == "analysed" and rep.language == lang
    assert rep.label not in (None, "safe"), rep.findings
    assert rep.top_cwe == cwe
    f = rep.findings[0]
    assert f.source == "static" and f.evidence and f.evidence[0].engine in ("semgrep", "bandit")
    assert f.fix.hint and f.risk.cwe_name and f.confidence >= 0.5
    assert f.line >= 1 and f.evidence[0].snippet


@pytest.mark.parametrize("lang", sorted(CASES))
def test_safe_case_is_safe_with_reason(reports, lang):
    name, _code, _ = next(c for c in CASES[lang] if c[2] is None)
    rep = reports[name]
    assert rep.label == "safe", [(f.rule_id, f.line) for f in rep.findings]
    assert rep.safe_reason and "semgrep" in rep.safe_reason


def test_every_report_validates_against_the_schema(reports):
    schema = report_schema()
    doc = json.loads(to_json(list(reports.values())))
    assert doc["summary"]["files"] == len(reports)
    for rep in reports.values():
        jsonschema.validate(rep.model_dump(mode="json"), schema)
    for f in doc["findings"]:  # the slim JSON: where and what at the top level
        assert {"file", "line", "cwe", "label", "context", "fix"} <= set(f)


def test_python_runs_both_engines_and_merges_evidence(reports):
    rep = reports["orders_vuln.py"]
    assert rep.engines_ran[:2] == ["semgrep", "bandit"]
    engines = {e.engine for e in rep.findings[0].evidence}
    assert engines == {"semgrep", "bandit"}  # one finding, corroborated by both


def test_analyze_code_single_snippet_language_override():
    rep = analyze_code("x = eval(input())\n", language="py", use_model=False)
    assert rep.language == "python" and rep.top_cwe == "CWE-95"
    assert rep.timings["static_semgrep"] > 0
