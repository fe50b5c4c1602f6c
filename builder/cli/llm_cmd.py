"""`builder data`, `builder train`, `builder export`: the LLM half of the factory.

Each command parses options and calls one stage function (builder.stages.data.stage.run_data,
builder.stages.train.stage.run_train, builder.stages.export.stage.run_export) with a RunDir.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from builder.rundir import StageResult

from builder.cli.options import EvalQuestionsOpt, ForceOpt, JsonOpt, NameOpt, ProfileOpt, RunOpt


def _say(msg: str) -> None:
    typer.echo(f"· {msg}", err=True)


def _open(profile: str, run: Optional[Path], name: str, eval_questions: Optional[Path] = None):
    from builder.profiles import load_profile, with_eval_questions
    from builder.rundir import RunDir

    prof = with_eval_questions(load_profile(profile), eval_questions)
    return RunDir.for_profile(prof.name, run=run, name=name), prof


def _show(res: StageResult, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"stage": res.stage, "dir": str(res.dir), "skipped": res.skipped,
                               "summary": res.summary, "outputs": res.outputs}, indent=2, default=str))
        return
    state = "skipped (up to date)" if res.skipped else "done"
    typer.echo(f"{res.stage}: {state} — {res.dir}")
    for k, v in res.summary.items():
        typer.echo(f"  {k}: {v}")


def register(cli: typer.Typer) -> None:
    @cli.command("data")
    def data(
        profile: str = ProfileOpt,
        data: Optional[List[str]] = typer.Option(None, "--data", "-d", help="Input file/folder, general=PATH, security=PATH or hf:NAME[:SPLIT]; repeatable. Default for tiny profiles: the bundled sample data."),
        run: Optional[Path] = RunOpt,
        name: str = NameOpt,
        strict: bool = typer.Option(False, "--strict", help="Stop at the first bad record (file:line field) instead of skipping it."),
        allow_pickle: bool = typer.Option(False, "--allow-pickle", help="Allow .pkl/.pickle inputs (unpickling runs code: only for data you trust)."),
        eval_questions: Optional[Path] = EvalQuestionsOpt,
        force: bool = ForceOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """Read, validate, clean, dedup, mix and split training data into the run directory."""
        from builder.stages.data.stage import run_data

        rd, prof = _open(profile, run, name, eval_questions)
        _show(run_data(rd, prof, inputs=data, strict=strict, allow_pickle=allow_pickle, force=force, progress=_say), as_json)

    @cli.command("train")
    def train(
        profile: str = ProfileOpt,
        run: Optional[Path] = RunOpt,
        name: str = NameOpt,
        data: Optional[List[str]] = typer.Option(None, "--data", "-d", help="Run the data stage on these inputs first (else reuse the run's data stage)."),
        backend: str = typer.Option("auto", "--backend", help="auto (unsloth when CUDA + unsloth are present), hf, or unsloth."),
        resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue an interrupted run from its last checkpoint."),
        max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Override train.max_steps."),
        epochs: Optional[float] = typer.Option(None, "--epochs", help="Override train.epochs."),
        lr: Optional[float] = typer.Option(None, "--lr", help="Override train.learning_rate."),
        batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Override train.batch_size."),
        grad_accum: Optional[int] = typer.Option(None, "--grad-accum", help="Override train.grad_accum."),
        save_steps: Optional[int] = typer.Option(None, "--save-steps", help="Override train.save_steps."),
        pretrain_epochs: Optional[float] = typer.Option(None, "--pretrain-epochs", help="Continued pre-training epochs on the corpus first (0 = skip)."),
        seed: Optional[int] = typer.Option(None, "--seed", help="Override train.seed."),
        strict: bool = typer.Option(False, "--strict", help="With --data: stop at the first bad record."),
        allow_pickle: bool = typer.Option(False, "--allow-pickle", help="With --data: allow pickle inputs."),
        force: bool = ForceOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """LoRA/QLoRA fine-tuning on the run's data (loss on responses only), with checkpoints and resume."""
        from builder.stages.train.stage import run_train

        rd, prof = _open(profile, run, name)
        if data:
            from builder.stages.data.stage import run_data

            run_data(rd, prof, inputs=data, strict=strict, allow_pickle=allow_pickle, progress=_say)
        overrides = {k: v for k, v in dict(max_steps=max_steps, epochs=epochs, learning_rate=lr, batch_size=batch_size,
                                           grad_accum=grad_accum, save_steps=save_steps, pretrain_epochs=pretrain_epochs,
                                           seed=seed).items() if v is not None}
        res = run_train(rd, prof, backend=backend, resume=resume, force=force, overrides=overrides, progress=_say)
        if res is not None:  # None on non-zero ranks under torchrun
            _show(res, as_json)

    @cli.command("export")
    def export(
        profile: str = ProfileOpt,
        run: Optional[Path] = RunOpt,
        name: str = NameOpt,
        llama_cpp_dir: Optional[Path] = typer.Option(None, "--llama-cpp-dir", help="Use this llama.cpp checkout's converter."),
        quant: Optional[str] = typer.Option(None, "--quant", help="Override the profile's quantization type (Q4_K_M …)."),
        lora_gguf: bool = typer.Option(False, "--lora-gguf", help="Also write the LoRA adapter as GGUF."),
        force: bool = ForceOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """Merge the adapter into the 16-bit base, convert to GGUF, quantize, verify with the app's engine."""
        from builder.stages.export.stage import run_export

        rd, prof = _open(profile, run, name)
        _show(run_export(rd, prof, llama_cpp_dir=llama_cpp_dir, quant=quant, lora_gguf=lora_gguf,
                         force=force, progress=_say), as_json)
