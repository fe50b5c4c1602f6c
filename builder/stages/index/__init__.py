"""The index stage: the knowledge index, built with the shipped embedder (builder/stages/index/stage.py)."""

from __future__ import annotations

from builder.stages.index.summary import IndexSummary
from builder.stages.spec import BuildContext, StageSpec


def _run(ctx: BuildContext):
    from builder.stages.index.stage import run_index

    return run_index(ctx.run, ctx.profile, corpus=ctx.inputs.corpus, force=ctx.force, progress=ctx.progress)


STAGE = StageSpec("index", _run, IndexSummary, "build the knowledge index with the shipped embedder")
