"""Plain chat turns: build the messages for a question and stream the answer.

Retrieval-augmented answers (sources, citations) are layered on this by
`app.knowledge`; this module knows nothing of the index.
"""

from __future__ import annotations

from app.llm.engine import ChatEngine, Generation


def build_messages(question: str, *, system: str, history: list[dict] | None = None) -> list[dict]:
    msgs = [{"role": "system", "content": system}]
    msgs.extend(history or [])
    msgs.append({"role": "user", "content": question})
    return msgs


def ask_plain(
    question: str, *, engine: ChatEngine, system: str, history: list[dict] | None = None, **kw
) -> Generation:
    """Stream an answer with no retrieval."""
    return engine.chat(build_messages(question, system=system, history=history), **kw)
