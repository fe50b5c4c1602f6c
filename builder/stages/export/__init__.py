"""The export stage: merge, convert to GGUF, quantize, verify (builder/stages/export/stage.py)."""

from __future__ import annotations

from builder.stages.export.summary import ExportSummary
from builder.stages.spec import BuildContext, StageSpec


def _run(ctx: BuildContext):
    from builder.stages.export.stage import run_export

    return run_export(ctx.run, ctx.profile, llama_cpp_dir=ctx.llama_cpp_dir, force=ctx.force, progress=ctx.progress,
                      **ctx.opts("export"))


STAGE = StageSpec("export", _run, ExportSummary, "merge, convert to GGUF, quantize, verify")
