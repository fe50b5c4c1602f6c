"""Extracts that answer: the fallback quotes the sentences that answer the question.

When the model's text cannot be supported, the reader gets quoted sentences. The
closest-sounding sentence is often an introduction ("This section describes
...") or a pointer ("see the Password Storage Cheat Sheet"); the one that answers
holds what the question asks for: a number for "how many", a name or setting for
"which header", steps for "how do I", a definition for "what is". `extract()`
scores every sentence of every source by the question's words it holds, plus a
bonus for the answer type and a penalty for intros, pointers and link lists, and
quotes the best few (each with the sentence after it when it is short).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from app.knowledge.evidence import content_terms, identifiers, numbers
from app.knowledge.guard import REMOVED, sanitize_source

MAX_PASSAGES = 3
MAX_CHARS = 400

_NUMBER_Q = re.compile(r"\bhow (?:many|much|long|often)\b|\b(?:maximum|minimum|number of|at least|at most)\b|几|多少|多长|多久", re.I)
_NAME_Q = re.compile(r"\b(?:which|what)\s+(?:\w+\s+){0,3}?(?:header|directive|attribute|operator|file|method|mode|"
                     r"setting|configuration|option|flag|parameter|payload|string|value|algorithm|cipher|function|"
                     r"property|properties|names?|tool|command|symbol|policy|protocol)s?\b|哪个|哪些|什么(?:头|属性|算法|参数)", re.I)
_STEPS_Q = re.compile(r"^\s*how (?:do|can|should|to|would|does)\b|\bsteps?\b|\btest(?:ing)? (?:for|whether)\b|如何|怎么|怎样", re.I)
_DEFINE_Q = re.compile(r"^\s*what (?:is|are|does)\b|\bdefin|什么是|是什么|作用|能让", re.I)
_WHY_Q = re.compile(r"^\s*why\b|为什么|为何", re.I)

_DEFINES = re.compile(r"\b(?:is|are|refers? to|means|occurs?|happens?|allows?|enables?|consists?)\b", re.I)
_CAUSE = re.compile(r"\b(?:because|since|allows?|enables?|can|could|lets?|risk|leads? to|results? in)\b", re.I)
_IMPERATIVE = re.compile(r"^\s*(?:[-*]|\d+[.)])?\s*(?:use|set|send|add|check|verify|try|test|ensure|make|configure|"
                         r"enable|disable|avoid|do not|never|always|inspect|identify|submit|replace|modify|observe|"
                         r"review|look|run|request|insert|perform|attempt)\b", re.I)
_POINTER = re.compile(r"\b(?:see|refer to|read|consult)\b.{0,60}\b(?:cheat ?sheet|section|guide|article|page|chapter|below|above)\b"
                      r"|\bcheat ?sheet\b|\bthis (?:section|chapter|article|guide) (?:describes|covers|explains|discusses)\b"
                      r"|\bin this (?:section|chapter|article)\b|https?://", re.I)
_MARKUP = re.compile(r"!\[[^\]]*\]\([^)]*\)|\*?Figure [\d.-]+:[^*]*\*?|^[#>\s*-]+|[`*_\\]")
_SPLIT = re.compile(r"(?<=[.!?。！？])\s+|\n{2,}|\n(?=[-*#|>]|\d+[.)])")
_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|cf)\.|\b[A-Z]\.)$", re.I)


@dataclass
class Quote:
    n: int
    """Source number (1-based)."""
    score: float
    span: str


def answer_type(question: str) -> str:
    """What the question asks for: number, name, steps, definition, reason, or any."""
    for kind, rx in (("number", _NUMBER_Q), ("name", _NAME_Q), ("reason", _WHY_Q), ("definition", _DEFINE_Q),
                     ("steps", _STEPS_Q)):
        if rx.search(question):
            return kind
    return "any"


def sentences(text: str) -> list[str]:
    out: list[str] = []
    for p in (x.strip() for x in _SPLIT.split(text)):
        if not p:
            continue
        if out and _ABBREV.search(out[-1]):
            out[-1] = f"{out[-1]} {p}"
        else:
            out.append(p)
    return [p for p in out if len(p) > 3]


def _prose(sentence: str) -> bool:
    return len(_MARKUP.sub(" ", sentence).split()) >= 4


def score_sentence(sentence: str, q_terms: set[str], kind: str, heading_terms: set[str]) -> float:
    """Question words held (the heading counting half), the answer type's bonus, minus intros and pointers."""
    if not q_terms:
        return 0.0
    terms = set(content_terms(sentence))
    held = len(q_terms & terms) / len(q_terms)
    context = 0.5 * len((q_terms - terms) & heading_terms) / len(q_terms)
    bonus = 0.0
    if kind == "number" and numbers(sentence):
        bonus = 0.35
    elif kind == "name" and (identifiers(sentence) or "`" in sentence):
        bonus = 0.3
    elif kind == "steps" and (_IMPERATIVE.search(sentence) or "`" in sentence):
        bonus = 0.25
    elif kind == "definition" and _DEFINES.search(sentence):
        bonus = 0.2
    elif kind == "reason" and _CAUSE.search(sentence):
        bonus = 0.2
    penalty = 0.0
    if _POINTER.search(sentence):
        penalty += 0.4
    if sentence.rstrip().endswith((":", "：")):
        penalty += 0.25  # an introduction to what follows states nothing yet
    if len(sentence) < 40:
        penalty += 0.15
    return held + context + bonus - penalty


def extract(question: str, hits: Sequence, *, max_passages: int = MAX_PASSAGES, max_chars: int = MAX_CHARS) -> tuple[str, list]:
    """(text, supports): the sentences that best answer `question`, quoted and numbered by source.

    Supports are `app.knowledge.grounding.Support`s whose span is the quoted passage."""
    from app.knowledge.grounding import Support

    q = set(content_terms(question))
    kind = answer_type(question)
    usable = [i for i, h in enumerate(hits) if "reference-only" not in h.flags] or list(range(len(hits)))
    scored: list[tuple[float, int, int, list[str]]] = []
    for rank, i in enumerate(usable):
        src = sanitize_source(hits[i].text)[0]
        sents = [x for x in sentences(src) if REMOVED not in x]
        heading = set(content_terms(hits[i].heading))
        for j, s in enumerate(sents):
            if _prose(s):
                scored.append((score_sentence(s, q, kind, heading) - 0.03 * rank, i, j, sents))
    scored.sort(key=lambda t: -t[0])
    picked: list[Quote] = []
    used: set[tuple[int, int]] = set()
    for sc, i, j, sents in scored:
        if len(picked) >= max_passages or (picked and sc <= 0):
            break
        if (i, j) in used:
            continue
        passage, k = sents[j], j + 1
        used.add((i, j))
        while len(passage) < 160 and k < len(sents) and (i, k) not in used:  # a little context after it
            passage = f"{passage} {sents[k]}"
            used.add((i, k))
            k += 1
        if len(passage) > max_chars:
            passage = passage[:max_chars].rsplit(" ", 1)[0] + " …"
        picked.append(Quote(n=i + 1, score=round(sc, 3), span=passage))
    if not picked and usable:  # nothing but markup: quote the best hit as it is
        text = _one_line(sanitize_source(hits[usable[0]].text)[0])
        picked.append(Quote(usable[0] + 1, 0.0, text[:max_chars].rsplit(" ", 1)[0] + " …" if len(text) > max_chars else text))
    supports = [Support(n=p.n, score=p.score, span=p.span) for p in picked]
    lines = [f"{k}. \u201c{_one_line(s.span)}\u201d [{s.n}]" for k, s in enumerate(supports, 1)]
    return "\n".join(lines), supports


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
