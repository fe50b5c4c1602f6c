"""Glue between the chat screen and the library: start one answer (plain or with knowledge).

No widgets here; the chat screen runs `start_turn` in a thread worker and
iterates `Turn.generation` for pieces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.chat import ask_plain
from app.llm.engine import ChatEngine, Generation
from app.prompts import load_prompts
from app.settings import Settings

NO_KNOWLEDGE = "none"
BUNDLE_INDEX = "bundle"


@dataclass
class Turn:
    """An answer being written and the sources put in front of the model (numbered from 1)."""

    generation: Generation
    sources: list[dict] = field(default_factory=list)


def start_turn(question: str, *, settings: Settings, engine: ChatEngine, bundle: Any,
               history: list[dict], kb: str = NO_KNOWLEDGE, knowledge: Any = None) -> Turn:
    """Begin answering `question` after `history`, from knowledge base `kb` (or none)."""
    prompts = load_prompts(bundle.prompts_path if bundle is not None else None)
    gen = ask_plain(question, engine=engine, system=prompts.chat_system, history=history,
                    max_tokens=settings.engine.max_tokens, temperature=settings.engine.temperature)
    return Turn(gen)


def source_dict(source: Any, n: int) -> dict:
    """A citation as a plain dict: n, file, heading, line_start, line_end, text, score."""
    if isinstance(source, dict):
        d = dict(source)
    else:
        d = {k: getattr(source, k) for k in dir(source) if not k.startswith("_")
             and not callable(getattr(source, k, None))}
    d.setdefault("n", n)
    return d
