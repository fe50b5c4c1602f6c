"""The train stage: LoRA fine-tune of the chat model, resumable (builder/stages/train/stage.py)."""

from __future__ import annotations

from builder.stages.spec import BuildContext, StageSpec
from builder.stages.train.summary import TrainSummary


def _run(ctx: BuildContext):
    from builder.stages.train.stage import run_train

    return run_train(ctx.run, ctx.profile, resume=ctx.resume, force=ctx.force, overrides=ctx.opts("train"),
                     progress=ctx.progress)


STAGE = StageSpec("train", _run, TrainSummary, "LoRA fine-tune of the chat model")
