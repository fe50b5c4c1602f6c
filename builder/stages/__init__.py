"""The build pipeline's stages, in a registry: one entry per stage, one calling convention.

    from builder.stages import register_stage, StageSpec
    register_stage(StageSpec("mystage", run=lambda ctx: ..., summary_line=lambda s: "..."))

`builder build` runs `stage_names()` in order, `--stages` accepts them and the summary page asks
each stage for its own line, so a new stage is its module plus one `register_stage` call.
"""

from builder.stages.registry import BuildContext, StageSpec, get_stage, register_stage, stage_names, unregister_stage

__all__ = ["BuildContext", "StageSpec", "get_stage", "register_stage", "stage_names", "unregister_stage"]
