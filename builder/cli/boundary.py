"""The builder's error boundary: user-fixable errors are one message and exit 1.

`BastionError` (the library's error family) and pydantic's ValidationError (a bad profile or
stage report) print `Error: …` with the fix; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import typer


def run_cli(cli: typer.Typer) -> None:
    from pydantic import ValidationError

    from app.errors import BastionError

    try:
        cli()
    except BastionError as exc:
        typer.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except ValidationError as exc:
        typer.echo(f"Error: invalid input: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        sys.exit(130)
