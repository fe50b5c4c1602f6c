"""The eval stage: base vs tuned, retrieval, chat and the app's own pipelines (builder/stages/eval/stage.py)."""

from __future__ import annotations

from builder.stages.eval.summary import EvalSummary
from builder.stages.spec import BuildContext, StageSpec


def _run(ctx: BuildContext):
    from builder.stages.eval.stage import run_eval

    return run_eval(ctx.run, ctx.profile, force=ctx.force, progress=ctx.progress, **ctx.opts("eval"))


STAGE = StageSpec("eval", _run, EvalSummary, "base vs tuned: retrieval, chat, and the app's own pipelines")
