"""The stage registry and the typed stage reports (no models).

A builder stage is one package (`builder/stages/<name>/`) plus one line in
`builder.stages.registry.PIPELINE`; `builder build --stages` and the build summary read that list.
"""

from __future__ import annotations

import ast
import json
import textwrap
from dataclasses import fields
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builder.stages import StageSummary, get_stage, registry, stage_names

ROOT = Path(__file__).resolve().parents[2]
STAGES = ROOT / "builder" / "stages"

# What each stage records as its meta.json summary, in the shape and order it writes it.
RECORDED = {
    "data": {"records_read": 60, "bad_records": 9, "secrets_scrubbed": 2, "exact_duplicates": 1, "near_duplicates": 0,
             "too_short": 0, "too_long": 0, "train": 40, "val": 5, "corpus": 3, "mix": "security 70% : general 30%",
             "app_tasks": {"review": 4, "grounded": 6}},
    "train": {"backend": "hf", "world_size": 1, "resumed": False, "data": {"examples": 40}, "val_examples": 3,
              "eval_loss_before": 2.1, "resumed_from": None, "global_step": 4, "train_runtime_s": 1.0,
              "tokens_trained": 100, "tokens_per_s": 10.0, "eval_loss_after": 1.9, "task_loss": {},
              "train_loss_first": 3.0, "train_loss_last": 2.0, "adapter_max_change": 0.1, "wall_s": 2.0,
              "peak_rss_mb": 900.0},
    "export": {"llm_gguf": "model-Q4_K_M.gguf", "f16_bytes": 270000000, "quant_bytes": 100000000, "convert_s": 3.0,
               "quantize_s": None, "merge_max_abs_logit_diff": 1e-5, "tokenizer_match": "7/7", "agreement_f16": 1.0,
               "agreement_quant": 0.9, "chat_ends_at_stop": True, "wall_s": 30.0},
    "embed": {"chosen": "tuned", "verdict": "TUNED BETTER", "base_mrr@10": 0.5, "tuned_mrr@10": 0.6,
              "parity_min_cosine": 0.9999, "dim": 384, "fingerprint": "ab"},
    "index": {"chunks": 120, "files": 10, "chunks_per_s": 30.5, "embedder_share": 0.82, "fingerprint": "ab"},
    "eval": {"retrieval_recall@5": 0.8, "retrieval_mrr@10": 0.6, "retrieval_ndcg@10": None, "embedder": "tuned",
             "chat_before_perplexity": 12.0, "chat_before_schema_valid_rate": 0.5,
             "chat_after_perplexity": 8.0, "chat_after_schema_valid_rate": 0.7,
             **{f"app_after_{k}": 0.5 for k in ("grounded_answer_rate", "citation_precision", "refusal_rate",
                                                "ask_grounded_answer_rate", "schema_valid_rate", "hybrid_f1",
                                                "review_accepted_rate", "verdict_accuracy")},
             "app_grounded_questions": 4, "gate_passed": False, "analysis_model_default": None},
    "bundle": {"path": "/tmp/b", "files": 9, "bytes": 123456789, "embedder": "tuned"},
}
# The summary lines the builder printed for those records before the reports were typed.
LINES = {
    "data": "- **Data**: 60 records read, 9 bad skipped, train 40 / val 5 / corpus 3; security 70% : general 30%; "
            "app-format examples: 4 review, 6 grounded",
    "train": "- **LoRA fine-tune**: 4 steps, loss 3.0 → 2.0; eval loss 2.1 → 1.9",
    "export": "- **Export**: model-Q4_K_M.gguf (100 MB from 270 MB f16); next-token agreement f16 1.0, quantized 0.9; "
              "chat ends at stop: True",
    "embed": "- **Embedder**: TUNED BETTER (parity cosine 0.9999)",
    "index": "- **Index**: 120 chunks from 10 files at 30.5 chunks/s (82% of the time in the embedder)",
    "bundle": '\n**Bundle**: `/tmp/b` (9 files, 123.5 MB) — verified. Try: `bastion ask --bundle /tmp/b "How do I '
              'prevent SQL injection?"`',
}


def test_the_pipeline_is_one_list_of_stage_packages():
    assert stage_names() == ("data", "train", "export", "embed", "index", "eval", "bundle")
    assert [m.rsplit(".", 1)[1] for m in registry.PIPELINE] == list(stage_names())
    for name in stage_names():
        assert (STAGES / name / "__init__.py").is_file() and (STAGES / name / "summary.py").is_file(), name
        assert issubclass(get_stage(name).report, StageSummary), name


def test_stage_packages_never_import_the_registry():
    """The registry depends on the stages, never the reverse (the old builtin <-> registry circle)."""
    for f in STAGES.glob("*/*.py"):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert node.module not in ("builder.stages", "builder.stages.registry"), f
            elif isinstance(node, ast.Import):
                assert not any(a.name in ("builder.stages", "builder.stages.registry") for a in node.names), f


@pytest.mark.parametrize("name", list(RECORDED))
def test_a_recorded_summary_reads_back_into_its_report_unchanged(name):
    cls = get_stage(name).report
    rep = cls.from_dict(RECORDED[name])
    assert rep.to_dict() == RECORDED[name] and list(rep.to_dict()) == list(RECORDED[name])
    if name in LINES:
        assert rep.summary_line(Path("/runs/x") / name) == LINES[name]
    # a run folder from an older builder (keys missing, keys it no longer writes) still reads
    assert cls.from_dict({"no_longer_written": 1}).summary_line(Path("/runs/x")) is not None


def test_the_train_line_counts_the_steps_the_stage_records():
    from builder.stages.train.summary import TrainSummary

    assert "4 steps" in TrainSummary.from_dict({"global_step": 4}).summary_line(Path("."))
    assert "? steps" in TrainSummary.from_dict({}).summary_line(Path("."))
    assert "steps" not in {f.name for f in fields(TrainSummary)}
    with pytest.raises(TypeError):  # a stage can only record what its report declares
        TrainSummary(steps=4)


def test_the_eval_line_lists_its_figures_and_says_when_the_gate_failed():
    from builder.stages.eval.summary import EvalSummary

    rep = EvalSummary.from_dict(RECORDED["eval"])
    line = rep.summary_line(Path("/runs/x/eval"))
    assert line.startswith("- **Eval**: retrieval_recall@5 0.8, retrieval_mrr@10 0.6, embedder tuned, ")
    assert "retrieval_ndcg@10" not in line and "analysis_model_default" not in line  # None figures are left out
    assert "app_before_" not in line and rep.app_before is None
    assert line.endswith("(report: `/runs/x/eval/report.md`) — **gate failed: the tuned model is worse than its base** "
                         "(see the report)")
    passed = EvalSummary.from_dict({k: v for k, v in RECORDED["eval"].items() if not k.startswith("app")
                                    and k not in ("gate_passed", "analysis_model_default")})
    assert passed.app is None and "gate failed" not in passed.summary_line(Path("."))


EXTRA_STAGE = '''
"""A throwaway stage: writes one file and reports how many words it holds."""

from dataclasses import dataclass

from builder.stages.spec import StageSpec
from builder.stages.summary import StageSummary


@dataclass
class WordsSummary(StageSummary):
    words: int = 0

    def summary_line(self, folder):
        return f"- **Words**: {self.words} words in `{folder / 'words.txt'}`"


def _run(ctx):
    st = ctx.run.stage("words")
    st.begin(config={"profile": ctx.profile.name})
    (st.dir / "words.txt").write_text("one two three")
    ctx.progress("words: wrote 3 words")
    return st.finish(outputs=["words.txt"], summary=WordsSummary(words=3).to_dict())


STAGE = StageSpec("words", _run, WordsSummary, "count words")
'''


def test_a_new_stage_is_its_package_plus_one_pipeline_line(tmp_path, monkeypatch):
    """The Done-when of issue 28: no other file changes for `builder build --stages` to run it and summarise it."""
    from builder.cli import cli

    pkg = tmp_path / "plugins" / "words_stage"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent(EXTRA_STAGE), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "plugins"))
    monkeypatch.setattr(registry, "PIPELINE", [*registry.PIPELINE, "words_stage"])  # the one line

    assert stage_names()[-1] == "words"
    run = tmp_path / "run"
    res = CliRunner().invoke(cli, ["build", "--profile", "smollm2-135m", "--run", str(run), "--stages", "words",
                                   "--no-starter-notes", "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    summary = json.loads((run / "summary.json").read_text())
    assert list(summary["stages"]) == ["words"] and summary["stages"]["words"]["summary"] == {"words": 3}
    assert f"- **Words**: 3 words in `{run / 'words' / 'words.txt'}`" in (run / "summary.md").read_text()
    bad = CliRunner().invoke(cli, ["build", "--profile", "smollm2-135m", "--run", str(run), "--stages", "wordz"])
    assert "unknown stage(s) wordz" in str(bad.exception) and "bundle,words" in str(bad.exception)  # it lists them


def test_register_stage_adds_and_removes_a_stage_for_this_process():
    from builder.stages import StageSpec, register_stage, unregister_stage

    register_stage(StageSpec("extra", lambda ctx: None), after="index")
    try:
        assert stage_names().index("extra") == stage_names().index("index") + 1
        with pytest.raises(ValueError, match="already registered"):
            register_stage(StageSpec("extra", lambda ctx: None))
    finally:
        unregister_stage("extra")
    assert "extra" not in stage_names()
