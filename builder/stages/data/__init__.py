"""The data stage: read, validate, clean, mix and split training data (builder/stages/data/stage.py)."""

from __future__ import annotations

from builder.stages.data.summary import DataSummary
from builder.stages.spec import BuildContext, StageSpec


def _run(ctx: BuildContext):
    from builder.stages.data.stage import run_data

    return run_data(ctx.run, ctx.profile, inputs=ctx.inputs.llm or None, force=ctx.force, progress=ctx.progress,
                    **ctx.opts("data"))


STAGE = StageSpec("data", _run, DataSummary, "read, clean, mix; app-format review and grounded-answering examples")
