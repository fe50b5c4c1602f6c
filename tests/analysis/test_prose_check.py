"""Model prose is checked like a citation (issue 24 item 4), and model-only findings are verified (item 3).

The bad prose below is what Qwen2.5-Coder-1.5B wrote about this Flask file (issue 24): a dispute
denying pickle beside `pickle.loads`, and "subprocess.run" for a `check_output` call.
"""

from __future__ import annotations

import json
import pytest

from app.analysis import analyze_code, model_check, model_layer, prose_check, sarif
from app.analysis.models import Evidence, Finding, ModelChecks, Report, Risk
from app.analysis.render import summary, to_json, to_text
from tests.analysis.scripted import ScriptedJsonEngine

FLASK = '''from flask import Flask, request
import pickle
import subprocess

app = Flask(__name__)


@app.route("/load", methods=["POST"])
def load():
    return str(pickle.loads(request.data))


@app.route("/ping")
def ping():
    host = request.args.get("host", "")
    return subprocess.check_output("ping -c 1 " + host, shell=True)


@app.route("/calc")
def calc():
    expr = request.args.get("expr", "")
    return str(eval(expr))
'''
LINES = FLASK.splitlines()
PICKLE = next(i for i, ln in enumerate(LINES, 1) if "pickle.loads" in ln)
SHELL = next(i for i, ln in enumerate(LINES, 1) if "check_output" in ln)
EVAL = next(i for i, ln in enumerate(LINES, 1) if "eval(" in ln)

RULE_TEXT = "Request data is deserialised with pickle; a crafted payload runs code while unpickling."


def _finding(line: int, cwe: str, analysis: str = RULE_TEXT) -> Finding:
    return Finding(analysis=analysis, label="critical", confidence=0.95, risk=Risk(cwe_id=cwe),
                   evidence=[Evidence(engine="semgrep", rule_id="r", line=line, end_line=line, snippet=LINES[line - 1])])


def _check(text: str, line: int) -> prose_check.ProseVerdict:
    flagged, near = prose_check.window(FLASK, line)
    return prose_check.check(text, line_text=flagged, nearby_text=near, code=FLASK)


@pytest.mark.parametrize("text,line,kind", [
    ("The code does not use pickle or marshal", PICKLE, "denies-the-line"),
    ("The code uses subprocess.run with shell=True, which allows command injection.", SHELL, "wrong-call"),
    ("There is no shell=True here, so the command is safe.", SHELL, "denies-the-line"),
    ("This is a security vulnerability in the handler that attackers can exploit.", PICKLE, "names-nothing-on-the-line"),
    ("os.system(expr) runs the expression as a shell command.", EVAL, "wrong-call"),
])
def test_bad_prose_from_the_issue_is_rejected(text, line, kind):
    v = _check(text, line)
    assert not v.ok and v.kind == kind, v


@pytest.mark.parametrize("text,line", [
    ("request.data goes straight into pickle.loads, so a crafted pickle runs code on the server.", PICKLE),
    ("host is concatenated into a shell command run by check_output with shell=True; '; rm -rf' runs too.", SHELL),
    ("Use subprocess.run with an argument list instead of shell=True so host cannot add commands.", SHELL),
    ("expr from the query string is passed to eval, which executes arbitrary Python.", EVAL),
])
def test_good_prose_is_accepted(text, line):
    v = _check(text, line)
    assert v.ok, v


def test_a_rejected_explanation_leaves_the_rule_text_and_is_counted():
    checks = ModelChecks()
    f = _finding(PICKLE, "CWE-502")
    model_layer._apply(f, {"verdict": "dispute", "reason": "The code does not use pickle or marshal",
                           "explanation": "", "fixed_lines": ""}, FLASK, checks)
    assert f.model_verdict == "dispute" and "withheld" in f.model_reason and "pickle or marshal" not in f.model_reason
    g = _finding(SHELL, "CWE-78", analysis="rule text for the shell call")
    model_layer._apply(g, {"verdict": "confirm", "reason": "check_output runs host through a shell",
                           "explanation": "The code uses subprocess.run with shell=True, allowing command injection "
                                          "through the argument.", "fixed_lines": ""}, FLASK, checks)
    assert g.analysis == "rule text for the shell call" and g.explanation_by == "rule"
    assert checks.prose_rejected == 2 and checks.prose_shown == 1
    assert {r.kind for r in checks.rejects} == {"denies-the-line", "wrong-call"}
    # a good explanation replaces the rule's text and says who wrote it
    h = _finding(SHELL, "CWE-78", analysis="rule text")
    good = "host is concatenated into a shell command run by check_output with shell=True; '; rm' injects commands."
    model_layer._apply(h, {"verdict": "confirm", "reason": "host reaches check_output with shell=True",
                           "explanation": good, "fixed_lines": ""}, FLASK, checks)
    assert h.analysis == good and h.explanation_by == "model"
    # the counts reach the report's JSON, text and SARIF
    rep = Report(code=FLASK, language="python", filename="app.py", findings=[f, g, h], model_checks=checks).settle()
    assert summary(rep)["model_prose_rejected"] == 2
    assert json.loads(to_json(rep))["summary"]["model_prose_rejected"] == 2
    assert "2 model explanation(s) refused" in to_text(rep)
    props = json.loads(sarif.to_sarif(rep))["runs"][0]["invocations"][0]["properties"]["model_checks"]
    assert props["prose_rejected"] == 2 and props["prose_shown"] == 3


needs_semgrep = pytest.mark.skipif(not model_check.semgrep_available(), reason="semgrep is not on PATH (a core dependency: `pip install semgrep`); the taint check that verifies model findings runs it")


@needs_semgrep
def test_model_only_findings_are_kept_only_when_a_taint_path_reaches_the_cited_sink():
    assert model_check.confirm(FLASK, "python", EVAL, "CWE-95").kept  # eval(expr), expr from the query string
    assert not model_check.confirm(FLASK, "python", EVAL, "CWE-89").kept  # no SQL sink on that line
    assert not model_check.confirm(FLASK, "python", 9, "CWE-502").kept  # a `def` line holds no sink
    const = FLASK.replace('request.args.get("expr", "")', '"1+1"')
    assert not model_check.confirm(const, "python", EVAL, "CWE-95").kept  # a constant reaches eval: no path
    assert not model_check.confirm(FLASK, "python", PICKLE, "CWE-328").kept  # no dataflow check for a weak hash
    # C: a format string from fgets is a path; printf("%s", data) is not a format-string sink
    c = ('#include <stdio.h>\nvoid f(void) {\n    char data[100];\n    fgets(data, 100, stdin);\n'
         '    printf(data);\n    printf("%s", data);\n}\n')
    assert model_check.confirm(c, "c", 5, "CWE-134").kept
    assert not model_check.confirm(c, "c", 6, "CWE-134").kept


@needs_semgrep
def test_review_keeps_a_verified_extra_and_drops_an_unverified_one():
    eng = ScriptedJsonEngine()  # the model's answer is fixed so the checks, not the model, are under test
    eng.answer = {"extra": [{"line": EVAL, "cwe": "CWE-95", "label": "critical",
                             "analysis": "expr from the query string reaches eval and runs as Python."}]}
    found: list[Finding] = []
    run = model_layer.review(FLASK, "python", found, eng)
    assert run.checks.model_findings_kept == 1 and len(found) == 1
    f = found[0]
    assert f.model_only and f.counted and f.label == "high" and f.verified_by.startswith("semgrep-taint(eval")
    eng.answer = {"extra": [{"line": 9, "cwe": "CWE-502", "label": "high", "analysis": "pickle is used here."}]}
    found2: list[Finding] = []
    run2 = model_layer.review(FLASK, "python", found2, eng)
    assert not found2 and run2.checks.model_findings_dropped == 1 and "no CWE-502 sink" in run2.checks.dropped_why[0]


@pytest.mark.slow
def test_real_starter_model_shows_no_explanation_that_contradicts_the_line(chat_engine):
    rep = analyze_code(FLASK, filename="app.py", engine=chat_engine)
    assert any(e.startswith("model:") for e in rep.engines_ran)
    assert {f.risk.cwe_id for f in rep.findings if not f.model_only} >= {"CWE-502", "CWE-78"}  # prose to check
    for f in rep.findings:
        flagged, near = prose_check.window(FLASK, f.line, f.evidence[0].end_line)
        if f.explanation_by == "model":
            assert prose_check.check(f.analysis, line_text=flagged, nearby_text=near, code=FLASK).ok, f.analysis
        if f.model_reason and not f.model_reason.startswith("("):
            assert prose_check.check(f.model_reason, line_text=flagged, nearby_text=near, code=FLASK).ok, f.model_reason
        if f.model_only:  # whatever the model added survived its independent check
            assert f.verified_by
    c = rep.model_checks
    assert c.model_findings_dropped == len(c.dropped_why)
    assert c.model_findings_kept == sum(f.model_only for f in rep.findings)


@pytest.mark.parametrize("hybrid,on", [({"precision": 0.82, "recall": 0.66, "f1": 0.731}, True),
                                       ({"precision": 0.75, "recall": 0.66, "f1": 0.70}, False)])
def test_analyze_says_whether_the_model_layer_runs_and_why(monkeypatch, capsys, hybrid, on):
    """Item 5: the bundle's default follows its measured eval, and `bastion analyze` says which and why."""
    from types import SimpleNamespace

    import app.runtime
    from app.cli import analyze_cmd
    from app.settings import Settings

    metrics = {"analysis": {"static": {"precision": 0.8, "recall": 0.6, "f1": 0.686}, "hybrid": hybrid,
                            "cases": 120, "split": "test"}}
    bundle = SimpleNamespace(manifest=SimpleNamespace(name="b", metrics=metrics))
    monkeypatch.setattr(app.runtime, "open_bundle", lambda settings: bundle)
    monkeypatch.setattr(app.runtime, "make_engine", lambda settings, b: "engine")
    settings = Settings()
    settings.engine.kind = "local"
    settings.analysis.use_model = True
    got = analyze_cmd._engine(settings, None)
    err = capsys.readouterr().err
    assert (got == "engine") is on
    assert ("model layer on" in err and "improves" in err) if on else ("does not improve" in err and "0.700" in err)
