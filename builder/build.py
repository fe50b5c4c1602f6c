"""`builder build`: every stage in order, resumable, ending in a verified bundle.

    data -> train -> export -> embed -> index -> eval -> bundle   (builder.stages.registry.PIPELINE)

Each stage is skipped when its inputs and config are unchanged (its meta.json says so), an
interrupted train stage resumes from its last checkpoint, so rerunning a failed build picks up
where it stopped. No UI here: `progress(stage, message)` is called as work proceeds and the
CLI (builder/cli/build_cmd.py) draws it.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from app.atomic import write_text
from app.errors import BastionError
from builder.profiles import Profile
from builder.rundir import RunDir, StageResult
from builder.stages import BuildContext, BuildInputs, StageSummary, get_stage, stage_names

log = logging.getLogger(__name__)

StageProgress = Callable[[str, str], None]


def split_inputs(data: Sequence[str] | None, *, starter_notes: bool = True) -> BuildInputs:
    """Route each --data argument: triplet files to the embedder, documents to the index too."""
    from builder.stages.embed.stage import default_corpus
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
    names = stage_names()
    if not text:
        return list(names)
    want = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in want if s not in names]
    if bad:
        raise BastionError(f"unknown stage(s) {', '.join(bad)} in --stages", hint=f"choose from {','.join(names)}")
    return [s for s in names if s in want]


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
    stages: Sequence[str] | None = None,
    resume: bool = True,
    force: bool = False,
    starter_notes: bool = True,
    bundle_out: Path | None = None,
    llama_cpp_dir: Path | None = None,
    train_overrides: dict | None = None,
    embed_overrides: dict | None = None,
    eval_options: dict | None = None,
    stage_options: dict[str, dict] | None = None,
    progress: StageProgress = lambda stage, msg: None,
    on_stage_done: Callable[[StageResult, float], None] = lambda res, s: None,
) -> BuildResult:
    """Run `stages` (default: all registered) in pipeline order; returns every stage's result and the bundle path."""
    options = {"train": train_overrides or {}, "embed": embed_overrides or {}, "eval": eval_options or {}}
    options |= stage_options or {}
    ctx = BuildContext(run=run, profile=profile, inputs=split_inputs(data, starter_notes=starter_notes), force=force,
                       resume=resume, llama_cpp_dir=llama_cpp_dir, bundle_out=bundle_out, options=options)
    results: dict[str, StageResult] = {}
    seconds: dict[str, float] = {}
    t_all = time.perf_counter()
    for name in [s for s in stage_names() if stages is None or s in stages]:
        ctx.progress = (lambda n: (lambda msg: progress(n, msg)))(name)
        t0 = time.perf_counter()
        res = get_stage(name).run(ctx)
        if res is None:  # a non-zero rank of a distributed train stage
            raise BastionError("the train stage ran as a non-zero distributed rank", hint="run `builder build` on one process")
        results[name] = res
        seconds[name] = time.perf_counter() - t0
        on_stage_done(res, seconds[name])
    bundle = None
    for name, res in results.items():  # the stage that ships a bundle says so in its report
        bundle = _report(name, res.summary).bundle_path() or bundle
    result = BuildResult(run.root, results, seconds, time.perf_counter() - t_all, bundle)
    write_text(run.root / "summary.md", summary_page(result, profile))
    write_text(run.root / "summary.json", json.dumps(
        {"profile": profile.name, "wall_s": round(result.wall_s, 2), "bundle": str(bundle) if bundle else None,
         "stages": {k: {"skipped": r.skipped, "seconds": round(seconds[k], 2), "summary": r.summary}
                    for k, r in results.items()}}, indent=2, default=str))
    return result


def _recorded(run: RunDir, stage: str) -> dict:
    return (run.stage(stage).meta() or {}).get("summary", {})


def _report(stage: str, recorded: dict) -> StageSummary:
    """A stage's recorded summary read back into its typed report (the base report for a stage without one)."""
    cls = get_stage(stage).report or StageSummary
    return cls.from_dict(recorded)


def summary_page(result: BuildResult, profile: Profile) -> str:
    """One page: what was trained, the figures, where the bundle is (one line per stage, from the registry)."""
    run = RunDir(result.run)
    lines = [f"# Build summary — {profile.name}", "",
             f"Base model {profile.base_model}; embedder {profile.embed.base_model}. Run folder: `{result.run}`.",
             f"Wall time this invocation: {result.wall_s:.1f} s "
             f"({', '.join(f'{k} {s:.1f}s' + (' (skipped)' if result.results[k].skipped else '') for k, s in result.seconds.items())}).", ""]
    for name in stage_names():
        recorded = _recorded(run, name)
        line = _report(name, recorded).summary_line(run.stage(name).dir) if recorded else None
        if line is not None:
            lines.append(line)
    return "\n".join(lines) + "\n"
