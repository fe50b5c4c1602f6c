"""`bastion --help` stays light: structure, not timings (bench/bench_speed.py startup measures those)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent / "bastion"
HEAVY = ("typer", "click", "rich", "pydantic", "llama_cpp", "chromadb", "torch", "transformers", "textual", "numpy")


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys; print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return [m for m in out.stderr.strip().splitlines()[-1].split(",") if m] if out.stderr.strip() else []


def test_importing_the_entry_loads_no_heavy_module():
    assert _loaded_after("import app.cli.main") == []


def test_root_help_loads_no_heavy_module():
    code = "import sys; sys.argv = ['bastion', '--help']; from app.cli.main import run; run()"
    assert _loaded_after(code) == []


def test_typer_app_loads_no_model_or_ui_module():
    loaded = _loaded_after("from app.cli.main import cli")
    assert not set(loaded) & {"llama_cpp", "chromadb", "torch", "transformers", "textual", "rich"}, loaded


def test_stored_root_help_is_what_typer_prints():
    from app.cli.root_help import ROOT_HELP, render_with_typer

    assert render_with_typer() == ROOT_HELP, "regenerate app/cli/root_help.py: python -m app.cli.root_help"
    for columns in ("80", "200"):
        out = subprocess.run([str(BIN), "--help"], capture_output=True, text=True, check=True,
                             env=dict(os.environ, COLUMNS=columns))
        assert out.stdout == ROOT_HELP


def test_narrow_terminal_help_comes_from_typer():
    out = subprocess.run([str(BIN), "--help"], capture_output=True, text=True, check=True,
                         env=dict(os.environ, COLUMNS="60"))
    assert out.stdout.startswith("Usage: bastion [OPTIONS] COMMAND") and out.stdout != ""
    assert "ask" in out.stdout and "bundle" in out.stdout


def test_ui_alone_starts_without_the_command_line_app():
    code = ("import sys; sys.argv = ['bastion']; import app.cli.tui_cmd as t\n"
            "t.start_ui = lambda: 0\n"
            "from app.cli.main import run; run()")
    assert not set(_loaded_after(code)) & {"typer", "click", "rich"}
