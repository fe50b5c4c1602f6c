"""`bastion` with no arguments: the Textual UI; a crash exits non-zero after writing its log."""

from __future__ import annotations

from typing import Callable


def open_tui() -> None:
    """The root Typer callback's way in: a non-zero exit status leaves as `typer.Exit`."""
    rc = start_ui()
    if rc:
        import typer

        raise typer.Exit(rc)


def start_ui() -> int:
    """Run the UI (keys typed meanwhile held); returns its exit status. Needs no Typer (`bastion` alone)."""
    restore = hold_keys()
    try:
        try:
            from app.tui.launch import launch
        except ModuleNotFoundError as exc:
            if not (exc.name or "").startswith("app.tui"):
                raise
            print("The terminal UI is not available in this build. Try `bastion --help`.")
            return 0
        return launch()
    finally:
        restore()


def hold_keys() -> Callable[[], None]:
    """Keep keys typed while the UI loads exactly as typed; returns the function that undoes it.

    In the terminal's default (cooked) mode, Enter typed before Textual takes over becomes
    "\\n" (read as Ctrl+J, a new line, so the question was never sent) and every key is
    echoed over the screen. Switching off echo, line editing and CR translation at once
    leaves the keys in the input queue, raw, for the app to read in order.
    """
    try:
        import sys
        import termios

        fd = sys.stdin.fileno()
        if not sys.stdin.isatty():
            return lambda: None
        before = termios.tcgetattr(fd)
        raw = termios.tcgetattr(fd)
        raw[0] &= ~(termios.ICRNL | termios.INLCR | termios.IGNCR)
        raw[3] &= ~(termios.ICANON | termios.ECHO)
        termios.tcsetattr(fd, termios.TCSANOW, raw)
    except Exception:  # not a terminal, no termios (Windows): nothing to hold
        return lambda: None

    def restore() -> None:
        try:
            termios.tcsetattr(fd, termios.TCSANOW, before)
        except Exception:
            pass

    return restore
