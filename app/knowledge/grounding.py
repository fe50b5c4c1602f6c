"""Grounding by construction: every answer sentence is checked against the sources.

`Grounder.check(sentence)` aligns one answer sentence to the numbered sources with
three signals: a verbatim span (a run of words copied from the chunk), lexical
overlap (share of the sentence's content terms found in the chunk, through the
bilingual glossary for Chinese sentences) and the embedder's cosine between the
sentence and the chunk's best-matching sentence (the "span"). A negation present
on one side only vetoes a non-verbatim match.

`Grounder.fix(sentence)` rewrites the sentence's citations: a model-written [n]
that source n does not support is removed (counted); a supported sentence without
a valid citation gets the best supporting source. `extractive(question, hits)`
builds the fallback answer: the best passages, quoted and numbered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from app.knowledge.glossary import language, matches
from app.knowledge.guard import REMOVED, sanitize_source
from app.knowledge.lexical import tokenize
from app.knowledge.prompt_format import CITE, cite

VERBATIM_WORDS = 6
"""A run of this many words copied from a chunk is support on its own."""
OVERLAP_MIN = 0.5
COSINE_MIN = 0.55
OVERLAP_STRONG = 0.8
COSINE_STRONG = 0.8
MIN_CLAIM_TERMS = 2
"""A sentence with fewer content terms ("Sure.", "Here is what I found:") is not a claim."""

_NEG = re.compile(r"\b(?:not|never|no|cannot|can't|don't|doesn't|shouldn't|mustn't|without|avoid)\b|不|没有|禁止|避免", re.I)
_WORD = re.compile(r"[A-Za-z0-9_]+|[\u3400-\u9fff]")
_SENT_SPLIT = re.compile(r"(?<=[.!?。！？])(?:\s*(?:\[\d{1,2}(?:\s*[,;]\s*\d{1,2})*\])+)?\s+|(?<=[。！？])|\n+")


@dataclass
class Support:
    n: int
    """Source number (1-based)."""
    score: float
    span: str
    """The chunk text that supports the sentence (its best-matching sentence, or the verbatim run)."""
    verbatim: int = 0
    overlap: float = 0.0
    cosine: float = 0.0


@dataclass
class CheckedSentence:
    text: str
    """The sentence as finally shown (citations rewritten)."""
    raw: str
    """The sentence as the model wrote it."""
    claim: bool
    supports: list[Support] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)
    """Source numbers cited in the final text."""
    removed: list[int] = field(default_factory=list)
    """Model-written citations that no source supports (or out of range)."""
    added: list[int] = field(default_factory=list)

    @property
    def supported(self) -> bool:
        return bool(self.supports)


def split_sentences(text: str) -> list[str]:
    """Answer text -> sentences, each keeping the citation markers that follow its full stop."""
    out, pos = [], 0
    in_code = False
    buf = ""
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            in_code = not in_code
            buf += line
            if not in_code:
                out.append(buf)
                buf = ""
            continue
        if in_code:
            buf += line
            continue
        if buf:
            out.append(buf)
            buf = ""
        pos = 0
        for m in _SENT_SPLIT.finditer(line):
            piece = line[pos:m.end()]
            if piece.strip():
                out.append(piece)
            pos = m.end()
        if line[pos:].strip():
            out.append(line[pos:])
    if buf:
        out.append(buf)
    return out


def claim_text(sentence: str) -> str:
    return CITE.sub("", sentence).strip()


def _terms(text: str) -> set[str]:
    """Content terms; a Chinese sentence also gets the English forms of its glossary terms."""
    terms = {_fold(t) for t in tokenize(text) if len(t) > 1 and not t.isdigit()}
    if language(text) == "zh":
        for t in matches(text):
            for en in t.en[:2]:
                terms.update(x for x in tokenize(en) if len(x) > 1)
    return terms


def _fold(term: str) -> str:
    """'querie' (the tokenizer's plural fold of 'queries') -> 'query', so it meets the singular."""
    return term[:-2] + "y" if len(term) > 4 and term.endswith("ie") else term


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def longest_common_run(a: list[str], b: list[str]) -> int:
    """Length of the longest run of consecutive words shared by `a` and `b`."""
    if not a or not b:
        return 0
    best = 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y:
                cur[j] = prev[j - 1] + 1
                if cur[j] > best:
                    best = cur[j]
        prev = cur
    return best


def _chunk_sentences(text: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"(?<=[.!?。！？])\s+|\n{2,}|\n(?=[-*#|>]|\d+[.)])", text) if p.strip()]
    return [p for p in parts if len(p) > 3] or [text.strip()]


def _cos(a: Sequence[float], b: Sequence[float]) -> float:
    import math

    dot = sum(x * y for x, y in zip(a, b))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


class Grounder:
    """Checks sentences against numbered sources (`hits`, numbered from 1).

    `embedder` (optional) adds the semantic signal; without it only the verbatim
    and lexical signals decide (stricter: OVERLAP_STRONG is needed).
    """

    def __init__(self, hits: Sequence, *, embedder=None) -> None:
        self.hits = list(hits)
        self.embedder = embedder
        texts = [sanitize_source(h.text)[0] for h in self.hits]  # what the model saw; spans never carry injected text
        self._sent: list[list[str]] = [_chunk_sentences(t) for t in texts]
        self._terms = [_terms(f"{h.heading}\n{t}") for h, t in zip(self.hits, texts)]
        self._words = [_words(t) for t in texts]
        self._vecs: dict[int, list[list[float]]] = {}

    def _sentence_vectors(self, i: int) -> list[list[float]]:
        if i not in self._vecs:
            self._vecs[i] = self.embedder.embed(self._sent[i]) if self.embedder else []
        return self._vecs[i]

    def check(self, sentence: str) -> tuple[bool, list[Support]]:
        """(is a claim, the sources that support it, best first)."""
        claim = claim_text(sentence)
        terms = _terms(claim)
        if len(terms) < MIN_CLAIM_TERMS:
            return False, []
        words = _words(claim)
        neg = bool(_NEG.search(claim))
        qvec = None
        out: list[Support] = []
        for i, hit in enumerate(self.hits):
            overlap = len(terms & self._terms[i]) / len(terms)
            run = longest_common_run(words, self._words[i])
            verbatim = run >= VERBATIM_WORDS or (len(words) >= 3 and run >= 0.8 * len(words))
            if not verbatim and overlap < OVERLAP_MIN:
                continue
            span, cosine = self._best_span(i, claim, terms)
            if self.embedder is not None and not verbatim and overlap < OVERLAP_STRONG:
                if qvec is None:
                    qvec = self.embedder.embed_one(claim)
                vecs = self._sentence_vectors(i)
                if vecs:
                    sims = [_cos(qvec, v) for v in vecs]
                    j = max(range(len(sims)), key=sims.__getitem__)
                    cosine, span = sims[j], self._sent[i][j]
            ok = verbatim or overlap >= OVERLAP_STRONG or (overlap >= OVERLAP_MIN and cosine >= COSINE_MIN) \
                or cosine >= COSINE_STRONG
            if ok and not verbatim and neg != bool(_NEG.search(span)):
                ok = False
            if ok:
                score = min(run, 12) / 12 + overlap + cosine
                out.append(Support(n=i + 1, score=round(score, 3), span=span, verbatim=run,
                                   overlap=round(overlap, 3), cosine=round(cosine, 3)))
        out.sort(key=lambda s: -s.score)
        return True, out

    def _best_span(self, i: int, claim: str, terms: set[str]) -> tuple[str, float]:
        best, best_score = self._sent[i][0], -1.0
        for s in self._sent[i]:
            st = _terms(s)
            score = len(terms & st) / (len(terms) + 1e-9)
            if score > best_score:
                best, best_score = s, score
        return best, 0.0

    def fix(self, sentence: str) -> CheckedSentence:
        """The sentence with its citations checked and rewritten."""
        written = []
        for m in CITE.finditer(sentence):
            for part in re.split(r"[,;]", m.group(1)):
                n = int(part)
                if n not in written:
                    written.append(n)
        is_claim, supports = self.check(sentence)
        if not is_claim:
            text = CITE.sub("", sentence) if written else sentence
            return CheckedSentence(text=_tidy(text, sentence), raw=sentence, claim=False)
        supported = {s.n for s in supports}
        keep = [n for n in written if n in supported]
        removed = [n for n in written if n not in supported]
        added = []
        if supports and not keep:
            keep = [supports[0].n]
            added = keep[:]
        text = _with_citations(sentence, keep)
        return CheckedSentence(text=text, raw=sentence, claim=True,
                               supports=[s for s in supports if s.n in keep], cited=keep,
                               removed=removed, added=added)


def _tidy(text: str, original: str) -> str:
    trail = original[len(original.rstrip()):]
    return re.sub(r"[ \t]+([.!?。！？,;:])", r"\1", text.rstrip()) + trail


def _with_citations(sentence: str, numbers: list[int]) -> str:
    """`sentence` without its markers, then `numbers` cited before its final punctuation."""
    trail = sentence[len(sentence.rstrip()):]
    body = CITE.sub("", sentence).rstrip()
    body = re.sub(r"[ \t]+([.!?。！？,;:])", r"\1", body)
    if not numbers:
        return body + trail
    m = re.search(r"([.!?。！？:]+)$", body)
    if m and not body.endswith("```"):
        return f"{body[:m.start()].rstrip()} {cite(numbers)}{m.group(1)}{trail}"
    return f"{body} {cite(numbers)}{trail}"


def extractive(question: str, hits: Sequence, *, max_passages: int = 3, max_chars: int = 400) -> tuple[str, list[Support]]:
    """The fallback answer: the passages that best match the question, quoted and numbered.

    Returns (text, supports) where each support's span is the quoted passage.
    """
    q = _terms(question)
    picked: list[tuple[float, int, str]] = []
    usable = [i for i, h in enumerate(hits) if "reference-only" not in h.flags] or list(range(len(hits)))
    for i, hit in enumerate(hits):
        if i not in usable:  # a list of links is no answer
            continue
        sents = [x for x in _chunk_sentences(sanitize_source(hit.text)[0]) if REMOVED not in x] or [""]
        scored = sorted(((len(q & _terms(s)) / (len(q) + 1e-9), j) for j, s in enumerate(sents)), key=lambda t: (-t[0], t[1]))
        if not scored:
            continue
        j = scored[0][1]
        passage = sents[j]
        k = j + 1
        while len(passage) < 160 and k < len(sents):  # a little context after the best sentence
            passage = f"{passage} {sents[k]}"
            k += 1
        if len(passage) > max_chars:
            passage = passage[:max_chars].rsplit(" ", 1)[0] + " …"
        picked.append((scored[0][0], i, passage))
    picked = picked[:max_passages]  # hits arrive best first: keep the retrieval order
    supports = [Support(n=i + 1, score=round(s, 3), span=p) for s, i, p in picked]
    lines = [f"{k}. \u201c{_one_line(s.span)}\u201d [{s.n}]" for k, s in enumerate(supports, 1)]
    return "\n".join(lines), supports


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
