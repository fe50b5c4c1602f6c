"""`bastion` with no arguments lands here."""

from __future__ import annotations


def launch() -> None:
    """Load settings and run the TUI (a bad settings file raises ConfigError to the CLI)."""
    from app.settings import load_settings
    from app.tui.app import make_app

    make_app(load_settings()).run()
