"""The bundle stage: assemble, seal and verify the bundle (builder/stages/bundle/stage.py)."""

from __future__ import annotations

from builder.stages.bundle.summary import BundleSummary
from builder.stages.spec import BuildContext, StageSpec


def _run(ctx: BuildContext):
    from builder.stages.bundle.stage import run_bundle

    return run_bundle(ctx.run, ctx.profile, out=ctx.bundle_out, force=ctx.force, progress=ctx.progress,
                      **ctx.opts("bundle"))


STAGE = StageSpec("bundle", _run, BundleSummary, "assemble, seal and verify the bundle")
