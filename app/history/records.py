"""The history's records: one conversation and one of its messages (read by the store and the exporters)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Conversation:
    """One chat or one code analysis."""

    id: int
    kind: str
    title: str
    created: float
    updated: float


@dataclass(frozen=True)
class Message:
    """One turn. `sources`, `stats` and `data` are JSON-ready extras (citations, timings, a report)."""

    id: int
    conversation_id: int
    role: str
    content: str
    created: float
    sources: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    data: Any = None
