"""Answers with numbered citations, every one checked against its source.

`GroundedChat` (`app.knowledge.grounded_chat`) retrieves, puts the sources in front
of the model as numbered, quoted, sanitised blocks (`app.knowledge.prompt_format`),
and hands the generation to an `Answer`, which streams it a sentence at a time
through the `Grounder`: a citation no source supports is
removed, a supported sentence without one gets it, and text is released only
once a supported claim appears. When no sentence is supported the answer becomes
an extractive one (the best passages, quoted and numbered) and says so. When
nothing passes the relevance floor the model is not asked at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from app.knowledge.entailment import Entailment
from app.knowledge.extracts import extract
from app.knowledge.grounding import CheckedSentence, Grounder, Support, claim_text, split_sentences
from app.knowledge.prompt_format import CITE_RULES, build_rag_messages, cited_numbers, format_sources  # noqa: F401
from app.knowledge.retrieval import Hit
from app.llm.engine import LOOP_STOPPED, TRUNCATED, GenStats
from app.source import Source, SourceList

NO_SOURCES = (
    "I found nothing relevant to this question in the knowledge bases, so I won't guess. "
    "Try rephrasing it, or add documents with `bastion ingest PATH`."
)
EXTRACTIVE_NOTE = (
    "The model's answer could not be matched to the sources, so here are the passages that best "
    "match the question, quoted (not a generated answer):"
)
REPLACED_NOTE = (
    "Most of the model's answer is not supported by the sources, so it is not shown; here is what the sources "
    "say, quoted (not a generated answer):"
)
UNSUPPORTED_MARK = "[not supported by the sources]"
"""Shown inline after a sentence no source supports (CLI, TUI and serve show the answer text as it is)."""
ENTAIL_CONTRAST = True
"""The judge must also say "no" to the claim's opposite (`Entailment.contrast`). Measured on 39 wrong sentences and their
originals (test half): the 1.5B judge alone says yes to 21/39 wrong, 39/39 right; with the contrast 6/39 and 16/39.
The 135M starter says yes to every one; with the contrast to none (a judge that cannot tell supports nothing)."""
ANSWER_RESERVE = 64  # tokens kept free besides the answer, for template overhead

WARNINGS = {
    "extractive": "no sentence of the model's answer was supported by a source: showing quoted passages instead",
    "uncited": "{n} sentence(s) of the answer have no supporting source",
    "citations-removed": "{n} citation(s) the model wrote were not supported by the cited source and were removed",
    "truncated": TRUNCATED,
    "loop-stopped": LOOP_STOPPED,
}


def mark_unsupported(text: str) -> str:
    """`text` with the unsupported mark before its trailing whitespace."""
    body = text.rstrip()
    return f"{body} {UNSUPPORTED_MARK}{text[len(body):]}"


@dataclass
class Citation:
    """One source the final answer cites, with the text that supports it."""

    n: int
    hit: Hit
    spans: list[str] = field(default_factory=list)
    """The chunk passages that support the citing sentences."""
    sentences: list[str] = field(default_factory=list)
    """The answer sentences (citations stripped) this source supports."""

    def as_dict(self) -> dict:
        return {"n": self.n, "spans": self.spans, "sentences": self.sentences}


class Answer:
    """A streamed answer: iterate for text pieces; afterwards `.text`, `.sources`, `.stats`.

    `.hits` are all the sources put in front of the model (numbered from 1, in
    order); `.sources` only those the final text cites (each supported, see
    `.citations` for the supporting spans). `.raw_text` is what the model wrote,
    `.text` what is shown. `.warnings` lists (code, message) pairs; `.extractive`
    says the text is quoted passages. `.query` is what retrieval searched.
    """

    def __init__(self, *, hits: list[Hit], query: str, generation=None, fixed_text: str | None = None,
                 question: str = "", embedder=None, ground: bool = True, judge=None,
                 contrast: bool = False) -> None:
        self.hits = hits
        self.query = query
        self.question = question or query
        self._gen = generation
        self._fixed = fixed_text
        self.text = ""
        self.raw_text = ""
        self.sentences: list[CheckedSentence] = []
        self.extractive = False
        self._extractive_supports: list[Support] = []
        self.stats: GenStats = generation.stats if generation is not None else GenStats(finish_reason="no_sources")
        self._grounder = Grounder(hits, embedder=embedder) if (ground and generation is not None and hits) else None
        self._entail = (Entailment(judge, contrast=contrast)
                        if (judge is not None and self._grounder is not None) else None)
        self.replaced = False
        """The model's text was shown in part (its supported sentences), then replaced by quotes."""
        self._done = False

    @classmethod
    def plain(cls, generation, question: str = "") -> "Answer":
        """The model's text as it is, with no sources (plain chat, JSON output): the same `Reply` shape."""
        return cls(hits=[], query=question, generation=generation, question=question, ground=False)

    # -- streaming ------------------------------------------------------------------
    def __iter__(self) -> Iterator[str]:
        if self._done:
            return
        if self._gen is None:
            self.text = self._fixed or ""
            self._done = True
            yield self.text
            return
        if self._grounder is None:
            for piece in self._gen:
                self.raw_text += piece
                self.text += piece
                yield piece
            self.stats.warnings = self.warning_lines()
            self._done = True
            return
        buf = ""
        held: list[CheckedSentence] = []  # from the first unsupported claim on: shown once the answer is judged
        pending: list[CheckedSentence] = []  # text before the first supported claim waits for it
        released = False
        for piece in self._gen:
            self.raw_text += piece
            buf += piece
            parts = split_sentences(buf)
            keep = 2 if len(parts) >= 2 and parts[-1].lstrip().startswith("[") else 1
            if len(parts) <= keep:
                continue
            buf = "".join(parts[-keep:])
            for sentence in parts[:-keep]:
                out, released = self._take(sentence, pending, held, released)
                if out:
                    self.text += out
                    yield out
        if buf.strip():
            out, released = self._take(buf, pending, held, released)
            if out:
                self.text += out
                yield out
        if not self.stats.cancelled:
            for out in self._settle(pending + held, released):
                self.text += out
                yield out
        self.stats.warnings = self.warning_lines()
        self._done = True

    def _take(self, sentence: str, pending: list[CheckedSentence], held: list[CheckedSentence],
              released: bool) -> tuple[str, bool]:
        """Check one sentence; stream it while everything so far is supported, else hold it."""
        checked = self._grounder.fix(sentence)
        self.sentences.append(checked)
        if held or (checked.claim and not checked.supported):
            held.extend(pending)
            pending.clear()
            held.append(checked)
            return "", released
        if released:
            return checked.text, True
        pending.append(checked)
        if checked.claim:
            out = "".join(c.text for c in pending)
            pending.clear()
            return out.lstrip(), True
        return "", False

    def _settle(self, held: list[CheckedSentence], released: bool) -> Iterator[str]:
        """After generation: the held claims judged in order, each shown as soon as it and everything before it
        is supported (the reader need not wait for every judgement); then the rest shown marked, or replaced by
        the extract when the substance is unsupported (what was shown stays: every shown sentence is supported)."""
        shown = 0  # held[:shown] are out
        waiting: list[CheckedSentence] = []  # no-claim text of the supported prefix, waiting for its next claim
        for k, cs in enumerate(held):
            if self._entail is not None and cs.claim and not cs.supported:
                held[k] = self._judged(cs)
            if shown + len(waiting) != k:
                continue  # the prefix already broke: judge the rest, show nothing more yet
            if not held[k].claim:
                waiting.append(held[k])
            elif held[k].supported:
                text = "".join(c.text for c in waiting + [held[k]])
                yield text if released else text.lstrip()
                released, shown, waiting = True, k + 1, []
        rest = held[shown:]
        claims = [c for c in self.sentences if c.claim]
        supported = sum(1 for c in claims if c.supported)
        if claims and supported * 2 > len(claims) and (released or any(c.supported for c in rest)):
            text = "".join(c.text if c.status != "unsupported" else mark_unsupported(c.text) for c in rest)
            if text.strip():
                yield text if released else text.lstrip()
            return
        # the substance is unsupported: what the sources say instead (the supported sentences already shown stay)
        self.replaced = released
        text, supports = extract(self.question, self.hits)
        self.extractive = True
        self._extractive_supports = supports
        note = REPLACED_NOTE if released else EXTRACTIVE_NOTE
        lines = text.splitlines()
        for part in [f"{chr(10) * 2 if released else ''}{note}\n\n"] + [line + "\n" for line in lines[:-1]] + lines[-1:]:
            yield part

    def _judged(self, cs: CheckedSentence) -> CheckedSentence:
        """`cs` supported by the first candidate passage the entailment judge says states it, else `cs`."""
        for cand in cs.candidates:
            if self._entail.stated(claim_text(cs.raw), cand.passage, cand.heading):
                out = self._grounder.entailed(cs, cand)
                self.sentences[self.sentences.index(cs)] = out
                return out
        return cs

    def result(self) -> str:
        for _ in self:
            pass
        return self.text

    def cancel(self) -> None:
        if self._gen is not None:
            self._gen.cancel()

    # -- what the answer cites ------------------------------------------------------
    @property
    def grounded(self) -> bool:
        """Whether any source was put in front of the model."""
        return bool(self.hits)

    @property
    def citations(self) -> list[Citation]:
        """The supported citations of the final text, in order of first citation."""
        out: dict[int, Citation] = {}
        if self.extractive:
            for s in self._extractive_supports:
                out.setdefault(s.n, Citation(s.n, self.hits[s.n - 1])).spans.append(s.span)
            return list(out.values())
        if self._grounder is None:
            return [Citation(n, self.hits[n - 1]) for n in cited_numbers(self.text) if 1 <= n <= len(self.hits)]
        for cs in self.sentences:
            for n in cs.cited:
                c = out.setdefault(n, Citation(n, self.hits[n - 1]))
                for sup in cs.supports:
                    if sup.n == n and sup.span not in c.spans:
                        c.spans.append(sup.span)
                c.sentences.append(cs.text.strip())
        return list(out.values())

    def source_list(self) -> SourceList:
        """The typed sources of this answer: every one given to the model, and the checked citations."""
        given = [Source.from_hit(n, h) for n, h in enumerate(self.hits, 1)]
        cited = [given[c.n - 1].citing(c.sentences, c.spans) for c in self.citations]
        return SourceList(given=given, cited=cited)

    @property
    def sources(self) -> list[Hit]:
        """The hits the final text cites (every one supported), in order of first citation."""
        return [c.hit for c in self.citations]

    def cited_numbers(self) -> list[int]:
        return [c.n for c in self.citations]

    @property
    def removed_citations(self) -> int:
        return sum(len(cs.removed) for cs in self.sentences)

    @property
    def unsupported_sentences(self) -> int:
        return 0 if self.extractive else sum(1 for cs in self.sentences if cs.claim and not cs.supported)

    @property
    def shown_sentences(self) -> list[dict]:
        """Each sentence of the shown text with its status: supported (cited and checked; `entailed` when the
        entailment check confirmed a paraphrase), unsupported (marked inline), no-claim, or quoted (an extract)."""
        out = []
        shown = [c for c in self.sentences if c.status == "supported"] if self.extractive else self.sentences
        if self.extractive and not self.replaced:
            shown = []
        for cs in shown:
            if not cs.text.strip():
                continue  # dropped (a sentence that only pointed at sources)
            out.append({"text": claim_text(cs.text), "status": cs.status, "cited": list(cs.cited),
                        "entailed": any(s.entailed for s in cs.supports), "marked": cs.status == "unsupported"})
        for s in (self._extractive_supports if self.extractive else []):
            out.append({"text": s.span, "status": "quoted", "cited": [s.n], "entailed": False, "marked": False})
        return out

    @property
    def entailment_seconds(self) -> float:
        return self._entail.seconds if self._entail else 0.0

    @property
    def entailment_calls(self) -> int:
        return self._entail.calls if self._entail else 0

    @property
    def finish_reason(self) -> str | None:
        return self.stats.finish_reason

    @property
    def warnings(self) -> list[tuple[str, str]]:
        """(code, message) for everything a reader should know about this answer."""
        out = []
        if self.extractive:
            out.append(("extractive", WARNINGS["extractive"]))
        elif self.unsupported_sentences:
            out.append(("uncited", WARNINGS["uncited"].format(n=self.unsupported_sentences)))
        if self.removed_citations and not self.extractive:  # an extractive answer shows none of the model's text
            out.append(("citations-removed", WARNINGS["citations-removed"].format(n=self.removed_citations)))
        if self.stats.finish_reason == "length":
            out.append(("truncated", WARNINGS["truncated"]))
        if self.stats.finish_reason == "loop":
            out.append(("loop-stopped", WARNINGS["loop-stopped"]))
        return out

    def warning_lines(self) -> list[str]:
        return [f"{code}: {msg}" for code, msg in self.warnings]
