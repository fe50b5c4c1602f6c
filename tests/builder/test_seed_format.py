"""Seed-format code reviews (Alpaca: instruction, input = bare code, output = analysis/label/risk/solution)
become app-format review examples, and the data report says what every record became."""

from __future__ import annotations

import json

import pytest

from builder.data.records import normalise
from builder.stages.data.stage import run_data
from builder.profiles import load_profile
from builder.rundir import RunDir

SQLI = 'def get(db, uid):\n    return db.execute("SELECT * FROM t WHERE id = \'%s\'" % uid).fetchone()\n'
SAFE = 'def get(db, uid):\n    return db.execute("SELECT * FROM t WHERE id = ?", (uid,)).fetchone()\n'
CMD = 'import os\n\ndef ping(host):\n    os.system("ping -c 1 " + host)\n'


def _seed(code: str, label: str, risk: str, solution: str, analysis: str) -> dict:
    out = {"analysis": analysis, "label": label, "risk": risk, "solution": solution}
    return {"instruction": "Analyse the following code for security problems.", "input": code,
            "output": json.dumps(out, ensure_ascii=False)}


def test_bare_code_input_is_fenced_with_its_language():
    ex = normalise(_seed(SQLI, "高危", "CWE-89 SQL injection: the id is formatted into the query",
                         "Bind the value as a parameter.", "The uid is formatted into the SQL text."),
                   source="seed.jsonl", line=1, domain="security")
    assert ex.task == "code_analysis"
    user = ex.messages[0]["content"]
    assert "```python\n" in user and SQLI.rstrip() in user
    answer = json.loads(ex.messages[-1]["content"])
    assert answer["label"] == "high" and answer["risk"]["cwe"] == "CWE-89"


def test_unknown_label_is_a_bad_record_naming_the_field():
    from builder.data.records import RecordError

    with pytest.raises(RecordError) as exc:
        normalise(_seed(SQLI, "vulnerable-ish", "CWE-89", "", "formatted SQL"), source="s", line=3, domain="security")
    assert exc.value.field == "output.label"


def test_seed_reviews_reach_the_review_task_and_the_ledger(tmp_path):
    profile = load_profile("smollm2-135m")
    d = tmp_path / "data" / "security"
    d.mkdir(parents=True)
    rows = [
        _seed(SQLI, "high", "CWE-89 SQL injection", "Use a bound parameter:\n```python\n" + SAFE + "```",
              "The user id is formatted straight into the SQL string."),
        _seed(SAFE, "安全", "", "", "The value is passed as a bound parameter, so it cannot change the query."),
        _seed(CMD, "critical", "CWE-78 OS command injection", "Call subprocess.run with a list.",
              "The host is concatenated into a shell command line."),
        _seed("just some words, not code at all, nothing to analyse here", "low", "CWE-20 input validation",
              "Validate.", "Prose in the input field instead of code."),
        _seed(SQLI, "high", "CWE-89 SQL injection", "Use a bound parameter:\n```python\n" + SAFE + "```",
              "The user id is formatted straight into the SQL string."),  # exact duplicate of row 1
        {"instruction": "What does CSP do?", "output": "A Content-Security-Policy header tells the browser which "
                                                      "origins may supply scripts, styles and frames."},
        {"instruction": "broken", "output": json.dumps({"analysis": "x", "label": "bogus"})},
    ]
    (d / "seed.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    res = run_data(RunDir(tmp_path / "run", profile=profile.name), profile, inputs=[str(tmp_path / "data")])
    rep = json.loads((res.dir / "data_report.json").read_text())
    assert rep["app_tasks"]["review"]["built"] == 3  # SQLi, the safe twin, the command injection
    assert rep["app_tasks"]["review"]["dropped_without_code"] == 1
    ledger = {r["line"]: r for r in map(json.loads, (res.dir / "records.jsonl").read_text().splitlines())
              if r["source"].endswith("seed.jsonl") and not r["source"].startswith("grounded:")}  # not generated rows
    assert set(ledger) == set(range(1, 8))  # every input record is accounted for
    for line in (1, 2, 3):
        assert ledger[line]["became"] in ("train", "val") and ledger[line]["task"] == "code_analysis"
    assert ledger[4]["became"] == "dropped" and "analysable code" in ledger[4]["why"]
    assert ledger[5]["became"] == "dropped" and "duplicate" in ledger[5]["why"]
    assert ledger[6]["task"] == "chat"
    assert ledger[7]["became"] == "dropped" and "output.label" in ledger[7]["why"]
    assert rep["outcomes"]["dropped:bad record"] == 1


def test_a_record_that_names_its_split_keeps_it(tmp_path):
    from builder.data.records import RecordError

    profile = load_profile("smollm2-135m")
    d = tmp_path / "data" / "security"
    d.mkdir(parents=True)
    rows = [dict(_seed(SQLI.replace("uid", f"uid{i}"), "high", "CWE-89 SQL injection", "",
                       f"Variant {i}: the id is formatted into the SQL text."), split="test" if i < 3 else "tune")
            for i in range(6)]
    (d / "s.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = run_data(RunDir(tmp_path / "run", profile=profile.name), profile, inputs=[str(tmp_path / "data")])
    val = [json.loads(x) for x in (res.dir / "val.jsonl").read_text().splitlines() if x.strip()]
    held = sorted(r["line"] for r in val if r["task"] == "code_analysis")
    assert held == [1, 2, 3]
    with pytest.raises(RecordError) as exc:
        normalise(dict(rows[0], split="later"), source="s", line=1, domain="security")
    assert exc.value.field == "split"


def test_a_missed_weakness_without_fixed_code_is_not_given_a_made_up_line():
    from builder.data import review

    labelled = {"analysis": "The page size is taken from the request without a bound.", "label": "high",
                "risk": {"cwe": "CWE-20", "name": "", "why": ""}, "fix": {"summary": "Bound it.", "code": ""}}
    code = "def page(size):\n    return list(range(int(size)))\n"
    assert review.target_for(code, [], labelled) is None  # no static finding, no fix: no line to point at
    fixed = dict(labelled, fix={"summary": "Bound it.", "code": code.replace("int(size)", "min(int(size), 100)")})
    assert review.target_for(code, [], fixed)["extra"][0]["line"] == 2
    msgs, counts = review.build_reviews([(code, "python", labelled)])
    assert msgs == [None] and counts.built == 0 and counts.skipped
