"""`bastion ask`: one question, streamed answer (with sources when the bundle has knowledge)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from app.terminal_text import printable


def register(cli: typer.Typer) -> None:
    cli.command("ask")(ask)


def ask(
    question: str = typer.Argument(..., help="The question; '-' reads it from stdin."),
    as_json: bool = typer.Option(False, "--json", help="Print answer, sources and timings as JSON."),
    bundle: Optional[Path] = typer.Option(None, "--bundle", help="Bundle directory (default: settings, else the starter bundle)."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", help="Longest answer in tokens."),
    no_rag: bool = typer.Option(False, "--no-rag", help="Answer without searching any knowledge base."),
    kb: Optional[list[str]] = typer.Option(None, "--kb", help="Search only this knowledge base (repeatable; 'bundle' = the bundle's own index)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Progress on stderr (model loading, search, reading "
                                 "the sources) even when stderr is not a terminal; never with --json."),
) -> None:
    """Ask one question and stream the answer."""
    from app.ask import run_ask
    from app.errors import BastionError
    from app.settings import load_settings

    if question == "-":
        question = sys.stdin.read()
    if not question.strip():
        raise BastionError("the question is empty", hint='pass a question: bastion ask "What is CWE-89?"')
    settings = load_settings(**({"bundle": bundle} if bundle else {}))
    status = _Status(live=sys.stderr.isatty()) if (sys.stderr.isatty() or verbose) and not as_json else None
    on_piece = None if as_json else _print_piece
    if status and on_piece:
        on_piece = status.then(on_piece)
    result = run_ask(question, settings=settings, max_tokens=max_tokens, use_knowledge=not no_rag,
                     on_piece=on_piece, kbs=list(kb) if kb else None, on_status=status)
    if as_json:
        typer.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
    else:
        typer.echo("")
        for line in result.source_lines():
            typer.echo(printable(line))


def _print_piece(piece: str) -> None:
    sys.stdout.write(printable(piece))  # no escape sequences from documents or the model reach the terminal
    sys.stdout.flush()


class _Status:
    """What `ask` is doing before the first piece, on stderr: on a terminal one line rewritten in place
    and wiped when the answer starts; otherwise (-v into a log) one line per step, with the seconds."""

    def __init__(self, *, live: bool) -> None:
        import time

        self.live, self._clock, self._t0, self._shown = live, time.monotonic, time.monotonic(), False

    def __call__(self, line: str) -> None:
        if self.live:
            sys.stderr.write(f"\r{line[:78]:<78}")
            self._shown = True
        else:
            sys.stderr.write(f"[{self._clock() - self._t0:5.1f}s] {line}\n")
        sys.stderr.flush()

    def then(self, on_piece):
        """`on_piece`, wiping the status line before the first piece is printed."""
        def wrapped(piece: str) -> None:
            if self._shown:
                sys.stderr.write("\r" + " " * 78 + "\r")
                sys.stderr.flush()
                self._shown = False
            on_piece(piece)
        return wrapped

