"""One question, one answer: the library behind `bastion ask` (no UI here).

With knowledge on (the default) the answer is grounded in the bundle's index plus
the user's knowledge bases (or only the ones named in `kbs`) and cites them as
[n], every citation checked against its source (`app.knowledge.answer`); with
nothing relevant found it says so. Without any index (or with
`use_knowledge=False`) it answers plainly. Warnings (`extractive`, `uncited`,
`citations-removed`, `truncated`, `loop-stopped`) and the finish reason are part
of the result.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from app.errors import BundleError
from app.llm.engine import GenStats
from app.runtime import make_engine, open_bundle
from app.settings import Settings
from app.source import Source

log = logging.getLogger(__name__)


@dataclass
class AskResult:
    """One answered question; `as_json()` is what `bastion ask --json` prints."""

    question: str
    answer: str
    sources: list[Source]
    """The supported citations (each with the answer sentences it backs and the passages that back them)."""
    retrieved: list[Source]
    """Every source given to the model, numbered as it was."""
    warnings: list[str]
    """"code: message" lines: knowledge left out, extractive, uncited, citations-removed, truncated, loop-stopped."""
    stats: GenStats
    grounded: bool
    """Whether knowledge was searched (False with `--no-rag` or no index)."""
    model: str
    bundle: str | None
    extractive: bool = False
    citations_removed: int = 0
    sentences: list[dict[str, Any]] = field(default_factory=list)
    """Each shown sentence with its status: supported (cited and checked) / unsupported (marked inline) / quoted."""

    @property
    def finish_reason(self) -> str | None:
        return self.stats.finish_reason

    def source_lines(self) -> list[str]:
        """What the CLI prints after the answer: warnings, then the sources (or why there are none)."""
        lines = [f"Warning: {w}" for w in self.warnings]
        fmt = lambda s: f"[{s.n}] {s.path}{' › ' + s.heading if s.heading else ''} (lines {s.lines}) score {s.score:.2f}"  # noqa: E731
        if self.sources:
            lines.append("Sources (each supports the sentences that cite it):")
            for s in self.sources:
                lines.append("  " + fmt(s))
                for span in s.spans[:1]:
                    span = " ".join(span.split())
                    lines.append(f"      \u201c{span[:160]}{'…' if len(span) > 160 else ''}\u201d")
        elif self.retrieved:
            lines.append("Retrieved (no sentence of the answer is supported by them):")
            lines.extend("  " + fmt(s) for s in self.retrieved)
        elif self.grounded:
            lines.append("Sources: none relevant found.")
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "sources": [{**s.as_json(), "spans": list(s.spans), "sentences": list(s.supports)} for s in self.sources],
            "retrieved": [s.as_json() for s in self.retrieved],
            "source_lines": self.source_lines(),
            "warnings": self.warnings,
            "finish_reason": self.finish_reason,
            "extractive": self.extractive,
            "citations_removed": self.citations_removed,
            "sentences": self.sentences,
            "model": self.model,
            "bundle": self.bundle,
            "timings": asdict(self.stats),
        }


def run_ask(
    question: str,
    *,
    settings: Settings,
    max_tokens: int | None = None,
    use_knowledge: bool = True,
    on_piece: Callable[[str], None] | None = None,
    kbs: list[str] | None = None,
    on_status: Callable[[str], None] | None = None,
) -> AskResult:
    """Answer `question` from the configured bundle; stream pieces to `on_piece`.

    `kbs` names the knowledge bases to search ("bundle" = the bundle's own index);
    None searches what the settings say. `on_status` gets a line per slow step before the first
    piece (loading the model, searching, reading the sources into the model).
    """
    from app.knowledge.grounded_chat import GroundedChat

    bundle = open_bundle(settings) if settings.engine.kind == "local" else _maybe_bundle(settings)
    engine = make_engine(settings, bundle, prompt_cache="disk")  # a repeated question skips its prefill
    status = on_status or (lambda line: None)
    if not engine.loaded:  # a remote engine (or a warm resident one) has nothing to load
        status(f"loading model {engine.name} …")
        engine.load()
        status(f"model loaded in {engine.load_seconds or 0:.1f}s")
    chat = GroundedChat.open(settings, bundle, engine=engine, kbs=kbs, use_knowledge=use_knowledge)
    try:
        if chat.knowledge:
            status("searching knowledge …")
        reply = chat.reply(question, max_tokens=max_tokens)
        read = f"{len(reply.hits)} source(s), " if chat.knowledge else ""
        status(f"reading {read}{reply.stats.prompt_tokens} prompt tokens …")
        for piece in reply:
            if on_piece:
                on_piece(piece)
    finally:
        chat.close()
    listed = reply.source_list()
    return AskResult(
        question=question, answer=reply.text, sources=listed.cited, retrieved=listed.given,
        warnings=chat.warnings + list(reply.stats.warnings), stats=reply.stats, grounded=chat.knowledge,
        model=engine.name, bundle=str(bundle.root) if bundle else None, extractive=reply.extractive,
        citations_removed=reply.removed_citations, sentences=reply.shown_sentences)


def _maybe_bundle(settings: Settings):
    try:
        return open_bundle(settings)
    except BundleError:
        return None
