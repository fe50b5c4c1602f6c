"""The text `bastion --help` prints, stored so that printing it needs neither Typer nor the commands.

It is exactly what the Typer app (`app.cli.commands`) renders at 80 columns or more (click caps help
at 78 characters); tests/foundation/test_cli_startup.py compares the two. After changing a command's
name or docstring, regenerate it: `python -m app.cli.root_help > /tmp/h && cat /tmp/h` and paste.
"""

from __future__ import annotations

import os
import sys

ROOT_HELP = """\
Usage: bastion [OPTIONS] COMMAND [ARGS]...

  Bastion: an offline security assistant (RAG chat with citations, secure-code
  analysis).

Options:
  -v, --verbose       Log details to stderr.
  -b, --bundle <str>  Bundle to use for this run: a name from `bastion bundle
                      list` or a directory.
  --help              Show this message and exit.

Commands:
  ask      Ask one question and stream the answer.
  ingest   Add new files, re-embed changed ones, remove deleted ones;...
  search   Show the ranked chunks a question retrieves, with scores and...
  analyze  Find security weaknesses: label, CWE, explanation and a...
  serve    Serve the bundle as an OpenAI-compatible API:...
  doctor   Check versions, CPU features, the bundle and the engine...
  kb       Manage your knowledge bases.
  bundle   Inspect, verify and create bundles.
  engine   Show or stop the resident engine (the model kept loaded...
"""


def _columns() -> int:
    """The terminal width as shutil.get_terminal_size (what click uses) finds it, without importing shutil."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def print_root_help() -> bool:
    """Print the stored root help; False (printing nothing) when Typer must render it instead.

    Typer renders it when the program is not called `bastion` (the usage line names the program)
    or the terminal is narrower than 80 columns (click wraps to the terminal there).
    """
    if os.path.basename(sys.argv[0]) != "bastion" or _columns() < 80:
        return False
    sys.stdout.write(ROOT_HELP)
    sys.stdout.flush()
    return True


def render_with_typer() -> str:
    """What the Typer app prints for `bastion --help` at 80 columns (for the test and regeneration)."""
    import subprocess

    code = ("import sys; sys.argv = ['bastion', '--help']; from app.cli.commands import cli; "
            "from app.entrypoint import run_guarded; run_guarded(cli)")
    env = dict(os.environ, COLUMNS="80")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout


if __name__ == "__main__":
    sys.stdout.write(render_with_typer())
