"""`bastion` console-script entry: as light as it can be, so `bastion --help` answers at once.

Typer, pydantic and the command modules load only when a command runs (`app.cli.commands`).
The root help is a stored copy of what Typer prints (`app.cli.root_help`, kept equal by a test),
and `bastion` alone opens the UI without building the command-line app first.
"""

from __future__ import annotations

import sys


def run() -> None:
    """Console-script entry: user-fixable errors print one line and exit 1."""
    from app.entrypoint import run_guarded

    argv = sys.argv[1:]
    if argv == ["--help"]:
        from app.cli.root_help import print_root_help

        if print_root_help():
            return
    if not argv:  # the terminal UI: what the root callback does with no options, then the UI
        run_guarded(_open_ui)
        return
    from app.cli.commands import cli

    run_guarded(cli)


def _open_ui() -> None:
    from app.cli.root_options import apply_root_options
    from app.cli.tui_cmd import start_ui

    apply_root_options()
    rc = start_ui()
    if rc:
        sys.exit(rc)


def __getattr__(name: str):
    if name == "cli":  # `from app.cli.main import cli` (tests, CliRunner) still gets the Typer app
        from app.cli.commands import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    run()
