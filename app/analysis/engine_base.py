"""What the optional engines' runners share: running one tool under a time limit, and their output's shape.

The runners (cppcheck, clang, flawfinder, shellcheck) import this module, never `engines`, which
imports them: the registry of engines sits above its runners."""

from __future__ import annotations

import subprocess
from pathlib import Path

from app.analysis.hits import Hit

RunnerOutput = tuple[list[Hit], dict[str, list[str]], dict[str, list[str]]]
"""(hits, notes per path, errors per path)."""


def run_tool(cmd: list[str], *, timeout: float, cwd: str | None = None) -> subprocess.CompletedProcess:
    """Run one engine command; TimeoutError names the engine and the limit."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, cwd=cwd,
                              errors="replace")
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"{Path(cmd[0]).name} took longer than {timeout:.0f}s") from None
