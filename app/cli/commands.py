"""The `bastion` Typer app: the root options and every command module registered on it.

Imported by `app.cli.main.run` only when a command runs (not for `bastion --help`).
Help is plain (no Rich): typer's Rich help imports rich.markdown and costs ~0.3 s per call.
"""

from __future__ import annotations

import typer

from app.cli import analyze_cmd, ask_cmd, bundle_cmd, doctor_cmd, engine_cmd, knowledge_cmd, serve_cmd, signing_cmd
from app.cli.root_options import apply_root_options

cli = typer.Typer(
    name="bastion",
    help="Bastion: an offline security assistant (RAG chat with citations, secure-code analysis).",
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@cli.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log details to stderr."),
    bundle: str = typer.Option(None, "--bundle", "-b", help="Bundle to use for this run: a name from `bastion bundle list` or a directory."),
) -> None:
    """With no command, open the terminal UI."""
    apply_root_options(verbose=verbose, bundle=bundle)
    if ctx.invoked_subcommand is None:
        from app.cli.tui_cmd import open_tui

        open_tui()


for _module in (ask_cmd, knowledge_cmd, analyze_cmd, bundle_cmd, serve_cmd, doctor_cmd, signing_cmd, engine_cmd):
    _module.register(cli)

