"""Glue between the chat screen and the library: start one answer (plain or with knowledge).

No widgets here; the chat screen runs `start_turn` in a thread worker and
iterates `Turn.generation` for pieces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.chat import ask_plain
from app.llm.engine import ChatEngine
from app.prompts import context_tokens_for, load_prompts
from app.settings import Settings
from app.tui.knowledge_context import NO_KNOWLEDGE


@dataclass
class Turn:
    """An answer being written and the sources put in front of the model (numbered from 1)."""

    generation: Any
    sources: list[dict] = field(default_factory=list)

    def cited(self) -> list[dict]:
        """The sources the answer cites as [n]; when it cites none, all given sources marked `cited: False`.

        A checked citation also carries `supports` (the answer sentences it backs) and `span`
        (the passage of the chunk that backs them; the quote itself for an extractive answer).
        """
        citations = getattr(self.generation, "citations", None)
        if citations:
            return [{**self.sources[c.n - 1], "cited": True, "supports": list(c.sentences),
                     "span": c.spans[0] if c.spans else ""} for c in citations]
        numbers = getattr(self.generation, "cited_numbers", lambda: [])()
        if numbers:
            return [{**self.sources[n - 1], "cited": True} for n in numbers]
        return [{**s, "cited": False} for s in self.sources]


def start_turn(question: str, *, settings: Settings, engine: ChatEngine, bundle: Any,
               history: list[dict], kb: str = NO_KNOWLEDGE, knowledge: Any = None) -> Turn:
    """Begin answering `question` after `history`, from knowledge choice `kb` (or none)."""
    prompts = load_prompts(bundle.prompts_path if bundle is not None else None)
    es = settings.engine
    if kb == NO_KNOWLEDGE or knowledge is None:
        gen = ask_plain(question, engine=engine, system=prompts.chat_system, history=history,
                        max_tokens=es.max_tokens, temperature=es.temperature)
        return Turn(gen)
    from app.knowledge import answer

    ans = answer(question, engine=engine, retriever=knowledge.retriever(kb), system=prompts.chat_system,
                 history=history, max_tokens=es.max_tokens, k=settings.retrieval.k,
                 context_tokens=context_tokens_for(prompts, settings))
    return Turn(ans, [source_dict(h, n) for n, h in enumerate(ans.hits, 1)])


def source_dict(hit: Any, n: int) -> dict:
    """A citation as a plain JSON-ready dict: n, file, heading, line_start, line_end, text, kb, score."""
    return {"n": n, "file": hit.source, "heading": hit.heading, "line_start": hit.start_line,
            "line_end": hit.end_line, "text": hit.text, "kb": hit.kb, "score": round(float(hit.score), 4)}
