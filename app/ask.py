"""One question, one answer: the library behind `bastion ask` (no UI here)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Callable

from app.chat import build_messages
from app.prompts import load_prompts
from app.runtime import make_engine, open_bundle
from app.settings import Settings


def run_ask(
    question: str,
    *,
    settings: Settings,
    max_tokens: int | None = None,
    use_knowledge: bool = True,
    on_piece: Callable[[str], None] | None = None,
) -> dict:
    """Answer `question` from the configured bundle; stream pieces to `on_piece`.

    Returns a JSON-ready dict: answer, sources, timings, model, bundle.
    """
    bundle = open_bundle(settings) if settings.engine.kind == "local" else _maybe_bundle(settings)
    engine = make_engine(settings, bundle)
    prompts = load_prompts(bundle.prompts_path if bundle else None)
    messages = build_messages(question, system=prompts.chat_system)
    sources: list[dict] = []
    gen = engine.chat(messages, max_tokens=max_tokens)
    for piece in gen:
        if on_piece:
            on_piece(piece)
    return {
        "question": question,
        "answer": gen.text,
        "sources": sources,
        "source_lines": [],
        "model": engine.name,
        "bundle": str(bundle.root) if bundle else None,
        "timings": asdict(gen.stats),
    }


def _maybe_bundle(settings: Settings):
    from app.errors import BundleError

    try:
        return open_bundle(settings)
    except BundleError:
        return None
