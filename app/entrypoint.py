"""The error boundary both console scripts (bastion, builder) share: user-fixable errors are one message, exit 1."""

from __future__ import annotations

import sys

import typer


def run_cli(cli: typer.Typer) -> None:
    """Run a Typer app; `BastionError` and pydantic's ValidationError print `Error: …` and exit 1.

    Anything else is a bug and keeps its traceback. pydantic is not imported here (it costs ~30 ms
    on every start, `--help` included): an error can only be its ValidationError once it is loaded.
    """
    from app.errors import BastionError

    try:
        cli()
    except BastionError as exc:
        typer.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:
        pydantic = sys.modules.get("pydantic")
        if pydantic is None or not isinstance(exc, pydantic.ValidationError):
            raise
        typer.echo(f"Error: invalid input: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        sys.exit(130)
