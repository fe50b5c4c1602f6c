"""The build pipeline's stages: one package per stage (`builder/stages/<name>/`), in one registry.

    builder/stages/<name>/__init__.py   STAGE = StageSpec(name, run, report, help)
    builder/stages/<name>/summary.py    the typed report the stage records, with its summary line
    builder/stages/<name>/stage.py      the stage function the per-stage CLI command calls too

`builder build` runs `stage_names()` in order (builder.stages.registry.PIPELINE), `--stages`
accepts them and the summary page asks each stage's report for its own line, so a new stage is
its package plus one line in PIPELINE.
"""

from builder.stages.registry import get_stage, register_stage, stage_names, unregister_stage
from builder.stages.spec import BuildContext, BuildInputs, StageSpec
from builder.stages.summary import StageSummary, recorded

__all__ = ["BuildContext", "BuildInputs", "StageSpec", "StageSummary", "get_stage", "recorded",
           "register_stage", "stage_names", "unregister_stage"]
