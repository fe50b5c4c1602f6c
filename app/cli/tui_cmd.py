"""`bastion` with no arguments: the Textual UI (falls back to help until it exists)."""

from __future__ import annotations

import typer


def open_tui() -> None:
    try:
        from app.tui.launch import launch
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("app.tui"):
            raise
        typer.echo("The terminal UI is not available in this build. Try `bastion --help`.")
        raise typer.Exit(0)
    launch()
