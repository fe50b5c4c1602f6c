"""`builder embed|index|eval|bundle` and `builder build` (every stage, with a progress display)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from builder.cli.options import DataOpt, EvalQuestionsOpt, ForceOpt, JsonOpt, NameOpt, NotesOpt, ProfileOpt, RunOpt, ShipForceOpt
from builder.stages import stage_names


def _say(msg: str) -> None:
    typer.echo(f"· {msg}", err=True)


def _open(profile: str, run: Optional[Path], name: str, eval_questions: Optional[Path] = None):
    from builder.profiles import load_profile, with_eval_questions
    from builder.rundir import RunDir

    prof = with_eval_questions(load_profile(profile), eval_questions)
    return RunDir.for_profile(prof.name, run=run, name=name), prof


def _show(res, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"stage": res.stage, "dir": str(res.dir), "skipped": res.skipped,
                               "summary": res.summary, "outputs": res.outputs}, indent=2, default=str))
        return
    typer.echo(f"{res.stage}: {'skipped (up to date)' if res.skipped else 'done'} — {res.dir}")
    for k, v in res.summary.items():
        typer.echo(f"  {k}: {v}")


def register(cli: typer.Typer) -> None:
    @cli.command("embed")
    def embed(
        profile: str = ProfileOpt,
        data: Optional[List[str]] = DataOpt,
        run: Optional[Path] = RunOpt,
        name: str = NameOpt,
        starter_notes: bool = NotesOpt,
        epochs: Optional[float] = typer.Option(None, "--epochs", help="Override embed.epochs."),
        lr: Optional[float] = typer.Option(None, "--lr", help="Override embed.learning_rate."),
        batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Override embed.batch_size."),
        max_steps: int = typer.Option(-1, "--max-steps", help="Stop after this many steps (-1: run the epochs)."),
        llama_cpp_dir: Optional[Path] = typer.Option(None, "--llama-cpp-dir", help="Use this llama.cpp checkout's converter."),
        force: bool = ForceOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """Fine-tune the embedder on triplets (or pairs mined from the corpus); ship it only if it beats the base."""
        from builder.build import split_inputs
        from builder.stages.embed.stage import run_embed

        rd, prof = _open(profile, run, name)
        inp = split_inputs(data, starter_notes=starter_notes)
        _show(run_embed(rd, prof, corpus=inp.corpus, triplets=inp.triplets, force=force, progress=_say,
                        max_steps=max_steps, llama_cpp_dir=llama_cpp_dir, epochs=epochs, learning_rate=lr,
                        batch_size=batch_size), as_json)

    @cli.command("index")
    def index(
        profile: str = ProfileOpt,
        data: Optional[List[str]] = DataOpt,
        run: Optional[Path] = RunOpt,
        name: str = NameOpt,
        starter_notes: bool = NotesOpt,
        force: bool = ForceOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """Chunk the corpus with the app's chunker and index it with the embed stage's embedder."""
        from builder.build import split_inputs
        from builder.stages.index.stage import run_index

        rd, prof = _open(profile, run, name)
        inp = split_inputs(data, starter_notes=starter_notes)
        _show(run_index(rd, prof, corpus=inp.corpus, force=force, progress=_say), as_json)

    @cli.command("eval")
    def eval_(
        profile: str = ProfileOpt,
        run: Optional[Path] = RunOpt,
        name: str = NameOpt,
        max_items: Optional[int] = typer.Option(None, "--max-items", help="Held-out instruction items to score."),
        max_new_tokens: Optional[int] = typer.Option(None, "--max-new-tokens", help="Longest generated answer."),
        eval_questions: Optional[Path] = EvalQuestionsOpt,
        force: bool = ForceOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """Before/after figures: retrieval on held-out documents, chat model on the held-out split."""
        from builder.stages.eval.stage import run_eval

        rd, prof = _open(profile, run, name, eval_questions)
        _show(run_eval(rd, prof, force=force, progress=_say, max_items=max_items, max_new_tokens=max_new_tokens), as_json)

    @cli.command("bundle")
    def bundle(
        profile: str = ProfileOpt,
        run: Optional[Path] = RunOpt,
        name: str = NameOpt,
        bundle_out: Optional[Path] = typer.Option(None, "--bundle-out", help="Bundle directory (default: <run>/bundle/<profile>)."),
        force: bool = ShipForceOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """Assemble, seal and verify the bundle from the run's outputs."""
        from builder.stages.bundle.stage import run_bundle

        rd, prof = _open(profile, run, name)
        _show(run_bundle(rd, prof, out=bundle_out, force=force, progress=_say), as_json)

    @cli.command("build", help=f"Run every stage ({' → '.join(stage_names())}), resumable, to a verified bundle.")
    def build(
        profile: str = ProfileOpt,
        data: Optional[List[str]] = DataOpt,
        stages: Optional[str] = typer.Option(None, "--stages", help=f"Comma-separated subset of {','.join(stage_names())} (default: all)."),
        run: Optional[Path] = RunOpt,
        name: str = NameOpt,
        bundle_out: Optional[Path] = typer.Option(None, "--bundle-out", help="Bundle directory (default: <run>/bundle/<profile>)."),
        resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue an interrupted train stage from its last checkpoint."),
        starter_notes: bool = NotesOpt,
        train_steps: Optional[int] = typer.Option(None, "--train-steps", help="Override train.max_steps (quick runs)."),
        embed_steps: int = typer.Option(-1, "--embed-steps", help="Stop embedder training after this many steps."),
        eval_items: Optional[int] = typer.Option(None, "--eval-items", help="Held-out instruction items to score."),
        eval_new_tokens: Optional[int] = typer.Option(None, "--eval-new-tokens", help="Longest generated answer in the eval stage."),
        llama_cpp_dir: Optional[Path] = typer.Option(None, "--llama-cpp-dir", help="Use this llama.cpp checkout's converter."),
        eval_questions: Optional[Path] = EvalQuestionsOpt,
        force: bool = ShipForceOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        from builder.build import parse_stages, run_build
        from builder.build_display import BuildDisplay

        rd, prof = _open(profile, run, name, eval_questions)
        wanted = parse_stages(stages)
        with BuildDisplay(wanted, quiet=as_json) as display:
            result = run_build(rd, prof, data=data, stages=wanted, resume=resume, force=force, starter_notes=starter_notes,
                               bundle_out=bundle_out, llama_cpp_dir=llama_cpp_dir,
                               train_overrides={"max_steps": train_steps} if train_steps else None,
                               embed_overrides={"max_steps": embed_steps},
                               eval_options={"max_items": eval_items, "max_new_tokens": eval_new_tokens},
                               progress=display.message, on_stage_done=display.done)
        if as_json:
            typer.echo((result.run / "summary.json").read_text(encoding="utf-8"))
        else:
            display.summary(result.summary_markdown(prof))
