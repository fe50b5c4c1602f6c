"""Retrieval for the API: the knowledge layer's sources in front of the model, citations back.

`make_rag` wires `app.knowledge` (the same retrieval and citation code the CLI and
TUI use) when the bundle has an index; otherwise `NoRag` answers without sources
and `citations` is an empty list.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Rag(Protocol):
    enabled: bool

    def retrieve(self, messages: list[dict]) -> list:
        """Sources for the conversation's last user turn (runs on the embedder thread)."""

    def augment(self, messages: list[dict], sources: list) -> list[dict]:
        """The messages to send, with the numbered sources put in front of the model."""

    def citations(self, text: str, sources: list) -> list[dict]:
        """The sources the answer cites, as JSON-ready dicts."""


class NoRag:
    """No knowledge index: plain chat, no citations."""

    enabled = False

    def retrieve(self, messages: list[dict]) -> list:
        return []

    def augment(self, messages: list[dict], sources: list) -> list[dict]:
        return messages

    def citations(self, text: str, sources: list) -> list[dict]:
        return []


def last_user(messages: list[dict]) -> str:
    return next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")


def make_rag(settings: Any, bundle: Any, embedder: Any) -> Rag:
    """Knowledge-backed retrieval when the knowledge layer and an index are there, else `NoRag`."""
    if embedder is None or bundle is None:
        return NoRag()
    try:
        from app.serve.knowledge_rag import KnowledgeRag
    except ImportError as exc:  # the knowledge layer is not installed in this build
        log.warning("serving without retrieval: %s", exc)
        return NoRag()
    rag = KnowledgeRag.open(settings, bundle, embedder)
    return rag if rag is not None else NoRag()
