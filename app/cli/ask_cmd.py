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
    result = run_ask(question, settings=settings, max_tokens=max_tokens, use_knowledge=not no_rag,
                     on_piece=None if as_json else _print_piece, kbs=list(kb) if kb else None)
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        typer.echo("")
        for line in result.get("source_lines", []):
            typer.echo(printable(line))


def _print_piece(piece: str) -> None:
    sys.stdout.write(printable(piece))  # no escape sequences from documents or the model reach the terminal
    sys.stdout.flush()
