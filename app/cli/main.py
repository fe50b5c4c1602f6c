"""`bastion` console-script entry: as light as it can be, so `bastion --help` answers at once.

Typer, pydantic and the command modules load only when a command runs (`app.cli.commands`);
the root help is a stored copy of what Typer prints (`app.cli.root_help`, kept equal by a test).
"""

from __future__ import annotations

import sys


def run() -> None:
    """Console-script entry: user-fixable errors print one line and exit 1."""
    if sys.argv[1:] == ["--help"]:
        from app.cli.root_help import print_root_help

        if print_root_help():
            return
    from app.cli.commands import cli
    from app.entrypoint import run_cli

    run_cli(cli)


def __getattr__(name: str):
    if name == "cli":  # `from app.cli.main import cli` (tests, CliRunner) still gets the Typer app
        from app.cli.commands import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    run()
