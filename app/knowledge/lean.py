"""Lean context: each retrieved source cut to the sentences that match the question, under a token budget.

Prefill is most of a CPU answer's time, and a small model follows five long chunks badly. A bundle
sets its budget in prompts.toml (`[retrieval] context_tokens`, `app.prompts`; settings
`retrieval.context_tokens` overrides it, 0 = whole chunks). Trimming keeps whole sentences (a code
block is one unit), in document order, around the sentence that shares most content terms with the
question, so what the model reads, what the grounder checks a citation against and what the source
list shows are the same text. Line numbers narrow to the lines kept.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable, Sequence

from app.knowledge.evidence import content_terms
from app.knowledge.grounding import split_sentences
from app.knowledge.retrieval import Hit

GAP = "\n…\n"
"""Put where sentences were left out (not a citation marker: CITE takes digits only)."""
TRIMMED = "trimmed"
"""The flag a cut source carries."""


def lean_hits(question: str, hits: Sequence[Hit], *, budget_tokens: int,
              count_tokens: Callable[[str], int]) -> list[Hit]:
    """`hits`, in order, each cut to its share of `budget_tokens` (a share a source leaves unused goes to the
    next ones). Unchanged when the budget is 0 or everything fits."""
    hits = list(hits)
    if budget_tokens <= 0 or not hits:
        return hits
    sizes = [count_tokens(h.text) for h in hits]
    if sum(sizes) <= budget_tokens:
        return hits
    want = set(content_terms(question))
    out, left = [], budget_tokens
    for i, (hit, size) in enumerate(zip(hits, sizes)):
        share = max(1, left // (len(hits) - i))
        kept = hit if size <= share else _trim(hit, want, share, count_tokens)
        left = max(0, left - (size if kept is hit else count_tokens(kept.text)))
        out.append(kept)
    return out


def _trim(hit: Hit, want: set[str], share: int, count_tokens: Callable[[str], int]) -> Hit:
    units = _units(hit.text)
    if len(units) <= 1:
        return _cut_unit(hit, units[0] if units else (0, hit.text), share, count_tokens)
    # a Markdown heading line repeats what the source label already says: never the reason to keep a passage
    scores = [0 if u.lstrip().startswith("#") else len(want & set(content_terms(u))) for _, u in units]
    best = max(range(len(units)), key=lambda i: (scores[i], -i))  # ties: the earlier sentence
    cost = [count_tokens(u) for _, u in units]
    if cost[best] > share:
        return _cut_unit(hit, units[best], share, count_tokens)
    chosen, used = {best}, cost[best]
    # then other matching sentences (a neighbour of the best one counts half a term more: it is its context),
    # then the nearest others; each one that still fits
    rank = sorted((i for i in range(len(units)) if i != best),
                  key=lambda i: (-(scores[i] + (0.5 if abs(i - best) == 1 else 0)), abs(i - best), i))
    for i in rank:
        if used + cost[i] <= share:
            chosen.add(i)
            used += cost[i]
    return _assemble(hit, units, sorted(chosen))


def _units(text: str) -> list[tuple[int, str]]:
    """(offset, sentence) in document order; a fenced code block is one unit, and a list number or other
    wordless piece ("8.") belongs to the sentence after it."""
    out: list[tuple[int, str]] = []
    pos, carry = 0, None
    for piece in split_sentences(text):
        at = text.find(piece, pos)
        if at < 0:  # split_sentences dropped or merged whitespace: find the stripped piece
            at = text.find(piece.strip(), pos)
        if at < 0:
            continue
        pos = at + len(piece)
        if carry is not None:  # the wordless piece before, joined to this one
            at, piece = carry, text[carry:pos]
            carry = None
        if len(re.findall(r"[^\W\d_]", piece)) < 3:
            carry = at
            continue
        out.append((at, piece))
    if carry is not None:
        if out:
            out[-1] = (out[-1][0], text[out[-1][0]:pos])
        else:
            out.append((carry, text[carry:pos]))
    return out


def _assemble(hit: Hit, units: list[tuple[int, str]], chosen: list[int]) -> Hit:
    """The chosen units as runs of the original text (its own spacing), runs joined by GAP."""
    runs: list[list[int]] = []
    for i in chosen:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    end = lambda i: units[i][0] + len(units[i][1].rstrip())  # noqa: E731
    text = GAP.join(hit.text[units[r[0]][0]:end(r[-1])].strip() for r in runs)
    return _narrowed(hit, text, units[chosen[0]][0], end(chosen[-1]))


def _cut_unit(hit: Hit, unit: tuple[int, str], share: int, count_tokens: Callable[[str], int]) -> Hit:
    """One unit longer than the share (a long code block or run-on text): its first words that fit."""
    at, text = unit
    words = text.strip().split(" ")
    lo, hi = 1, len(words)
    while lo < hi:  # the most words whose tokens fit
        mid = (lo + hi + 1) // 2
        if count_tokens(" ".join(words[:mid])) <= share:
            lo = mid
        else:
            hi = mid - 1
    kept = " ".join(words[:lo])
    start = at + (len(text) - len(text.lstrip()))
    return _narrowed(hit, kept + ("…" if lo < len(words) else ""), start, start + len(kept))


def _narrowed(hit: Hit, text: str, start: int, end: int) -> Hit:
    first = hit.start_line + hit.text.count("\n", 0, start)
    last = hit.start_line + hit.text.count("\n", 0, max(start, end - 1))
    return replace(hit, text=text, start_line=first, end_line=min(max(first, last), hit.end_line),
                   flags=hit.flags + ((TRIMMED,) if TRIMMED not in hit.flags else ()))
