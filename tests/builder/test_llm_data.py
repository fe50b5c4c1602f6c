"""The data stage on the shipped sample data: every format, bad records, secrets, dedup, mix, split."""

from __future__ import annotations

import json
import pickle
import shutil

import pytest

from app.errors import BastionError
from builder.data import analysis
from builder.data.grounded import NOT_COVERED
from tests.builder.app_format import assert_app_grounded, assert_app_review
from builder.data.clean import near_duplicates, scrub
from builder.stages.data.stage import SAMPLE_DIR, run_data
from builder.profiles import load_profile
from builder.rundir import RunDir


@pytest.fixture(scope="module")
def profile():
    return load_profile("smollm2-135m")


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


@pytest.fixture
def all_formats(tmp_path):
    """The sample data plus parquet and csv corpora (written here, so the repo ships no binaries)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    d = tmp_path / "data"
    shutil.copytree(SAMPLE_DIR, d)
    pq.write_table(pa.table({"text": ["Parquet corpus row about TLS certificate validation and pinning.",
                                      "Another parquet row: rotate credentials after any suspected leak."]}),
                   d / "corpus" / "extra.parquet")
    (d / "corpus" / "extra.csv").write_text('text\n"CSV corpus row: least privilege limits the blast radius of a compromise."\n')
    return d


def test_every_format_bad_records_secrets_dedup_and_mix(tmp_path, all_formats, profile):
    run = RunDir(tmp_path / "run", profile=profile.name)
    res = run_data(run, profile, inputs=[str(all_formats)])
    rep = json.loads((res.dir / "data_report.json").read_text())
    assert set(rep["per_format"]) == {"alpaca", "sharegpt", "messages", "prompt_response", "text", "generated"}
    assert rep["per_format"]["text"] >= 3 + 3  # glossary (6) + md + txt + parquet (2) + csv (1)
    assert {"code_analysis", "chat"} <= set(rep["per_task"])
    # bad records are reported with file, line and field
    by_line = {(i["file"].split("/")[-1], i["line"]): i for i in rep["issues"]}
    assert by_line[("bad_records.jsonl", 1)]["field"] == "-" and "JSON" in by_line[("bad_records.jsonl", 1)]["message"]
    assert by_line[("bad_records.jsonl", 2)]["field"] == "output"
    assert by_line[("bad_records.jsonl", 3)]["field"] == "messages[0].role"
    assert by_line[("bad_records.jsonl", 4)]["field"] == "output.label"
    assert by_line[("bad_records.jsonl", 5)]["field"] == "conversations[0].value"
    assert ("broken_array.json", 3) in by_line and ("broken_array.json", 4) in by_line
    assert rep["bad_records"] == len(rep["issues"]) == 9
    assert rep["exact_duplicates"] == 1 and rep["near_duplicates"] == 1 and rep["too_short"] == 1
    assert rep["secrets_by_kind"]["private_key"] == 1 and rep["secrets_by_kind"]["aws_access_key"] == 1
    text = (res.dir / "train.jsonl").read_text() + (res.dir / "val.jsonl").read_text()
    assert "BEGIN OPENSSH PRIVATE KEY" not in text and "AKIAQWERTYUIOPASDFGH" not in text and "<REDACTED:" in text
    # the mix: all security kept, general limited by what exists, real counts reported
    mix = rep["mix"]
    assert mix["short_of_general"] and mix["general_used"] == mix["general_available"]
    assert mix["ratio_achieved"] == pytest.approx(mix["general_used"] / mix["security"], abs=1e-3)
    assert "not enough general data" in mix["message"]
    assert rep["train"] + rep["val"] == len(_lines(res.dir / "train.jsonl")) + len(_lines(res.dir / "val.jsonl"))
    assert rep["val"] >= 2 and (res.dir / "lengths.png").read_bytes()[:4] == b"\x89PNG"
    # code-analysis records become the app's review prompt + an answer the app's contract accepts
    ana = [r for r in _lines(res.dir / "train.jsonl") + _lines(res.dir / "val.jsonl") if r["task"] == "code_analysis"]
    for r in ana:
        assert_app_review(r["messages"])
    # each review once, plus (review_weight - 1) copies of every train review
    unique = {json.dumps(r["messages"]) for r in ana}
    assert len(unique) >= 12 and rep["app_tasks"]["review"]["built"] == len(unique)
    assert len(ana) == len(unique) + rep["review_copies_added"]
    assert rep["review_copies_added"] == (profile.data.review_weight - 1) * sum(
        1 for r in _lines(res.dir / "train.jsonl") if r["task"] == "code_analysis") // profile.data.review_weight
    grounded = [r for r in _lines(res.dir / "train.jsonl") + _lines(res.dir / "val.jsonl") if r["task"] == "grounded_answer"]
    assert grounded and rep["app_tasks"]["grounded"]["built"] == len(grounded)
    for r in grounded:
        assert_app_grounded(r["messages"])
    assert 0 < sum(r["messages"][-1]["content"] == NOT_COVERED for r in grounded) < len(grounded)
    # deterministic and skipped when unchanged
    first = (res.dir / "train.jsonl").read_bytes()
    again = run_data(run, profile, inputs=[str(all_formats)])
    assert again.skipped and (res.dir / "train.jsonl").read_bytes() == first
    forced = run_data(run, profile, inputs=[str(all_formats)], force=True)
    assert not forced.skipped and (res.dir / "train.jsonl").read_bytes() == first


def test_mix_reaches_target_when_general_data_suffices(tmp_path, profile):
    sec = tmp_path / "security" / "s.jsonl"
    gen = tmp_path / "general" / "g.jsonl"
    sec.parent.mkdir()
    gen.parent.mkdir()
    sec.write_text("".join(json.dumps({"instruction": f"Security question number {i} about input validation?",
                                       "output": f"Answer {i}: validate and encode every input at trust boundary {i}."}) + "\n"
                           for i in range(10)))
    gen.write_text("".join(json.dumps({"instruction": f"General question {i}: what is {i} plus {i}?",
                                       "output": f"The sum of {i} and {i} is {2 * i}, computed exactly."}) + "\n"
                           for i in range(100)))
    prof = profile.model_copy(update={"data": profile.data.model_copy(update={"val_fraction": 0.0, "near_dup_threshold": 1.0,
                                                                                  "grounded": False})})
    res = run_data(RunDir(tmp_path / "run", profile=prof.name), prof, inputs=[str(sec), f"general={gen}"])
    mix = json.loads((res.dir / "data_report.json").read_text())["mix"]
    assert mix["security"] == 10 and mix["general_used"] == 50 and mix["ratio_achieved"] == 5.0
    assert not mix["short_of_general"]


def test_strict_is_fatal_with_file_and_line(tmp_path, profile):
    run = RunDir(tmp_path / "run", profile=profile.name)
    with pytest.raises(BastionError, match=r"bad_records\.jsonl:1: field '-'"):
        run_data(run, profile, inputs=[str(SAMPLE_DIR / "malformed")], strict=True)
    # the clean sample data passes strict mode
    assert run_data(run, profile, strict=True).summary["bad_records"] == 0


def test_pickle_refused_unless_allowed(tmp_path, profile):
    pk = tmp_path / "data.pkl"
    pk.write_bytes(pickle.dumps([{"instruction": "What is a pickle exploit in Python?",
                                  "output": "Unpickling runs code chosen by whoever wrote the file."}]))
    run = RunDir(tmp_path / "run", profile=profile.name)
    with pytest.raises(BastionError, match="refusing to load a pickle"):
        run_data(run, profile, inputs=[str(pk), str(SAMPLE_DIR / "security")])
    res = run_data(run, profile, inputs=[str(pk), str(SAMPLE_DIR / "security")], allow_pickle=True)
    assert "data.pkl" in json.dumps(json.loads((res.dir / "data_report.json").read_text())["per_source"])


def test_hf_dataset_offline_fails_clearly(tmp_path, profile, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(BastionError, match="could not load Hugging Face dataset 'nobody/no-such-set'"):
        run_data(RunDir(tmp_path / "run", profile=profile.name), profile, inputs=["hf:nobody/no-such-set"])


def test_analysis_json_and_sectioned_forms_agree():
    js = json.dumps({"analysis": "Input reaches the shell.", "severity": "High",
                     "risk": "CWE-78 OS Command Injection: shell metacharacters run commands",
                     "solution": "Use an argument list.\n```python\nsubprocess.run(['ls', p])\n```"})
    text = ("## Analysis\nInput reaches the shell.\n## Label\nhigh\n## Risk\nCWE-78 OS Command Injection: shell "
            "metacharacters run commands\n## Solution\nUse an argument list.\n```python\nsubprocess.run(['ls', p])\n```")
    assert analysis.parse(js) == analysis.parse(text)
    f = analysis.parse(text)
    assert f["risk"]["cwe"] == "CWE-78" and f["fix"]["code"] == "subprocess.run(['ls', p])"
    with pytest.raises(analysis.AnalysisFormatError):
        analysis.parse(json.dumps({"analysis": "x", "label": "high"}))  # high without a risk


def test_scrub_and_near_duplicates():
    text, counts = scrub('token = "ghp_' + "A" * 36 + '"; slack https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXX '
                         'api_key: "abcd1234abcd1234abcd"')
    assert counts == {"github_token": 1, "slack_webhook": 1, "generic_secret": 1}
    assert "ghp_" not in text and "abcd1234abcd1234abcd" not in text
    base = " ".join(f"word{i}" for i in range(60))
    assert near_duplicates([base, base + " extra", "something else entirely " * 5], 0.9) == [1]


def test_triplets_are_left_for_the_embedder_stage(tmp_path, profile):
    trip = tmp_path / "triplets.jsonl"
    trip.write_text(json.dumps({"query": "what is xss", "pos": "Cross-site scripting ...", "neg": ["Port 22 ..."]}) + "\n")
    res = run_data(RunDir(tmp_path / "run", profile=profile.name), profile,
                   inputs=[str(SAMPLE_DIR / "security"), str(trip)], strict=True)
    rep = json.loads((res.dir / "data_report.json").read_text())
    assert rep["triplets_left_for_embed_stage"] == 1 and rep["bad_records"] == 0


def test_review_weight_repeats_reviews_in_train_only(tmp_path, profile):
    """review_weight 3: every app-format review three times in train, once in val; copies spread out."""
    from builder.data.mix import repeat_task

    def run(weight):
        prof = profile.model_copy(update={"data": profile.data.model_copy(update={"review_weight": weight,
                                                                                      "grounded": False})})
        res = run_data(RunDir(tmp_path / f"run{weight}", profile=prof.name), prof, inputs=[str(SAMPLE_DIR)])
        train, val = _lines(res.dir / "train.jsonl"), _lines(res.dir / "val.jsonl")
        report = json.loads((res.dir / "data_report.json").read_text())
        return train, val, report

    train1, val1, rep1 = run(1)
    train3, val3, rep3 = run(3)
    reviews1 = [json.dumps(r["messages"]) for r in train1 if r["task"] == "code_analysis"]
    reviews3 = [json.dumps(r["messages"]) for r in train3 if r["task"] == "code_analysis"]
    assert reviews1 and sorted(reviews3) == sorted(reviews1 * 3)
    assert [r for r in train3 if r["task"] != "code_analysis"] != [] and val3 == val1
    assert rep1["review_copies_added"] == 0 and rep3["review_copies_added"] == 2 * len(reviews1)
    positions = [i for i, r in enumerate(train3) if r["task"] == "code_analysis"]
    assert any(b - a > 1 for a, b in zip(positions, positions[1:]))  # not all side by side
    same, added = repeat_task(train1, "code_analysis", 1, seed=1)
    assert same is train1 and added == 0
