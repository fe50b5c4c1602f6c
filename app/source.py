"""`Source`: one numbered source put in front of the model, as every front end shows it.

Built once from a retrieval hit (`Source.from_hit`) by the grounded-chat service, then read by
`bastion ask`, the TUI, `serve` and the history export through its fields, never by guessing
dict keys. Two serialisations, both stable on disk and on the wire:

- `as_json()`: what `bastion ask --json` and the API print (`path`, `start_line`, ...);
- `to_record()` / `from_record()`: what a conversation stores in history (`file`, `line_start`, ...;
  records written by earlier versions, which said `source` or `path`, still read).

A leaf module (no run-time imports from the rest of the app) so history and the UI can use it without
loading the knowledge layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: this module loads nothing of the knowledge layer
    from app.knowledge.retrieval import Hit


@dataclass(frozen=True)
class Source:
    n: int
    """Its number in the prompt, as the answer cites it ([n])."""
    path: str
    """The chunk's source file (relative to the bundle corpus, or absolute for a user knowledge base)."""
    heading: str = ""
    start_line: int = 0
    end_line: int = 0
    score: float = 0.0
    kb: str = ""
    text: str = ""
    flags: tuple[str, ...] = ()
    cited: bool = True
    """False when the answer cites no source and this one is listed as given, not cited."""
    supports: tuple[str, ...] = ()
    """The answer sentences this source backs (a checked citation)."""
    spans: tuple[str, ...] = ()
    """The passages of the chunk that back them (the quote itself for an extractive answer)."""

    @classmethod
    def from_hit(cls, n: int, hit: "Hit") -> "Source":
        return cls(n=n, path=hit.source, heading=hit.heading, start_line=hit.start_line, end_line=hit.end_line,
                   score=float(hit.score), kb=hit.kb, text=hit.text, flags=tuple(hit.flags))

    def citing(self, sentences: list[str], spans: list[str]) -> "Source":
        """This source as a checked citation backing `sentences` with `spans`."""
        return replace(self, cited=True, supports=tuple(sentences), spans=tuple(spans))

    def uncited(self) -> "Source":
        return replace(self, cited=False, supports=(), spans=())

    @property
    def lines(self) -> str:
        return f"{self.start_line}-{self.end_line}" if self.end_line != self.start_line else str(self.start_line)

    @property
    def span(self) -> str:
        return self.spans[0] if self.spans else ""

    def line(self) -> str:
        """`file › heading (lines a-b)`, for citation buttons and the Markdown export."""
        parts = [self.path or "?"]
        if self.heading:
            parts.append(f"› {self.heading}")
        if self.start_line:
            parts.append(f"(lines {self.start_line}-{self.end_line or self.start_line})")
        return " ".join(parts)

    # -- wire and disk -----------------------------------------------------------------
    def as_json(self, *, path: str | None = None, score_digits: int | None = None) -> dict[str, Any]:
        """The `bastion ask --json` / API form; `path` replaces the stored one (serve shows relative paths)."""
        score = round(self.score, score_digits) if score_digits is not None else self.score
        return {"n": self.n, "path": self.path if path is None else path, "heading": self.heading,
                "lines": self.lines, "start_line": self.start_line, "end_line": self.end_line, "score": score,
                "kb": self.kb, "flags": list(self.flags)}

    def to_record(self) -> dict[str, Any]:
        """The history form (JSON in the messages table)."""
        out: dict[str, Any] = {"n": self.n, "file": self.path, "heading": self.heading, "line_start": self.start_line,
                               "line_end": self.end_line, "text": self.text, "kb": self.kb,
                               "score": round(self.score, 4), "cited": self.cited}
        if self.supports:
            out["supports"] = list(self.supports)
        if self.spans:
            out["span"] = self.spans[0]
        return out

    @classmethod
    def from_record(cls, record: dict[str, Any], n: int = 0) -> "Source":
        """A stored record back (missing keys take their defaults; `n` numbers a record that has none)."""
        path = record.get("file") or record.get("source") or record.get("path") or ""  # older records' names
        start = _int(record.get("line_start", record.get("start_line")))
        end = _int(record.get("line_end", record.get("end_line"))) or start
        span = record.get("span")
        return cls(n=_int(record.get("n")) or n, path=str(path), heading=str(record.get("heading") or ""),
                   start_line=start, end_line=end, score=float(record.get("score") or 0.0),
                   kb=str(record.get("kb") or ""), text=str(record.get("text") or ""),
                   cited=bool(record.get("cited", True)),
                   supports=tuple(str(s) for s in record.get("supports") or ()),
                   spans=(str(span),) if span else ())


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


@dataclass
class SourceList:
    """The sources of one answer: all given to the model, and the cited subset (each checked)."""

    given: list[Source] = field(default_factory=list)
    cited: list[Source] = field(default_factory=list)

    def shown(self) -> list[Source]:
        """What a front end lists under the answer: the cited ones, else all given marked not cited."""
        return list(self.cited) if self.cited else [s.uncited() for s in self.given]
