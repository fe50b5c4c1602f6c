"""`bastion` with no arguments lands here."""

from __future__ import annotations


def launch() -> int:
    """Load settings and run the TUI; returns the exit status (non-zero after a crash, see `app.tui.crash`).

    A bad settings file raises ConfigError to the CLI.
    """
    from app.settings import load_settings
    from app.tui.app import make_app
    from app.tui.crash import run_app

    return run_app(make_app(load_settings()))
