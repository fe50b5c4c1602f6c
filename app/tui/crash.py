"""Run the TUI so that it cannot die silently: crash log, restored terminal, one line, non-zero exit.

Textual catches an exception raised in any handler, restores the terminal, prints a
rich traceback to `App.error_console` and sets `App.return_code` to 1. `run_app`
points that console at a buffer (public attributes only, no private overrides),
writes the buffer to `BASTION_HOME/logs/crash-<time>.log`, prints one line on
stderr naming the file, and returns the exit status for the CLI to use.
While the TUI runs, log records go to `BASTION_HOME/logs/bastion.log` instead of
stderr, where they would scribble over the screen, and so does native output: Textual
draws on its own copy of the terminal (`app.tui.terminal.own_terminal`).
"""

from __future__ import annotations

import io
import logging
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app import paths

if TYPE_CHECKING:
    from app.tui.app import BastionApp


def logs_dir() -> Path:
    return paths.home() / "logs"


def run_app(app: "BastionApp", **run_kwargs: Any) -> int:
    """Run `app` (a Textual App); returns 0, or 1 after writing a crash log and saying where it is."""
    from rich.console import Console

    from app.tui.terminal import own_terminal

    buffer = io.StringIO()
    app.error_console = Console(file=buffer, width=120, color_system=None, force_terminal=False,
                                markup=False, highlight=False, soft_wrap=False)
    handler, moved = _log_to_file()
    crash: str | None = None
    try:
        with own_terminal(logs_dir() / "bastion.log"):
            app.run(**run_kwargs)
    except Exception:  # raised outside Textual's own handling (e.g. while starting the driver)
        crash = traceback.format_exc()
    finally:
        _restore_logging(handler, moved)
        _save_draft(app)
    rc = app.return_code or 0
    report = buffer.getvalue()
    if crash is None and rc == 0:
        if report.strip():  # Textual printed something without failing: keep it visible
            sys.stderr.write(report)
        return 0
    details = "\n".join(t for t in (report, crash or "") if t.strip())
    secret = app.settings.engine.remote_api_key
    if secret:  # the traceback shows local variables; the API key is not for a log file
        details = details.replace(secret, "***")
    path = write_crash_log(details)
    print(f"Bastion stopped after an unexpected error; details are in {path} "
          "(your conversations and unsent message are saved).", file=sys.stderr)
    return rc or 1


def write_crash_log(details: str) -> Path:
    """Write one crash log under BASTION_HOME/logs/ and return its path."""
    from importlib.metadata import PackageNotFoundError, version

    def ver(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "?"

    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = logs_dir() / f"crash-{stamp}.log"
    n = 1
    while path.exists():
        n += 1
        path = logs_dir() / f"crash-{stamp}-{n}.log"
    header = (f"Bastion crash at {time.strftime('%Y-%m-%d %H:%M:%S %z')}\n"
              f"bastion {ver('bastion')}, textual {ver('textual')}, python {platform.python_version()}, "
              f"{platform.platform()}\n"
              "The traceback below shows local variables, which may include text you typed: "
              "read it before sharing it.\n\n")
    try:
        from app.atomic import write_text

        write_text(path, header + details.rstrip() + "\n")
    except OSError:  # BASTION_HOME not writable: the temp dir still gets the details
        import tempfile

        fd, name = tempfile.mkstemp(prefix="bastion-crash-", suffix=".log")
        with open(fd, "w", encoding="utf-8") as fh:
            fh.write(header + details)
        path = Path(name)
    return path


def _log_to_file() -> tuple[logging.Handler | None, list[logging.Handler]]:
    """Send log records to BASTION_HOME/logs/bastion.log while the TUI owns the terminal.

    Returns the file handler and the terminal handlers it replaced.
    """
    root = logging.getLogger()
    try:
        logs_dir().mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(logs_dir() / "bastion.log", encoding="utf-8")
    except OSError:
        return None, []
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    moved = [h for h in root.handlers if _to_terminal(h)]
    for h in moved:
        root.removeHandler(h)
    root.addHandler(handler)
    return handler, moved


def _to_terminal(h: logging.Handler) -> bool:
    # exactly a StreamHandler (a FileHandler is a subclass), so `.stream` is there
    return type(h) is logging.StreamHandler and h.stream in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)


def _restore_logging(handler: logging.Handler | None, moved: list[logging.Handler]) -> None:
    if handler is None:
        return
    root = logging.getLogger()
    root.removeHandler(handler)
    handler.close()
    for h in moved:
        root.addHandler(h)


def _save_draft(app: "BastionApp") -> None:
    """Keep the text typed but not sent, for the next start (see `app.tui.drafts`)."""
    try:
        text = app.unsent_draft()
    except Exception:  # the app never got as far as the chat screen
        return
    from app.tui import drafts

    try:
        drafts.save(text)
    except OSError as exc:
        logging.getLogger(__name__).warning("could not keep the unsent message: %s", exc)
