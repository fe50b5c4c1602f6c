"""Retrieval for the API: the knowledge layer's sources in front of the model, citations back.

Two steps, on two engine threads: `retrieve` runs on the embedder's worker (the
query is embedded and the index searched), `start` on the chat worker (sources
fitted to the context, prompt built, generation started). `make_rag` wires
`app.knowledge` (the same retrieval, prompt and citation code `bastion ask`
uses) when the bundle or the user has an index; otherwise `NoRag` answers
plainly and `citations` is an empty list.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Rag(Protocol):
    enabled: bool

    def retrieve(self, messages: list[dict]) -> list:
        """Sources for the conversation's last user turn (embedder thread)."""

    def start(self, engine: Any, messages: list[dict], hits: list, *, max_tokens: int | None,
              temperature: float | None, cancel: threading.Event) -> Any:
        """Start the answer (chat thread): a Generation-like object with `.stats`."""

    def citations(self, text: str, hits: list) -> list[dict]:
        """The sources the answer cites as [n], as JSON-ready dicts."""

    def sources(self, hits: list) -> list[dict]:
        """Every numbered source put in front of the model, as JSON-ready dicts."""


class NoRag:
    """No knowledge index: plain chat, no citations."""

    enabled = False

    def retrieve(self, messages: list[dict]) -> list:
        return []

    def start(self, engine, messages, hits, *, max_tokens, temperature, cancel):
        return engine.chat(messages, max_tokens=max_tokens, temperature=temperature, cancel=cancel)

    def citations(self, text: str, hits: list) -> list[dict]:
        return []

    def sources(self, hits: list) -> list[dict]:
        return []

    def close(self) -> None:
        pass


def split_turns(messages: list[dict], default_system: str) -> tuple[str, list[dict], str]:
    """(system, history, question) from an OpenAI message list."""
    systems = [m["content"] for m in messages if m["role"] == "system" and m["content"]]
    turns = [m for m in messages if m["role"] in ("user", "assistant")]
    last = max((i for i, m in enumerate(turns) if m["role"] == "user"), default=None)
    question = turns[last]["content"] if last is not None else ""
    history = turns[:last] if last is not None else turns
    return ("\n\n".join(systems) or default_system), history, question


def public_path(source: str, root: str | None) -> str:
    """A source as clients see it: never an absolute server path.

    Bundle sources are already relative to the bundle's corpus; a user knowledge
    base's absolute paths are given relative to the folder all its files share
    (the `kb` field says which knowledge base), else as the bare file name.
    """
    if not os.path.isabs(source):
        return source
    if root:
        try:
            rel = os.path.relpath(source, root)
            if not rel.startswith(".."):
                return rel.replace(os.sep, "/")
        except ValueError:
            pass
    return os.path.basename(source)


def kb_roots(kbs: list) -> dict[str, str]:
    """For each knowledge base with absolute sources, the folder they all share."""
    roots: dict[str, str] = {}
    for kb in kbs:
        try:
            sources = [s for s in kb.file_states() if os.path.isabs(s)]
        except Exception as exc:  # a KB that cannot list its files only loses the short paths
            log.warning("knowledge base %s: cannot list sources (%s)", getattr(kb, "name", "?"), exc)
            continue
        if sources:
            common = os.path.commonpath(sources)
            roots[kb.name] = os.path.dirname(common) if common in sources else common
    return roots


def source_dict(n: int, hit: Any, roots: dict[str, str] | None = None) -> dict:
    """A knowledge hit as the API returns it (the same fields `bastion ask --json` prints), with a relative path."""
    return {"n": n, "path": public_path(hit.source, (roots or {}).get(hit.kb)), "heading": hit.heading, "lines": hit.lines, "start_line": hit.start_line,
            "end_line": hit.end_line, "score": round(hit.score, 4), "kb": hit.kb}


class KnowledgeRag:
    """Retrieval over the bundle index and the user's knowledge bases (`app.knowledge`)."""

    enabled = True

    def __init__(self, retriever: Any, *, system: str, k: int, roots: dict[str, str] | None = None,
                 context_tokens: int = 0) -> None:
        self.retriever = retriever
        self.system = system
        self.k = k
        self.roots = roots or {}
        self.context_tokens = context_tokens

    @classmethod
    def open(cls, settings: Any, bundle: Any, embedder: Any) -> "KnowledgeRag | None":
        from app.knowledge import Retriever, open_knowledge
        from app.prompts import context_tokens_for, load_prompts

        kbs, warnings = open_knowledge(settings, bundle, embedder)
        for w in warnings:
            log.warning("%s", w)
        if not kbs:
            log.warning("no knowledge index (bundle or `bastion ingest`): serving without retrieval")
            return None
        from app.knowledge.cross_encoder import bundle_reranker

        retriever = Retriever(kbs, embedder=embedder, min_score=settings.retrieval.min_score or None,
                              reranker=bundle_reranker(bundle))
        prompts = load_prompts(bundle.prompts_path)
        return cls(retriever, system=prompts.chat_system, k=settings.retrieval.k, roots=kb_roots(kbs),
                   context_tokens=context_tokens_for(prompts, settings))

    def retrieve(self, messages: list[dict]) -> list:
        from app.knowledge.followup import retrieval_query

        _, history, question = split_turns(messages, self.system)
        if not question.strip():
            return []
        return self.retriever.search(retrieval_query(question, history), k=self.k)

    def start(self, engine, messages, hits, *, max_tokens, temperature, cancel):
        from app.knowledge import NO_SOURCES, Answer
        from app.knowledge.answer import _fit_sources, build_rag_messages, lean_sources

        system, history, question = split_turns(messages, self.system)
        if not hits:  # say so rather than let the model invent (as `bastion ask` does)
            return Answer(hits=[], query=question, fixed_text=NO_SOURCES)
        hits = lean_sources(question, hits, engine=engine, context_tokens=self.context_tokens)
        hits = _fit_sources(question, hits, engine=engine, system=system, history=history, max_tokens=max_tokens)
        rag_messages = build_rag_messages(question, hits, system=system, history=history)
        gen = engine.chat(rag_messages, max_tokens=max_tokens, temperature=temperature, cancel=cancel)
        return Answer(hits=hits, query=question, generation=gen, question=question,
                      embedder=getattr(self.retriever, "embedder", None))  # citations checked as in `bastion ask`

    def citations(self, text: str, hits: list) -> list[dict]:
        from app.knowledge.answer import cited_numbers

        return [source_dict(n, hits[n - 1], self.roots) for n in cited_numbers(text) if 1 <= n <= len(hits)]

    def sources(self, hits: list) -> list[dict]:
        return [source_dict(n, h, self.roots) for n, h in enumerate(hits, 1)]

    def close(self) -> None:
        self.retriever.close()


def make_rag(settings: Any, bundle: Any, embedder: Any) -> Rag:
    """Knowledge-backed retrieval when an index is there, else `NoRag`."""
    if embedder is None or bundle is None:
        return NoRag()
    rag = KnowledgeRag.open(settings, bundle, embedder)
    return rag if rag is not None else NoRag()
