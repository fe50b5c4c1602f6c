"""The sources each earlier turn of a conversation was asked with, remembered in this process.

A RAG turn is sent as `<sources…>\\n\\nQuestion: q` (`app.knowledge.prompt_format`), but callers keep
only the plain question in their history (the TUI's store, a `serve` client). Sending the history
plain made turn 2's prompt differ from turn 1's right after the system prompt, so llama.cpp evaluated
the whole conversation again. With each earlier turn's own sources put back in its user message, a
prompt extends the previous prompt and answer: llama-cpp-python keeps that prefix (live context or
prompt cache) and only the new turn is evaluated.

Keyed by the conversation up to that question (system text, earlier turns, question), so it is right
for any caller that sends its history back unchanged; bounded, oldest forgotten first. When the
conversation with its sources no longer fits the context, the earlier turns go plain all at once
(one full evaluation), and the prompt grows from there again.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict

from app.knowledge.prompt_format import build_rag_messages, format_sources


class TurnSources:
    """A bounded map: conversation-so-far -> the source blocks that turn's question was sent with."""

    def __init__(self, capacity: int = 512) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(system: str, history: list[dict], question: str) -> str:
        plain = [[m.get("role"), m.get("content")] for m in history]
        return hashlib.sha256(json.dumps([system, plain, question.strip()]).encode("utf-8")).hexdigest()

    def remember(self, system: str, history: list[dict], question: str, sources: str) -> None:
        with self._lock:
            key = self.key(system, history, question)
            self._items[key] = sources
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def attach(self, system: str, history: list[dict]) -> list[dict]:
        """`history` with `sources` on every user turn whose sources are remembered."""
        out = []
        for i, m in enumerate(history):
            if m.get("role") == "user" and not m.get("sources"):
                with self._lock:
                    found = self._items.get(self.key(system, history[:i], m.get("content") or ""))
                if found:
                    m = {**m, "sources": found}
            out.append(m)
        return out


TURN_SOURCES = TurnSources()
"""The process's memory (the TUI and `serve` each hold one engine per bundle for the process's life)."""


def conversation_messages(question: str, hits: list, *, system: str, history: list[dict] | None, engine,
                          max_tokens: int | None, memory: TurnSources = TURN_SOURCES) -> list[dict]:
    """`build_rag_messages` with the earlier turns' own sources put back when the whole conversation
    still fits `engine`'s context (with room for the answer); remembers this turn's sources."""
    from app.knowledge.answer import ANSWER_RESERVE

    history = list(history or [])
    remembered = memory.attach(system, history)
    msgs = build_rag_messages(question, hits, system=system, history=remembered)
    if any(m.get("sources") for m in remembered):
        n_ctx = getattr(engine, "n_ctx", 4096)
        reserve = (max_tokens or getattr(getattr(engine, "config", None), "max_tokens", 512)) + ANSWER_RESERVE
        if sum(engine.count_tokens(m["content"]) + 8 for m in msgs) + reserve > n_ctx:
            msgs = build_rag_messages(question, hits, system=system, history=history)
    memory.remember(system, history, question, format_sources(hits)[0])
    return msgs
