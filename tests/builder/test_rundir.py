"""The run-directory framework: fingerprints, skip when fresh, resume when interrupted."""

from __future__ import annotations

import json

import pytest

from app.errors import BastionError
from builder.rundir import RunDir


def test_stage_skips_when_fresh_and_reruns_on_change(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("hello")
    run = RunDir(tmp_path / "run", profile="p")
    st = run.stage("data")
    cfg = {"a": 1}
    assert not st.is_fresh(config=cfg, inputs=[src])
    assert st.begin(config=cfg, inputs=[src]) is False
    (st.dir / "out.jsonl").write_text("x")
    res = st.finish(outputs=["out.jsonl"], summary={"n": 1})
    assert res.outputs == ["out.jsonl"] and not res.skipped
    meta = json.loads((st.dir / "meta.json").read_text())
    assert meta["status"] == "complete" and meta["outputs"][0]["size"] == 1
    assert "transformers" in meta["versions"] and str(src) in meta["inputs"]
    assert st.is_fresh(config={"a": 1}, inputs=[src])
    assert not st.is_fresh(config={"a": 2}, inputs=[src])
    src.write_text("changed")
    assert not st.is_fresh(config=cfg, inputs=[src])
    src.write_text("hello")
    (st.dir / "out.jsonl").unlink()
    assert not st.is_fresh(config=cfg, inputs=[src]), "a missing output makes the stage stale"


def test_interrupted_stage_keeps_files_only_for_same_fingerprint(tmp_path):
    run = RunDir(tmp_path / "run", profile="p")
    st = run.stage("train")
    st.begin(config={"lr": 1})
    (st.dir / "checkpoint-4").mkdir()
    # killed here: meta says running
    assert not st.complete
    assert st.begin(config={"lr": 1}) is True
    assert (st.dir / "checkpoint-4").exists()
    assert st.begin(config={"lr": 2}) is False
    assert not (st.dir / "checkpoint-4").exists()


def test_require_and_profile_guard(tmp_path):
    run = RunDir(tmp_path / "run", profile="p")
    with pytest.raises(BastionError, match="builder data"):
        run.require("data")
    with pytest.raises(BastionError, match="belongs to profile"):
        RunDir(tmp_path / "run", profile="other")
