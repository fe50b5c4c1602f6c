"""Analysis you can trust: verdict integrity, honest coverage, "verified" means correct, untrusted-code mode.

Static scans here run the real Semgrep and Bandit; the model is a scripted stand-in engine (the
model layer's own logic is what is under test, not a model's mood).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.analysis import analyze_code, analyze_path, model_layer, quality
from app.analysis.analyzer import analyze_files
from app.analysis.models import Evidence, Finding, Risk
from app.analysis.policy import decide
from tests.analysis.scripted import ScriptedJsonEngine

BASTION = str(Path(sys.executable).parent / "bastion")
SQLI = '''import sqlite3


def find(conn, name):
    query = "SELECT * FROM users WHERE name = '%s'" % name
    return conn.execute(query).fetchall()
'''
SQLI_NOSEC = '''import sqlite3


def find(conn, name):
    return conn.execute("SELECT * FROM users WHERE name = '" + name + "'").fetchall()  # nosec nosemgrep
'''
RUST = '''use std::process::Command;

fn main() {
    let mut args = std::env::args();
    let host = args.nth(1).unwrap();
    let out = Command::new("sh").arg("-c").arg(format!("ping {}", host)).output().unwrap();
    println!("{:?}", out);
}
'''


ScriptedEngine = ScriptedJsonEngine  # answers the model layer with a fixed JSON object


def _run(args, cwd=None, **kw):
    return subprocess.run([BASTION, "analyze", *args], capture_output=True, text=True, timeout=300, cwd=cwd,
                          env=dict(os.environ), **kw)


# -- honest coverage ---------------------------------------------------------------------


def test_rust_and_unknown_files_are_unsupported_never_safe(tmp_path):
    rs = tmp_path / "main.rs"
    rs.write_text(RUST)
    [rep] = analyze_path(rs, use_model=False)
    assert rep.status == "unsupported" and rep.label is None and "NOT a safe verdict" in rep.notes[0]
    snippet = analyze_code(RUST, use_model=False)  # by content: not mistaken for C++
    assert snippet.status == "unsupported" and snippet.label is None and snippet.language == "rust"
    odd = tmp_path / "notes.xyz"
    odd.write_text("just some words here\n")
    [rep] = analyze_path(odd, use_model=False)
    assert rep.status == "unsupported" and rep.label is None
    script = tmp_path / "deploy"
    script.write_text("#!/usr/bin/env ruby\nsystem(ARGV[0])\n")
    (tmp_path / "ok.py").write_text("x = 1\n")
    reps = {Path(r.filename).name: r for r in analyze_path(tmp_path, use_model=False)}
    assert reps["main.rs"].status == "unsupported" and reps["deploy"].status == "unsupported"
    assert reps["ok.py"].status == "analysed" and reps["ok.py"].engines_ran == ["semgrep", "bandit"]


def test_env_folder_is_scanned_and_a_real_virtualenv_is_skipped_by_its_marker(tmp_path):
    (tmp_path / "config" / "env").mkdir(parents=True)
    (tmp_path / "config" / "env" / "all.js").write_text(
        'module.exports = { cookieSecret: "s3cr3t-Xq9v7Lk2Pz", port: 4000 };\n')
    venv = tmp_path / "sandbox"
    (venv / "lib").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / "lib" / "x.py").write_text("import os\nos.system('a' + input())\n")
    reps = analyze_path(tmp_path, use_model=False)
    by = {Path(r.filename).name: r for r in reps}
    assert by["all.js"].status == "analysed" and by["all.js"].label in ("high", "critical")
    assert by["all.js"].findings[0].risk.cwe_id == "CWE-798"
    assert by["sandbox"].status == "skipped" and "pyvenv.cfg" in by["sandbox"].notes[0]
    assert "x.py" not in by


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_tracked_files_are_scanned_whatever_gitignore_says(tmp_path):
    repo = tmp_path / "repo"
    (repo / "vendor").mkdir(parents=True)
    (repo / "vendor" / "db.py").write_text(SQLI)
    (repo / "build").mkdir()
    (repo / "build" / "gen.py").write_text(SQLI)
    (repo / ".gitignore").write_text("vendor/\nbuild/\n")
    git = ["git", "-C", str(repo), "-c", "user.email=t@e", "-c", "user.name=t"]
    subprocess.run(git[:3] + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "-f", ".gitignore", "vendor/db.py"], check=True)
    subprocess.run(git + ["commit", "-qm", "x"], check=True)
    by = {Path(r.filename).name: r for r in analyze_path(repo, use_model=False)}
    assert by["db.py"].status == "analysed" and by["db.py"].label == "high"  # tracked: scanned
    assert by["build"].status == "skipped" and "gitignore" in by["build"].notes[0]  # untracked + ignored: listed


def test_include_and_exclude_globs(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.py").write_text(SQLI)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "two.py").write_text(SQLI)
    reps = analyze_path(tmp_path, use_model=False, exclude=["b"])
    assert [Path(r.filename).name for r in reps if r.status == "analysed"] == ["one.py"]
    assert any(r.status == "skipped" and "--exclude" in r.notes[0] for r in reps)
    reps = analyze_path(tmp_path, use_model=False, include=["b/*.py"])
    assert [Path(r.filename).name for r in reps if r.status == "analysed"] == ["two.py"]


# -- untrusted-code mode ---------------------------------------------------------------------


def test_deeply_nested_python_is_a_per_file_error_and_the_run_goes_on(tmp_path):
    (tmp_path / "deep.py").write_text("x = " + "+".join(["a"] * 5000) + "\n")  # valid Python, too deep for ast visitors
    (tmp_path / "bad.py").write_bytes(b"x = '\xff\xfe caf\xe9'\n")
    (tmp_path / "sql.py").write_text(SQLI)
    reps = {Path(r.filename).name: r for r in analyze_path(tmp_path, use_model=False)}
    assert reps["sql.py"].status == "analysed" and reps["sql.py"].label == "high"
    assert reps["bad.py"].status == "error" and "UTF-8" in reps["bad.py"].errors[0]
    deep = reps["deep.py"]
    assert deep.status == "error" and deep.label is None and deep.errors, (deep.status, deep.notes)


@pytest.mark.slow
def test_cli_nosec_is_reported_not_obeyed_and_errors_exit_4(tmp_path):
    f = tmp_path / "q.py"
    f.write_text(SQLI_NOSEC)
    out = _run([str(f), "--no-model", "--fail-on", "high", "--json"])
    assert out.returncode == 3, out.stderr
    doc = json.loads(out.stdout)
    [finding] = [x for x in doc["findings"] if x["cwe"] == "CWE-89"]
    assert finding["file"] == "q.py" and finding["label"] == "high" and "nosec" in finding["suppression"]
    assert "code" not in doc["files"][0] and finding["context"].count("\n") <= 6  # slim: context, not whole files
    out = _run([str(f), "--no-model", "--fail-on", "high", "--honour-suppressions"])
    assert out.returncode == 0 and "hidden by inline suppression" in out.stdout
    (tmp_path / "bad.py").write_bytes(b"x = '\xff'\n")
    out = _run([str(tmp_path), "--no-model", "--fail-on", "high"])
    assert out.returncode == 4 and "could not be fully analysed" in out.stderr and "Traceback" not in out.stderr
    # no bundle anywhere (fresh BASTION_HOME): static analysis runs and says so in one line
    out = _run([str(f)])
    assert out.returncode == 0, out.stderr
    assert "static analysis only" in out.stderr and "CWE-89" in out.stdout


# -- verdict integrity -------------------------------------------------------------------


def _sqli_finding() -> Finding:
    return Finding(analysis="SQL built from name", label="high", confidence=0.9,
                   risk=Risk(cwe_id="CWE-89", cwe_name="SQL Injection"),
                   evidence=[Evidence(engine="semgrep", rule_id="py-sql-built-string-executed", line=5, end_line=5,
                                      snippet=SQLI.splitlines()[4])])


def test_a_model_dispute_is_a_note_and_leaves_label_and_confidence_unchanged():
    f = _sqli_finding()
    model_layer._apply(f, {"verdict": "dispute", "reason": "the name is validated upstream by the caller",
                           "explanation": "fails to provide a solution to the issue", "fixed_lines": ""}, SQLI)
    assert f.model_verdict == "dispute" and f.model_reason.startswith("the name")
    assert f.label == "high" and f.confidence == 0.9 and f.counted and f.explanation_by == "rule"


def test_model_explanation_replaces_the_rule_only_when_it_passes_the_check():
    good = "The name argument is interpolated into the SQL query, so a quote in name rewrites the statement."
    assert quality.explanation_ok(good, cwe="CWE-89", snippet="query = \"...'%s'\" % name")[0]
    for bad in ("fails to provide a solution to the issue here at all",
                "The code is dangerous and should be fixed by a developer soon.",  # no mechanism, no identifier
                "SQL text is built with string formatting which allows injection attacks."):  # no identifier
        assert not quality.explanation_ok(bad, cwe="CWE-89", snippet="query = \"...'%s'\" % name")[0], bad
    f = _sqli_finding()
    model_layer._apply(f, {"verdict": "confirm", "reason": "name flows from the caller into the query",
                           "explanation": good, "fixed_lines": ""}, SQLI)
    assert f.explanation_by == "model" and f.analysis == good and f.source == "both"


def test_model_only_findings_need_a_sink_are_never_critical_and_never_counted():
    run = model_layer.ModelRun()
    code = "def pnf(e):\n    return render(e)\n"
    assert model_layer._model_finding({"line": 1, "cwe": "CWE-295", "label": "critical", "analysis": "TLS issue here"},
                                      code, model_layer.EXTRA_CONFIDENCE_WITH_STATIC, run) is None
    f = model_layer._model_finding({"line": 2, "cwe": "CWE-79", "label": "critical", "analysis": "e is rendered raw"},
                                   code, model_layer.EXTRA_CONFIDENCE_WITH_STATIC, run)
    assert f.label == "high" and f.model_only and not f.counted and "render" in f.evidence[0].message


def test_hybrid_with_a_disputing_model_keeps_every_static_verdict():
    static = analyze_code(SQLI, use_model=False)
    answer = {"F1": {"verdict": "dispute", "reason": "this looks safe because it is internal code",
                     "explanation": "nothing", "fixed_lines": "pass"},
              "extra": [{"line": 1, "cwe": "CWE-295", "label": "critical", "analysis": "certificate problem somewhere"}]}
    hybrid = analyze_code(SQLI, engine=ScriptedEngine(answer))
    assert hybrid.label == static.label == "high"
    assert [(f.label, f.risk.cwe_id, f.confidence) for f in hybrid.findings if not f.model_only] == \
           [(f.label, f.risk.cwe_id, f.confidence) for f in static.findings]
    assert hybrid.findings[0].model_verdict == "dispute"
    assert not any(f.model_only for f in hybrid.findings)  # 'import sqlite3' holds no sink: discarded
    assert hybrid.findings[0].fix.state != "verified"  # 'pass' removes the call; it is not a fix


def test_bundle_policy_runs_the_model_only_on_measured_improvement():
    assert not decide({}).use_model and "no held-out" in decide({}).reason
    worse = {"analysis": {"static": {"precision": 0.8, "recall": 0.6, "f1": 0.686},
                          "hybrid": {"precision": 0.7, "recall": 0.6, "f1": 0.646}, "cases": 120, "split": "test"}}
    assert not decide(worse).use_model and "does not improve" in decide(worse).reason
    better = {"analysis": {"static": {"precision": 0.8, "recall": 0.6, "f1": 0.686},
                           "hybrid": {"precision": 0.82, "recall": 0.66, "f1": 0.731}, "cases": 120, "split": "test"}}
    assert decide(better).use_model
    assert not decide({"analysis": {**better["analysis"], "split": "train"}}).use_model


# -- "verified" means correct ---------------------------------------------------------------


def test_md5_to_sha256_is_not_verified_for_a_password_but_is_for_a_checksum():
    pw = analyze_code("import hashlib\n\ndef store(password):\n    return hashlib.md5(password.encode()).hexdigest()\n",
                      use_model=False)
    f = next(f for f in pw.findings if f.fix.author == "rule")
    assert "sha256" in f.fix.code and not f.fix.verified and f.fix.state == "proposed"
    assert any("argon2" in n for n in f.fix.notes), f.fix.notes
    mac = analyze_code("import hashlib\n\ndef sign(api_secret, body):\n    h = hashlib.sha1()\n    h.update(api_secret)\n"
                       "    h.update(body)\n    return h.hexdigest()\n", use_model=False)
    m = next(f for f in mac.findings if f.fix.author == "rule")
    assert not m.fix.verified and any("HMAC" in n for n in m.fix.notes), m.fix.notes
    ck = analyze_code("import hashlib\n\ndef etag(body):\n    return hashlib.md5(body).hexdigest()\n", use_model=False)
    g = next(f for f in ck.findings if f.fix.author == "rule")
    assert g.fix.verified and g.fix.state == "verified", g.fix.notes


# -- CWE and label correctness ------------------------------------------------------------


def test_jwt_without_verification_is_cwe_347_not_tls():
    rep = analyze_code("import jwt\n\ndef claims(token):\n    return jwt.decode(token, verify=False)\n", use_model=False)
    assert [f.risk.cwe_id for f in rep.findings] == ["CWE-347"]
    assert rep.findings[0].fix.state != "verified"  # verify=True is not a JWT fix


def test_weak_random_is_a_finding_only_for_secrets():
    rep = analyze_code("import random\n\ndef colour():\n    return random.choice(['red', 'blue'])\n", use_model=False)
    assert rep.label == "safe"
    rep = analyze_code("import random\n\ndef reset_token():\n    token = random.getrandbits(128)\n    return token\n",
                       use_model=False)
    assert rep.findings and rep.findings[0].risk.cwe_id in ("CWE-338", "CWE-330")  # weak PRNG (family)


# -- one result per vulnerability ------------------------------------------------------------


def test_bandit_and_semgrep_on_one_injection_are_one_finding(tmp_path):
    f = tmp_path / "q.py"
    f.write_text(SQLI)
    [rep] = analyze_files([f], use_model=False)
    sql = [x for x in rep.findings if x.risk.cwe_id == "CWE-89"]
    assert len(sql) == 1, [(x.line, x.rule_id) for x in rep.findings]
    assert {e.engine for e in sql[0].evidence} == {"semgrep", "bandit"}
