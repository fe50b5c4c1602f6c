"""Retrieval for the API: the grounded-chat service behind the OpenAI-compatible routes.

Two steps, on two engine threads: `retrieve` runs on the embedder's worker (the
query is embedded and the index searched), `start` on the chat worker (sources
fitted to the context, prompt built, generation started). Both are
`app.knowledge.GroundedChat`'s, the service `bastion ask` and the TUI use, so the
API answers, refuses and cites exactly as they do. `make_rag` wires it when the
bundle or the user has an index; otherwise `NoRag` (plain answers, no citations).
What the API shows of a source is `app.source.Source.as_json`, with a path
relative to its knowledge base (`public_path`).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Any, Protocol

from app.errors import EngineError
from app.source import Source

if TYPE_CHECKING:
    from app.knowledge.answer import Answer
    from app.knowledge.grounded_chat import GroundedChat
    from app.knowledge.retrieval import Hit
    from app.llm.engine import ChatEngine

log = logging.getLogger(__name__)


class Rag(Protocol):
    enabled: bool

    def retrieve(self, messages: list[dict]) -> "list[Hit]":
        """Sources for the conversation's last user turn (embedder thread)."""

    def start(self, messages: list[dict], hits: "list[Hit]", *, max_tokens: int | None,
              temperature: float | None, cancel: threading.Event) -> "Answer":
        """Start the checked answer (chat thread)."""

    def citations(self, text: str, hits: "list[Hit]") -> list[dict]:
        """The sources the answer cites as [n], as JSON-ready dicts."""

    def sources(self, hits: "list[Hit]") -> list[dict]:
        """Every numbered source put in front of the model, as JSON-ready dicts."""

    def close(self) -> None: ...


class NoRag:
    """No knowledge index: plain chat, no citations (the routes never ask it for an answer)."""

    enabled = False

    def retrieve(self, messages: list[dict]) -> list:
        return []

    def start(self, messages, hits, *, max_tokens, temperature, cancel):
        raise EngineError("retrieval is off for this bundle", hint="send the request without RAG")

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
            log.warning("knowledge base %s: cannot list sources (%s)", kb.name, exc)
            continue
        if sources:
            common = os.path.commonpath(sources)
            roots[kb.name] = os.path.dirname(common) if common in sources else common
    return roots


def source_json(n: int, hit: "Hit", roots: dict[str, str] | None = None) -> dict:
    """A knowledge hit as the API returns it (the fields `bastion ask --json` prints), with a relative path."""
    src = Source.from_hit(n, hit)
    return src.as_json(path=public_path(src.path, (roots or {}).get(src.kb)), score_digits=4)


class KnowledgeRag:
    """The grounded-chat service over the bundle index and the user's knowledge bases."""

    enabled = True

    def __init__(self, chat: "GroundedChat", *, roots: dict[str, str] | None = None) -> None:
        self.chat = chat
        self.roots = roots or {}

    @classmethod
    def open(cls, settings: Any, bundle: Any, embedder: Any, *, engine: "ChatEngine") -> "KnowledgeRag | None":
        from app.knowledge.grounded_chat import GroundedChat

        chat = GroundedChat.open(settings, bundle, engine=engine, embedder=embedder)
        for w in chat.warnings:
            log.warning("%s", w)
        if chat.retriever is None:
            log.warning("no knowledge index (bundle or `bastion ingest`): serving without retrieval")
            return None
        return cls(chat, roots=kb_roots(chat.retriever.kbs))

    def retrieve(self, messages: list[dict]) -> "list[Hit]":
        _, history, question = split_turns(messages, self.chat.system)
        return self.chat.retrieve(question, history)

    def start(self, messages, hits, *, max_tokens, temperature, cancel) -> "Answer":
        system, history, question = split_turns(messages, self.chat.system)
        return self.chat.start(question, history, hits, system=system, max_tokens=max_tokens,
                               temperature=temperature, cancel=cancel)  # citations checked as in `bastion ask`

    def citations(self, text: str, hits: "list[Hit]") -> list[dict]:
        from app.knowledge.prompt_format import cited_numbers

        return [source_json(n, hits[n - 1], self.roots) for n in cited_numbers(text) if 1 <= n <= len(hits)]

    def sources(self, hits: "list[Hit]") -> list[dict]:
        return [source_json(n, h, self.roots) for n, h in enumerate(hits, 1)]

    def close(self) -> None:
        self.chat.close()


def make_rag(settings: Any, bundle: Any, embedder: Any, *, engine: "ChatEngine") -> Rag:
    """Knowledge-backed answers when an index is there, else `NoRag`."""
    if embedder is None or bundle is None:
        return NoRag()
    rag = KnowledgeRag.open(settings, bundle, embedder, engine=engine)
    return rag if rag is not None else NoRag()
