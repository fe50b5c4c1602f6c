"""`builder build`: every stage in order, resumable, ending in a verified bundle.

    data -> train -> export -> embed -> index -> eval -> bundle

Each stage is skipped when its inputs and config are unchanged (its meta.json says so), an
interrupted train stage resumes from its last checkpoint, so rerunning a failed build picks up
where it stopped. No UI here: `progress(stage, message)` is called as work proceeds and the
CLI (builder/commands_build.py) draws it.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from app.atomic import write_text
from app.errors import BastionError
from builder.profiles import Profile
from builder.rundir import RunDir, StageResult

log = logging.getLogger(__name__)

STAGES = ("data", "train", "export", "embed", "index", "eval", "bundle")
StageProgress = Callable[[str, str], None]


@dataclass
class BuildInputs:
    """--data split by what each stage reads."""

    llm: list[str] = field(default_factory=list)
    """Inputs for the data stage (instruction data, conversations, corpus text, hf:NAME)."""
    corpus: list[Path] = field(default_factory=list)
    """Files/folders whose documents are indexed and mined for embedder pairs."""
    triplets: list[Path] = field(default_factory=list)
    """Retrieval triplet JSONL files (embedder training only)."""


def split_inputs(data: Sequence[str] | None, *, starter_notes: bool = True) -> BuildInputs:
    """Route each --data argument: triplet files to the embedder, documents to the index too."""
    from builder.embed_stage import default_corpus
    from builder.triplets import looks_like_triplets

    out = BuildInputs()
    for arg in data or []:
        if arg.startswith("hf:"):
            out.llm.append(arg)
            continue
        spec = arg.split("=", 1)[1] if arg.split("=", 1)[0] in ("general", "security") and "=" in arg else arg
        p = Path(spec).expanduser()
        if not p.exists():
            raise BastionError(f"--data input not found: {spec}", hint="check the path")
        if p.is_file() and looks_like_triplets(p):
            out.triplets.append(p)
            continue
        out.llm.append(arg)
        out.corpus.append(p)
    if starter_notes:
        out.corpus = default_corpus() + out.corpus
    return out


def parse_stages(text: str | None) -> list[str]:
    if not text:
        return list(STAGES)
    want = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in want if s not in STAGES]
    if bad:
        raise BastionError(f"unknown stage(s) {', '.join(bad)} in --stages", hint=f"choose from {','.join(STAGES)}")
    return [s for s in STAGES if s in want]


@dataclass
class BuildResult:
    run: Path
    results: dict[str, StageResult]
    seconds: dict[str, float]
    wall_s: float
    bundle: Path | None

    def summary_markdown(self, profile: Profile) -> str:
        return summary_page(self, profile)


def run_build(
    run: RunDir,
    profile: Profile,
    *,
    data: Sequence[str] | None = None,
    stages: Sequence[str] = STAGES,
    resume: bool = True,
    force: bool = False,
    starter_notes: bool = True,
    bundle_out: Path | None = None,
    llama_cpp_dir: Path | None = None,
    train_overrides: dict | None = None,
    embed_overrides: dict | None = None,
    eval_options: dict | None = None,
    progress: StageProgress = lambda stage, msg: None,
    on_stage_done: Callable[[StageResult, float], None] = lambda res, s: None,
) -> BuildResult:
    """Run `stages` in pipeline order; returns every stage's result and the bundle path."""
    from builder.bundle_stage import run_bundle
    from builder.embed_stage import run_embed
    from builder.eval_stage import run_eval
    from builder.index_stage import run_index

    inputs = split_inputs(data, starter_notes=starter_notes)
    results: dict[str, StageResult] = {}
    seconds: dict[str, float] = {}
    t_all = time.perf_counter()
    for name in [s for s in STAGES if s in stages]:
        say = (lambda n: (lambda msg: progress(n, msg)))(name)
        t0 = time.perf_counter()
        if name == "data":
            from builder.data.stage import run_data

            res = run_data(run, profile, inputs=inputs.llm or None, force=force, progress=say)
        elif name == "train":
            from builder.train.stage import run_train

            res = run_train(run, profile, resume=resume, force=force, overrides=dict(train_overrides or {}), progress=say)
        elif name == "export":
            from builder.export.stage import run_export

            res = run_export(run, profile, llama_cpp_dir=llama_cpp_dir, force=force, progress=say)
        elif name == "embed":
            res = run_embed(run, profile, corpus=inputs.corpus, triplets=inputs.triplets, force=force, progress=say,
                            llama_cpp_dir=llama_cpp_dir, **(embed_overrides or {}))
        elif name == "index":
            res = run_index(run, profile, corpus=inputs.corpus, force=force, progress=say)
        elif name == "eval":
            res = run_eval(run, profile, force=force, progress=say, **(eval_options or {}))
        else:
            res = run_bundle(run, profile, out=bundle_out, force=force, progress=say)
        if res is None:  # a non-zero rank of a distributed train stage
            raise BastionError("the train stage ran as a non-zero distributed rank", hint="run `builder build` on one process")
        results[name] = res
        seconds[name] = time.perf_counter() - t0
        on_stage_done(res, seconds[name])
    bundle = Path(results["bundle"].summary["path"]) if "bundle" in results else None
    result = BuildResult(run.root, results, seconds, time.perf_counter() - t_all, bundle)
    write_text(run.root / "summary.md", summary_page(result, profile))
    write_text(run.root / "summary.json", json.dumps(
        {"profile": profile.name, "wall_s": round(result.wall_s, 2), "bundle": str(bundle) if bundle else None,
         "stages": {k: {"skipped": r.skipped, "seconds": round(seconds[k], 2), "summary": r.summary}
                    for k, r in results.items()}}, indent=2, default=str))
    return result


def _get(run: RunDir, stage: str) -> dict:
    return (run.stage(stage).meta() or {}).get("summary", {})


def summary_page(result: BuildResult, profile: Profile) -> str:
    """One page: what was trained, the figures, where the bundle is."""
    run = RunDir(result.run)
    d, t, x, e, i, v, b = (_get(run, s) for s in STAGES)
    lines = [f"# Build summary — {profile.name}", "",
             f"Base model {profile.base_model}; embedder {profile.embed.base_model}. Run folder: `{result.run}`.",
             f"Wall time this invocation: {result.wall_s:.1f} s "
             f"({', '.join(f'{k} {s:.1f}s' + (' (skipped)' if result.results[k].skipped else '') for k, s in result.seconds.items())}).", ""]
    if d:
        lines.append(f"- **Data**: {d.get('records_read')} records read, {d.get('bad_records')} bad skipped, "
                     f"train {d.get('train')} / val {d.get('val')} / corpus {d.get('corpus')}; {d.get('mix', '')}")
    if t:
        lines.append(f"- **LoRA fine-tune**: {t.get('steps', t.get('global_step', '?'))} steps, loss "
                     f"{t.get('train_loss_first')} → {t.get('train_loss_last')}; eval loss {t.get('eval_loss_before')} → {t.get('eval_loss_after')}")
    if x:
        lines.append(f"- **Export**: {x.get('llm_gguf')} ({x.get('quant_bytes', 0) / 1e6:.0f} MB from "
                     f"{x.get('f16_bytes', 0) / 1e6:.0f} MB f16); next-token agreement f16 {x.get('agreement_f16')}, "
                     f"quantized {x.get('agreement_quant')}; chat ends at stop: {x.get('chat_ends_at_stop')}")
    if e:
        lines.append(f"- **Embedder**: {e.get('verdict')} (parity cosine {e.get('parity_min_cosine')})")
    if i:
        lines.append(f"- **Index**: {i.get('chunks')} chunks from {i.get('files')} files at {i.get('chunks_per_s')} chunks/s "
                     f"({100 * float(i.get('embedder_share') or 0):.0f}% of the time in the embedder)")
    if v:
        figs = ", ".join(f"{k} {val}" for k, val in v.items() if val is not None)
        lines.append(f"- **Eval**: {figs} (report: `{run.stage('eval').dir / 'report.md'}`)")
    if b:
        lines += ["", f"**Bundle**: `{b.get('path')}` ({b.get('files')} files, {b.get('bytes', 0) / 1e6:.1f} MB) — "
                  f"verified. Try: `bastion ask --bundle {b.get('path')} \"How do I prevent SQL injection?\"`"]
    return "\n".join(lines) + "\n"
