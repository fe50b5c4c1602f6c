"""Grounding by construction: every answer sentence is checked against the sources.

`Grounder.check(sentence)` aligns one answer sentence to the numbered sources. A
source supports a sentence only on concrete evidence in one window of its text (a
sentence or two adjacent ones; see `app.knowledge.evidence`): a verbatim run of
copied words with most of the sentence's content words, or a close paraphrase (high
coverage of its content words, mostly in the same order, and a high embedder
cosine); in both cases every number and identifier of the sentence must be in the
source and neither side may negate or invert what the other says. Topical
similarity alone never supports a sentence: when in doubt the citation is dropped.

`Grounder.fix(sentence)` rewrites the sentence's citations: a model-written [n]
that source n does not support is removed (counted); a supported sentence without
a valid citation gets the best supporting source. `extractive(question, hits)`
builds the fallback answer: the best passages, quoted and numbered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from app.knowledge.evidence import Claim, Evidence, content_terms, windows
from app.knowledge.guard import REMOVED, sanitize_source
from app.knowledge.prompt_format import CITE, cite

VERBATIM_WORDS = 6
"""A run of this many words copied from a window (with VERBATIM_COVERAGE of the content words) is support."""
VERBATIM_COVERAGE = 0.7
COVERAGE_MIN = 0.75
"""A paraphrase: this share of the sentence's content words in one window..."""
ORDER_MIN = 0.7
"""...this share in the same order..."""
COSINE_MIN = 0.6
"""...and this embedder cosine between sentence and window (without an embedder: the _STRICT values)."""
COVERAGE_STRICT = 0.85
ORDER_STRICT = 0.8
ENTAIL_COVERAGE_MIN = 0.4
"""A claim goes to the entailment check only with this share of its content words in one window (and the vetoes)."""
ENTAIL_CANDIDATES = 2
"""...against at most this many sources (the best windows)."""
MIN_CLAIM_TERMS = 2
"""A sentence with fewer content terms ("Sure.", "Here is what I found:") is not a claim."""

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
    """Share of the sentence's content words found in the span (its heading counting)."""
    cosine: float = 0.0
    order: float = 0.0
    """Share of the sentence's content words found in the span in the same order."""
    entailed: bool = False
    """Supported by the entailment check (a paraphrase the lexical checks could not confirm)."""


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
    candidates: list["Candidate"] = field(default_factory=list)
    """For an unsupported claim: passages that pass the hard vetoes, for the entailment check."""

    @property
    def supported(self) -> bool:
        return bool(self.supports)

    @property
    def status(self) -> str:
        """"supported" (cited and checked), "unsupported" (a claim no source supports) or "no-claim"."""
        if not self.claim:
            return "no-claim"
        return "supported" if self.supports else "unsupported"


@dataclass
class Candidate:
    """A passage that might state an unsupported claim in other words: every hard veto passed."""

    n: int
    passage: str
    heading: str
    score: float


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
    return _join_abbreviations(out, "")


_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|cf|approx|incl|fig|no|resp|ca)\.|\b[A-Z]\.)\s*$", re.I)


def _join_abbreviations(parts: list[str], sep: str) -> list[str]:
    """Undo splits after "e.g.", "i.e.", "vs." and initials: they do not end a sentence."""
    out: list[str] = []
    for p in parts:
        if out and _ABBREV.search(out[-1]) and not out[-1].rstrip().endswith("```"):
            out[-1] = out[-1] + sep + p
        else:
            out.append(p)
    return out


def claim_text(sentence: str) -> str:
    return CITE.sub("", sentence).strip()


def _terms(text: str) -> set[str]:
    """Content terms (stemmed; a Chinese text also gets the English forms of its glossary terms)."""
    return set(content_terms(text))


def _chunk_sentences(text: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"(?<=[.!?。！？])\s+|\n{2,}|\n(?=[-*#|>]|\d+[.)])", text) if p.strip()]
    parts = _join_abbreviations(parts, " ")
    return [p for p in parts if len(p) > 3] or [text.strip()]


def _cos(a: Sequence[float], b: Sequence[float]) -> float:
    import math

    dot = sum(x * y for x, y in zip(a, b))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


class Grounder:
    """Checks sentences against numbered sources (`hits`, numbered from 1).

    `embedder` (optional) adds the cosine test for paraphrases; without it a
    paraphrase needs COVERAGE_STRICT and ORDER_STRICT.
    """

    def __init__(self, hits: Sequence, *, embedder=None) -> None:
        self.hits = list(hits)
        self.embedder = embedder
        texts = [sanitize_source(h.text)[0] for h in self.hits]  # what the model saw; spans never carry injected text
        self._sents = [_chunk_sentences(t) for t in texts]
        self._windows = [windows(x) for x in self._sents]
        self._context = [set(content_terms(h.heading)) for h in self.hits]
        self._lower = [f"{h.heading}\n{t}".lower() for h, t in zip(self.hits, texts)]
        self._vec: dict[str, list[float]] = {}

    def _embed(self, text: str) -> list[float]:
        if text not in self._vec:
            self._vec[text] = self.embedder.embed_one(text)
        return self._vec[text]

    def check(self, sentence: str) -> tuple[bool, list[Support]]:
        """(is a claim, the sources that support it, best first)."""
        claim = Claim.of(claim_text(sentence))
        if len(claim.terms) < MIN_CLAIM_TERMS or claim.text.endswith((":", "：")):  # an intro states nothing yet
            return False, []
        out: list[Support] = []
        for i in range(len(self.hits)):
            if not all(ident in self._lower[i] for ident in claim.identifiers):
                continue  # a name, version or acronym the source does not mention
            best: Support | None = None
            for win in self._windows[i]:
                ev = Evidence.measure(claim, win, self._context[i])
                sup = self._judge(claim, win, ev, i + 1)
                if sup and (best is None or sup.score > best.score):
                    best = sup
            if best:
                out.append(best)
        out.sort(key=lambda s: -s.score)
        return True, out

    def candidates(self, sentence: str) -> list[Candidate]:
        """Passages an unsupported claim might paraphrase: the vetoes pass and enough of its words are there.

        Numbers must be in the window, identifiers in the chunk, polarity the same, and no word of a copied
        run exchanged (`exchanged`: the 1.5B judge said yes to 15 of 21 such swaps); the passage given
        to the judge is the best window with a sentence either side."""
        claim = Claim.of(claim_text(sentence))
        if len(claim.terms) < MIN_CLAIM_TERMS:
            return []
        from app.knowledge.glossary import language

        cross = language(claim.text) == "zh"
        out: list[Candidate] = []
        for i in range(len(self.hits)):
            if not all(ident in self._lower[i] for ident in claim.identifiers):
                continue
            if cross and language(self._lower[i]) != "zh":
                # a Chinese claim about an English passage: no lexical veto can check it (a number in the
                # passage passes whatever it counts), and the 1.5B judge said yes to 2 wrong of 3 such claims
                continue
            best: tuple[float, int] | None = None
            for w, win in enumerate(self._windows[i]):
                ev = Evidence.measure(claim, win, self._context[i])
                if ev.coverage >= ENTAIL_COVERAGE_MIN and exchanged(claim.words, win.words):
                    # a copy of this source with a word exchanged or a negation added: the judge reads past
                    # that (measured), so the whole source is vetoed, not only this window
                    best = None
                    break
                if not (ev.numbers_ok and ev.polarity_ok) or ev.coverage < ENTAIL_COVERAGE_MIN:
                    continue
                score = ev.coverage + (_cos(self._embed(claim.text), self._embed(win.text)) if self.embedder else 0.0)
                if best is None or score > best[0]:
                    best = (score, w)
            if best:
                out.append(Candidate(n=i + 1, passage=self._passage(i, best[1]), heading=self.hits[i].heading,
                                     score=round(best[0], 3)))
        out.sort(key=lambda c: -c.score)
        return out[:ENTAIL_CANDIDATES]

    def _passage(self, i: int, w: int) -> str:
        """Window `w` of hit `i` with one sentence of context either side."""
        sents = self._sents[i]
        a, b = (w, w) if w < len(sents) else (w - len(sents), w - len(sents) + 1)
        return " ".join(sents[max(0, a - 1): b + 2])

    def entailed(self, checked: CheckedSentence, cand: Candidate) -> CheckedSentence:
        """`checked` (an unsupported claim) as supported by `cand` after the entailment check said so."""
        sup = Support(n=cand.n, score=cand.score, span=cand.passage, entailed=True)
        written = [n for n in checked.removed if n == cand.n]
        return CheckedSentence(text=_with_citations(checked.raw, [cand.n]), raw=checked.raw, claim=True, supports=[sup],
                               cited=[cand.n], removed=[n for n in checked.removed if n != cand.n],
                               added=[] if written else [cand.n])

    def _judge(self, claim: Claim, win, ev: Evidence, n: int) -> Support | None:
        """Support when the window evidences the claim (see the module docstring), else None."""
        if not ev.numbers_ok or ev.coverage < min(VERBATIM_COVERAGE, COVERAGE_MIN):
            return None
        copied = len(claim.words) >= 3 and ev.verbatim >= 0.9 * len(claim.words)  # the whole sentence is a quote
        if not ev.polarity_ok and not copied:
            return None
        verbatim = copied or (ev.verbatim >= VERBATIM_WORDS and ev.coverage >= VERBATIM_COVERAGE)
        if exchanged(claim.words, win.words) or verbatim and ev.missing and swapped(claim.terms, win.terms, ev.missing):
            return None  # the passage's words with one exchanged: only the entailment check may accept it
        cosine = 0.0
        if not verbatim:
            if self.embedder is None:
                if ev.coverage < COVERAGE_STRICT or ev.order < ORDER_STRICT:
                    return None
            else:
                if ev.coverage < COVERAGE_MIN or ev.order < ORDER_MIN:
                    return None
                cosine = _cos(self._embed(claim.text), self._embed(win.text))
                if cosine < COSINE_MIN:
                    return None
        score = min(ev.verbatim, 12) / 12 + ev.coverage + ev.order + cosine
        return Support(n=n, score=round(score, 3), span=win.text, verbatim=ev.verbatim, overlap=ev.coverage,
                       cosine=round(cosine, 3), order=ev.order)

    def fix(self, sentence: str) -> CheckedSentence:
        """The sentence with its citations checked and rewritten."""
        written = []
        for m in CITE.finditer(sentence):
            for part in re.split(r"[,;]", m.group(1)):
                n = int(part)
                if n not in written:
                    written.append(n)
        if written and source_husk(claim_text(sentence)):  # "This is stated in [2]." says nothing of its own
            return CheckedSentence(text=sentence[len(sentence.rstrip()):] if sentence.endswith("\n") else "",
                                   raw=sentence, claim=False, removed=written)
        is_claim, supports = self.check(sentence)
        if not is_claim:
            text = CITE.sub("", sentence) if written else sentence
            return CheckedSentence(text=_tidy(text, sentence), raw=sentence, claim=False)
        if not supports:
            return CheckedSentence(text=_with_citations(sentence, []), raw=sentence, claim=True, removed=written,
                                   candidates=self.candidates(sentence))
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


def swapped(claim_terms: list[str], window_terms: list[str], missing: list[str]) -> bool:
    """Whether a missing claim word stands where the window has a word of its own (a swap, not an omission).

    "Use scrypt for password storage" against "Use Argon2id for password storage": the
    words around match and one word is exchanged, the pattern of a plausible wrong sentence."""
    from difflib import SequenceMatcher

    gone = set(missing)
    sm = SequenceMatcher(a=claim_terms, b=window_terms, autojunk=False)
    for op, a0, a1, b0, b1 in sm.get_opcodes():
        if op == "replace" and a1 - a0 == b1 - b0 <= 2 and any(t in gone for t in claim_terms[a0:a1]) \
                and any(t not in claim_terms for t in window_terms[b0:b1]):  # word for word: an exchange
            return True
    return False


_ABOUT_SOURCES = re.compile(r"\b(?:sources?|stated|mentioned|according|cited|quoted|passages?|documents?|answer)\b", re.I)
_DANGLING = re.compile(r"\b(?:in|from|by|and|or|of|to|see|at|sources?)\s*[,.;:!\s]*$|,\s*,", re.I)


def source_husk(text: str) -> bool:
    """Whether a sentence, its citations taken out, only pointed at sources ("This is stated in.",
    "This answer comes from sources,,, and."): nothing to check, nothing worth showing."""
    return bool(_ABOUT_SOURCES.search(text) and _DANGLING.search(text))


def exchanged(claim_words: list[str], window_words: list[str]) -> bool:
    """Whether a copied sentence exchanges one or two words of the passage for others, or adds or drops a
    negation, inside the copy.

    "proxy traffic through the client, in order to" for "... through the server, in order to": the
    words around are copied, so the exchange is no rewording but a changed fact, even when the new
    word occurs elsewhere in the passage (which `swapped` cannot see). Stop words do not count,
    except those with an opposite ("before" / "after"). An edit counts when at least 3 copied words
    stand before it (or it starts the sentence) and 3 after it (or it ends the sentence)."""
    from difflib import SequenceMatcher

    from app.knowledge.evidence import is_fact_word, negated

    sm = SequenceMatcher(a=claim_words, b=window_words, autojunk=False)
    ops = sm.get_opcodes()

    def copied(k: int) -> int:
        return ops[k][2] - ops[k][1] if 0 <= k < len(ops) and ops[k][0] == "equal" else 0

    n = len(claim_words)
    for k, (op, a0, a1, b0, b1) in enumerate(ops):
        if op == "equal" or a1 - a0 > 2:
            continue
        if a1 == n and a1 > a0:  # the claim ends here: the window's words after it are not part of the edit
            b1 = min(b1, b0 + (a1 - a0))
        if a1 > a0 and (a0 == 0 or (k and ops[k - 1][0] == "equal" and ops[k - 1][1] == 0 and a0 < 3)):
            # ...or starts here (or after a word or two that may match anywhere)
            b0 = max(b0, b1 - (a1 - a0))
        if b1 - b0 > 2:
            continue
        before, after = copied(k - 1), copied(k + 1)
        start_ok = a0 == 0 or before >= 3 or (before and ops[k - 1][1] == 0)
        end_ok = a1 == n or after >= 3 or (after and ops[k + 1][2] == n)
        if not (start_ok and end_ok and before + after >= 4):
            continue
        cw, ww = claim_words[a0:a1], window_words[b0:b1]
        if negated(" ".join(cw)) != negated(" ".join(ww)):
            return True  # "are asked" for "are not asked"
        if op == "replace" and len(cw) == len(ww) and any(
                stem_of(c) != stem_of(w) and (is_fact_word(c) or is_fact_word(w)) for c, w in zip(cw, ww)):
            return True
    return False


def stem_of(word: str) -> str:
    """The word as `content_terms` normalises it (stem, then the synonym map: "utilize" is "use")."""
    from app.knowledge.evidence import _SYNONYMS, stem

    st = stem(word)
    return _SYNONYMS.get(st, st)


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
        src = sanitize_source(hit.text)[0]
        sents = [x for x in _chunk_sentences(src) if REMOVED not in x] or [""]
        scored = sorted(((len(q & _terms(s)) / (len(q) + 1e-9), j) for j, s in enumerate(sents) if _prose(s)),
                        key=lambda t: (-t[0], t[1]))
        if not scored or (scored[0][0] == 0 and picked):  # an image, a caption, or nothing of the question
            continue
        j = scored[0][1]
        passage = sents[j]
        k = j + 1
        while len(passage) < 160 and k < len(sents):  # a little context after the best sentence
            passage = f"{passage} {sents[k]}"
            k += 1
        a = src.find(sents[j])
        b = src.find(sents[k - 1], max(a, 0))
        if k - 1 > j and 0 <= a < b and REMOVED not in src[a:b + len(sents[k - 1])]:
            passage = src[a:b + len(sents[k - 1])]  # the quote as it stands in the source (list numbers kept)
        if len(passage) > max_chars:
            passage = passage[:max_chars].rsplit(" ", 1)[0] + " …"
        picked.append((scored[0][0], i, passage))
    if not picked and usable:  # nothing but markup: quote the best hit as it is
        text = _one_line(sanitize_source(hits[usable[0]].text)[0])
        picked.append((0.0, usable[0], text[:max_chars].rsplit(" ", 1)[0] + " …" if len(text) > max_chars else text))
    picked = picked[:max_passages]  # hits arrive best first: keep the retrieval order
    supports = [Support(n=i + 1, score=round(s, 3), span=p) for s, i, p in picked]
    lines = [f"{k}. \u201c{_one_line(s.span)}\u201d [{s.n}]" for k, s in enumerate(supports, 1)]
    return "\n".join(lines), supports


_MARKUP = re.compile(r"!\[[^\]]*\]\([^)]*\)|\*?Figure [\d.-]+:[^*]*\*?|^[#>\s*-]+|[`*_\\]")


def _prose(sentence: str) -> bool:
    """Whether a chunk sentence says something (not an image, a figure caption or bare markup)."""
    return len(_MARKUP.sub(" ", sentence).split()) >= 4


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
