"""`Hit`: one raw match from a static engine, before it becomes a `Finding`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Hit:
    engine: str  # "semgrep" | "bandit" | "cppcheck" | "clang" | "flawfinder" | "shellcheck"
    path: str
    rule_id: str
    line: int
    end_line: int
    message: str
    cwe: str
    label: str  # low | medium | high | critical
    confidence: float
    fix_hint: str = ""
    attack: str = ""
    autofix: str | None = None  # replacement text for [start_offset, end_offset)
    start_offset: int | None = None
    end_offset: int | None = None
    extra: dict = field(default_factory=dict)


CONFIDENCE = {"high": 0.9, "medium": 0.75, "low": 0.6, "lead": 0.45}
"""A rule's `metadata.confidence` as a number. A "lead" (below models.COUNTED_CONFIDENCE) is listed for the
reviewer but never moves a report's label: a construct that is dangerous only if a taint rule that could
not see the value's origin would have been right (a non-constant command or format in C)."""
