"""`builder build --profile smollm2-135m` from raw inputs to a verified bundle the app answers from."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
SAMPLES = ROOT / "builder" / "sample_data"


def test_tiny_build_end_to_end(tmp_path):
    from app.bundle import load_bundle, verify_bundle
    from app.bundle.hashing import sha256_file
    from app.cli.main import cli as bastion
    from builder.cli import cli as builder

    run = tmp_path / "run"
    args = ["build", "--profile", "smollm2-135m", "--run", str(run), "--no-starter-notes",
            "--data", str(SAMPLES / "security"), "--data", str(SAMPLES / "general"),
            "--data", str(DATA / "e2e_corpus"), "--data", str(DATA / "e2e_triplets.jsonl"),
            "--train-steps", "2", "--embed-steps", "2", "--eval-items", "2", "--eval-new-tokens", "48"]
    t0 = time.perf_counter()
    res = CliRunner().invoke(builder, args, catch_exceptions=False)
    wall = time.perf_counter() - t0
    print(f"tiny end-to-end build: {wall:.1f}s")
    assert res.exit_code == 0, res.output

    summary = json.loads((run / "summary.json").read_text())
    bundle = Path(summary["bundle"])
    assert bundle == run / "bundle" / "smollm2-135m"
    assert "Bundle" in res.output and "verified" in res.output  # the one-page summary was shown
    page = (run / "summary.md").read_text()
    assert str(bundle) in page and "Embedder" in page and "LoRA fine-tune" in page
    assert verify_bundle(bundle, full=True) == []
    out = CliRunner().invoke(bastion, ["bundle", "verify", str(bundle)])
    assert out.exit_code == 0, out.output

    # Every stage ran and recorded its meta.json; the manifest carries the contract and figures.
    for stage in ("data", "train", "export", "embed", "index", "eval", "bundle"):
        meta = json.loads((run / stage / "meta.json").read_text())
        assert meta["status"] == "complete" and meta["versions"], stage
    m = load_bundle(bundle).manifest
    assert m.profile == "smollm2-135m" and m.chat.stop == ["<|im_end|>"] and m.index == "index"
    assert m.embedder.fingerprint == sha256_file(bundle / "embedder.gguf") and m.embedder.dim == 384
    assert {"transformers", "llama_cpp_python", "sentence-transformers"} <= set(m.tools)
    assert "embed.verdict" in m.metrics and "index.chunks" in m.metrics and "eval.retrieval_mrr@10" in m.metrics
    assert m.metrics["embed.parity_min_cosine"] >= 0.999
    for f in ("eval/report.json", "eval/report.md", "eval/retrieval.png", "eval/chat.png"):
        assert m.component(f) is not None, f
    report = json.loads((bundle / "eval" / "report.json").read_text())
    assert report["chat"]["after"]["items"] == 2 and report["chat"]["before"]["perplexity"] > 1
    assert report["retrieval"]["base"]["queries"] >= 2
    # base vs tuned through the app's own pipelines; the gate's verdict and the analysis evidence in the manifest
    app_ev = report["app"]
    assert app_ev["tuned"]["grounded"]["model"]["off_corpus"] >= 4 and app_ev["base"] is not None
    assert "Through the app's pipelines" in (bundle / "eval" / "report.md").read_text()
    assert m.metrics["eval.gate_passed"] is True and m.component("eval/app_eval.json") is not None
    assert ("analysis" in m.metrics) == (app_ev["analysis_model_default"] is not None)
    assert "app-format examples" in page

    # The app answers from the bundle's index (retrieval finds the held-in corpus).
    ask = CliRunner().invoke(bastion, ["ask", "--bundle", str(bundle), "--json", "--max-tokens", "24",
                                       "How do I stop an open redirect in a login next parameter?"])
    assert ask.exit_code == 0, ask.output
    got = json.loads(ask.output[ask.output.index("{"):])
    assert got["answer"].strip()
    assert any("open-redirect.md" in s["path"] for s in got["retrieved"]), got["retrieved"]

    # A second build with nothing changed skips every stage.
    again = CliRunner().invoke(builder, args + ["--stages", "data,embed,index,bundle"], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    summary2 = json.loads((run / "summary.json").read_text())
    assert all(s["skipped"] for s in summary2["stages"].values()), summary2
