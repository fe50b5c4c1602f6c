"""`bastion doctor`."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer


def register(cli: typer.Typer) -> None:
    cli.command("doctor")(doctor)


def doctor(
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
    no_probe: bool = typer.Option(False, "--no-probe", help="Skip the engine smoke test."),
) -> None:
    """Check versions, CPU features, the bundle and the engine (offline). Exit 1 if anything fails."""
    from app.doctor import run_doctor
    from app.settings import load_settings

    checks = run_doctor(load_settings(), probe=not no_probe)
    if as_json:
        typer.echo(json.dumps([asdict(c) for c in checks], indent=2))
    else:
        for c in checks:
            typer.echo(f"{'ok  ' if c.ok else 'FAIL'} {c.name:9} {c.detail}")
    if not all(c.ok for c in checks):
        raise typer.Exit(1)
