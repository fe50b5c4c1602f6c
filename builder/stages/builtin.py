"""The built-in stages, in pipeline order: data -> train -> export -> embed -> index -> eval -> bundle.

Each entry adapts the stage's own function (which the per-stage CLI commands call too) to the one
signature `run(ctx) -> StageResult` and says how its line of the build summary reads.
"""

from __future__ import annotations

from pathlib import Path

from builder.stages.registry import BuildContext, StageSpec


def _data(ctx: BuildContext):
    from builder.data.stage import run_data

    return run_data(ctx.run, ctx.profile, inputs=ctx.inputs.llm or None, force=ctx.force, progress=ctx.progress,
                    **ctx.opts("data"))


def _train(ctx: BuildContext):
    from builder.train.stage import run_train

    return run_train(ctx.run, ctx.profile, resume=ctx.resume, force=ctx.force, overrides=ctx.opts("train"),
                     progress=ctx.progress)


def _export(ctx: BuildContext):
    from builder.export.stage import run_export

    return run_export(ctx.run, ctx.profile, llama_cpp_dir=ctx.llama_cpp_dir, force=ctx.force, progress=ctx.progress,
                      **ctx.opts("export"))


def _embed(ctx: BuildContext):
    from builder.embed_stage import run_embed

    return run_embed(ctx.run, ctx.profile, corpus=ctx.inputs.corpus, triplets=ctx.inputs.triplets, force=ctx.force,
                     progress=ctx.progress, llama_cpp_dir=ctx.llama_cpp_dir, **ctx.opts("embed"))


def _index(ctx: BuildContext):
    from builder.index_stage import run_index

    return run_index(ctx.run, ctx.profile, corpus=ctx.inputs.corpus, force=ctx.force, progress=ctx.progress)


def _eval(ctx: BuildContext):
    from builder.eval_stage import run_eval

    return run_eval(ctx.run, ctx.profile, force=ctx.force, progress=ctx.progress, **ctx.opts("eval"))


def _bundle(ctx: BuildContext):
    from builder.bundle_stage import run_bundle

    return run_bundle(ctx.run, ctx.profile, out=ctx.bundle_out, force=ctx.force, progress=ctx.progress,
                      **ctx.opts("bundle"))


def _data_line(d: dict, _: Path) -> str:
    tasks = d.get("app_tasks") or {}
    extra = f"; app-format examples: {tasks.get('review', 0)} review, {tasks.get('grounded', 0)} grounded" if tasks else ""
    return (f"- **Data**: {d.get('records_read')} records read, {d.get('bad_records')} bad skipped, "
            f"train {d.get('train')} / val {d.get('val')} / corpus {d.get('corpus')}; {d.get('mix', '')}{extra}")


def _train_line(t: dict, _: Path) -> str:
    return (f"- **LoRA fine-tune**: {t.get('steps', t.get('global_step', '?'))} steps, loss "
            f"{t.get('train_loss_first')} → {t.get('train_loss_last')}; eval loss {t.get('eval_loss_before')} → {t.get('eval_loss_after')}")


def _export_line(x: dict, _: Path) -> str:
    return (f"- **Export**: {x.get('llm_gguf')} ({x.get('quant_bytes', 0) / 1e6:.0f} MB from "
            f"{x.get('f16_bytes', 0) / 1e6:.0f} MB f16); next-token agreement f16 {x.get('agreement_f16')}, "
            f"quantized {x.get('agreement_quant')}; chat ends at stop: {x.get('chat_ends_at_stop')}")


def _embed_line(e: dict, _: Path) -> str:
    return f"- **Embedder**: {e.get('verdict')} (parity cosine {e.get('parity_min_cosine')})"


def _index_line(i: dict, _: Path) -> str:
    return (f"- **Index**: {i.get('chunks')} chunks from {i.get('files')} files at {i.get('chunks_per_s')} chunks/s "
            f"({100 * float(i.get('embedder_share') or 0):.0f}% of the time in the embedder)")


def _eval_line(v: dict, folder: Path) -> str:
    figs = ", ".join(f"{k} {val}" for k, val in v.items() if val is not None)
    gate = "" if v.get("gate_passed", True) else " — **gate failed: the tuned model is worse than its base** (see the report)"
    return f"- **Eval**: {figs} (report: `{folder / 'report.md'}`){gate}"


def _bundle_line(b: dict, _: Path) -> str:
    return (f"\n**Bundle**: `{b.get('path')}` ({b.get('files')} files, {b.get('bytes', 0) / 1e6:.1f} MB) — "
            f"verified. Try: `bastion ask --bundle {b.get('path')} \"How do I prevent SQL injection?\"`")


BUILTIN = [
    StageSpec("data", _data, _data_line, "read, clean, mix; app-format review and grounded-answering examples"),
    StageSpec("train", _train, _train_line, "LoRA fine-tune of the chat model"),
    StageSpec("export", _export, _export_line, "merge, convert to GGUF, quantize, verify"),
    StageSpec("embed", _embed, _embed_line, "fine-tune and gate the embedder, export it to GGUF"),
    StageSpec("index", _index, _index_line, "build the knowledge index with the shipped embedder"),
    StageSpec("eval", _eval, _eval_line, "base vs tuned: retrieval, chat, and the app's own pipelines"),
    StageSpec("bundle", _bundle, _bundle_line, "assemble, seal and verify the bundle"),
]
