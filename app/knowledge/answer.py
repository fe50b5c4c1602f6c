"""Answers with numbered citations.

`answer()` retrieves (with the conversation folded into the query for
follow-ups), puts the sources in front of the model as numbered, quoted,
sanitised blocks, streams the answer, and afterwards keeps only the sources the
answer actually cites as `[n]`. When nothing passes the relevance floor the
model is not asked to invent: the answer says nothing relevant was found.
"""

from __future__ import annotations

import re
import threading
from typing import Iterator

from app.knowledge.followup import retrieval_query
from app.knowledge.guard import SOURCE_RULES, sanitize_source
from app.knowledge.retrieval import Hit, Retriever
from app.llm.engine import GenStats

NO_SOURCES = (
    "I found nothing relevant to this question in the knowledge bases, so I won't guess. "
    "Try rephrasing it, or add documents with `bastion ingest PATH`."
)
_CITE = re.compile(r"\[(\d{1,2}(?:\s*[,;]\s*\d{1,2})*)\]")
ANSWER_RESERVE = 64  # tokens kept free besides the answer, for template overhead


def cited_numbers(text: str) -> list[int]:
    """Source numbers cited as [n], [n, m] or [n][m], in order of first citation.

    A citation counts only on a line that also says something: a bare list of
    markers ("1. [1]") is not a claim backed by a source.
    """
    seen: list[int] = []
    for line in text.splitlines():
        if len(re.findall(r"[^\W\d_]", _CITE.sub("", line))) < 3:
            continue
        for m in _CITE.finditer(line):
            for part in re.split(r"[,;]", m.group(1)):
                n = int(part)
                if n not in seen:
                    seen.append(n)
    return seen


def format_sources(hits: list[Hit]) -> tuple[str, list[Hit]]:
    """The numbered source blocks for the prompt; flags hits whose text was sanitised."""
    blocks = []
    for n, hit in enumerate(hits, 1):
        text, removed = sanitize_source(hit.text)
        if removed and "instruction-removed" not in hit.flags:
            hit.flags = hit.flags + ("instruction-removed",)
        where = hit.label().replace('"', "'")
        blocks.append(f'<source n={n} from="{where}">\n{text.strip()}\n</source>')
    return "\n\n".join(blocks), hits


CITE_RULES = (
    "Answer the user's question from the numbered sources only. After each fact, put the number "
    "of the source it comes from in square brackets. If the sources do not answer the question, "
    "say that they do not."
)


def build_rag_messages(question: str, hits: list[Hit], *, system: str, history: list[dict] | None = None) -> list[dict]:
    """System rules (persona, citations, sources-are-data), the conversation, then sources + question."""
    sources, _ = format_sources(hits)
    msgs = [{"role": "system", "content": f"{system.strip()}\n\n{CITE_RULES}\n\n{SOURCE_RULES}"}]
    msgs.extend(history or [])
    msgs.append({"role": "user", "content": f"{sources}\n\nQuestion: {question.strip()}"})
    return msgs


class Answer:
    """A streamed answer: iterate for text pieces; afterwards `.text`, `.sources`, `.stats`.

    `.hits` are all the sources put in front of the model (numbered from 1, in
    order); `.sources` only those the answer cites. `.query` is what retrieval searched.
    """

    def __init__(self, *, hits: list[Hit], query: str, generation=None, fixed_text: str | None = None) -> None:
        self.hits = hits
        self.query = query
        self._gen = generation
        self._fixed = fixed_text
        self.text = ""
        self.stats: GenStats = generation.stats if generation is not None else GenStats(finish_reason="no_sources")
        self._done = False

    def __iter__(self) -> Iterator[str]:
        if self._done:
            return
        if self._gen is None:
            self.text = self._fixed or ""
            self._done = True
            yield self.text
            return
        for piece in self._gen:
            self.text += piece
            yield piece
        self._done = True

    def result(self) -> str:
        for _ in self:
            pass
        return self.text

    def cancel(self) -> None:
        if self._gen is not None:
            self._gen.cancel()

    @property
    def grounded(self) -> bool:
        """Whether any source was put in front of the model."""
        return bool(self.hits)

    @property
    def sources(self) -> list[Hit]:
        """The hits the answer cites as [n], in order of first citation (numbers outside 1..len ignored)."""
        return [self.hits[n - 1] for n in cited_numbers(self.text) if 1 <= n <= len(self.hits)]

    def cited_numbers(self) -> list[int]:
        return [n for n in cited_numbers(self.text) if 1 <= n <= len(self.hits)]


def answer(
    question: str,
    *,
    engine,
    retriever: Retriever,
    system: str,
    history: list[dict] | None = None,
    max_tokens: int | None = None,
    cancel: threading.Event | None = None,
    k: int = 5,
) -> Answer:
    """Retrieve, prompt with numbered sources, and start streaming the answer.

    `history` holds the earlier plain turns ({"role", "content"}), oldest first.
    """
    query = retrieval_query(question, history)
    hits = retriever.search(query, k=k)
    if not hits:
        return Answer(hits=[], query=query, fixed_text=NO_SOURCES)
    hits = _fit_sources(question, hits, engine=engine, system=system, history=history, max_tokens=max_tokens)
    messages = build_rag_messages(question, hits, system=system, history=history)
    gen = engine.chat(messages, max_tokens=max_tokens, cancel=cancel)
    return Answer(hits=hits, query=query, generation=gen)


def _fit_sources(question: str, hits: list[Hit], *, engine, system: str, history, max_tokens: int | None) -> list[Hit]:
    """Drop the lowest-ranked sources until the prompt leaves room for the answer."""
    n_ctx = getattr(engine, "n_ctx", 4096)
    reserve = (max_tokens or getattr(getattr(engine, "config", None), "max_tokens", 512)) + ANSWER_RESERVE
    kept = list(hits)
    while kept:
        msgs = build_rag_messages(question, kept, system=system)
        used = sum(engine.count_tokens(m["content"]) + 8 for m in msgs)
        if used + reserve <= n_ctx:
            return kept
        kept.pop()
    return hits[:1]  # the budget check in the engine will explain what does not fit
