"""The embed stage: fine-tune and gate the embedder, export it to GGUF (builder/stages/embed/stage.py)."""

from __future__ import annotations

from builder.stages.embed.summary import EmbedSummary
from builder.stages.spec import BuildContext, StageSpec


def _run(ctx: BuildContext):
    from builder.stages.embed.stage import run_embed

    return run_embed(ctx.run, ctx.profile, corpus=ctx.inputs.corpus, triplets=ctx.inputs.triplets, force=ctx.force,
                     progress=ctx.progress, llama_cpp_dir=ctx.llama_cpp_dir, **ctx.opts("embed"))


STAGE = StageSpec("embed", _run, EmbedSummary, "fine-tune and gate the embedder, export it to GGUF")
