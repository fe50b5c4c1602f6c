"""The `bastion` Typer app: the root options and every command module registered on it.

Imported by `app.cli.main.run` only when a command runs (not for `bastion --help`).
Help is plain (no Rich): typer's Rich help imports rich.markdown and costs ~0.3 s per call.
"""

from __future__ import annotations

import logging

import typer

from app.cli import analyze_cmd, ask_cmd, bundle_cmd, doctor_cmd, knowledge_cmd, serve_cmd, signing_cmd

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
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if bundle:
        import os

        os.environ["BASTION_BUNDLE"] = bundle  # the strongest settings source every command reads
    if not verbose:  # library chatter (pypdf's "ignoring wrong pointing object") is not for users
        logging.getLogger("pypdf").setLevel(logging.ERROR)
    from app.flags import env_flag

    if env_flag("BASTION_OFFLINE"):  # true/1/yes/on arm it; a value that is none of those is an error
        from app.netguard import block_network

        block_network()
    if ctx.invoked_subcommand is None:
        from app.cli.tui_cmd import open_tui

        open_tui()


for _module in (ask_cmd, knowledge_cmd, analyze_cmd, bundle_cmd, serve_cmd, doctor_cmd, signing_cmd):
    _module.register(cli)

