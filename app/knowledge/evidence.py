"""Concrete evidence that a passage states what a sentence says.

Embedding similarity only says two texts are on the same topic; a fluent sentence
that contradicts its source ("Strict sends cookies only with cross-site requests")
is as close to it as a faithful one. So a citation rests on evidence a reader can
see in the passage:

- **coverage**: the share of the sentence's content words (light-stemmed, stop
  words out) found in one window of the chunk (a sentence or two adjacent ones),
  the chunk's heading counting as context;
- **order**: the share of those words found in the same order (longest common
  subsequence), so a rearranged claim built from the passage's words falls short;
- **verbatim**: the longest run of words copied from the window;
- **specifics**: every number in the sentence must be in the window, every
  identifier (`HttpOnly`, `CWE-89`, `document.cookie`, an acronym) in the chunk;
- **polarity**: a negation on one side only (the window's counting when its clause
  holds two of the sentence's terms) or a word whose opposite the window holds
  instead ("allow" vs "block", "strict" vs "lax") vetoes the match.

`Evidence.measure(sentence, window)` computes these; `Window` holds a chunk's
precomputed windows. The thresholds live with the Grounder that applies them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from app.knowledge.glossary import language, matches
from app.knowledge.lexical import STOPWORDS

_EXTRA_STOP = frozenset(
    """also any all been being both each either every has have had here however may might must
    more most much not no nor only other same some such too very via within without just like
    one two well yes out over under up down off again further once own s t don now its itself
    e g eg i e ie etc example examples following follows see section also thus therefore usually typically
    generally commonly often normally basically simply really actually""".split()
) - {"not", "no", "only", "more", "most", "all", "any", "must", "without", "up", "down", "before", "after"}
_STOP = STOPWORDS | _EXTRA_STOP
_NEG = re.compile(r"\b(?:not|never|no|none|cannot|can't|don't|doesn't|isn't|aren't|won't|shouldn't|mustn't|"
                  r"neither|nor)\b|不|没有|禁止|无法|并非", re.I)
_CLAUSE = re.compile(r"[,;:()]|\s[-–—]\s|\b(?:but|however|whereas|while|although|though|unless|instead)\b", re.I)
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
_NUMBER_WORDS.update({"twenty": "20", "thirty": "30", "hundred": "100", "thousand": "1000", "once": "1", "twice": "2"})
_SYNONYMS = {"unsuccessful": "fail", "failure": "fail", "adversary": "attacker", "utiliz": "use", "utilis": "use",
             "permit": "allow", "stop": "prevent", "mitigat": "prevent", "verify": "check", "ensur": "check",
             "retriev": "get", "obtain": "get", "websit": "site", "webpag": "page"}
_WORD = re.compile(r"[A-Za-z0-9_]+|[\u3400-\u9fff]")
_NUMBER = re.compile(r"(?<![A-Za-z])\d+(?:\.\d+)?")
_IDENT = re.compile(r"`([^`]{2,60})`|\b([A-Za-z]+[A-Z][A-Za-z]*|[A-Za-z]*\d[A-Za-z0-9]*|[A-Z]{2,}[0-9]*|"
                    r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+){1,})\b")

# Words whose opposite in the passage, without the word itself, means the sentence says the opposite.
_OPPOSITES = [
    ("allow", "block"), ("allow", "deny"), ("allow", "prevent"), ("allow", "forbid"), ("accept", "reject"),
    ("enable", "disable"), ("secure", "insecure"), ("safe", "unsafe"), ("valid", "invalid"),
    ("before", "after"), ("increase", "decrease"), ("more", "less"), ("more", "fewer"), ("strict", "lax"),
    ("first", "third"), ("first", "cross"), ("client", "server"), ("true", "false"), ("always", "never"),
    ("required", "optional"), ("public", "private"), ("encrypt", "plaintext"), ("encrypt", "decrypt"),
    ("trusted", "untrusted"), ("upper", "lower"), ("minimum", "maximum"), ("success", "fail"),
    ("include", "exclude"), ("internal", "external"), ("read", "write"), ("get", "post"), ("start", "end"),
    ("whitelist", "blacklist"), ("allowlist", "denylist"), ("positive", "negative"), ("high", "low"),
    ("automatic", "manual"), ("static", "dynamic"), ("symmetric", "asymmetric"), ("same", "different"),
]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English suffix fold: allows/allowed/allowing -> allow, cookies -> cooki(e), queries -> query."""
    w = word.lower()
    if len(w) <= 3 or not w.isalpha():
        return w
    for suf, rep in (("ies", "y"), ("ied", "y"), ("ying", "y"), ("sses", "ss"), ("ing", ""), ("edly", ""),
                     ("ed", ""), ("ly", ""), ("es", ""), ("s", "")):
        if w.endswith(suf) and len(w) - len(suf) >= 3 and not (suf == "s" and w.endswith(("ss", "us", "is"))):
            w = w[: len(w) - len(suf)] + rep
            break
    if len(w) > 4 and w[-1] == w[-2] and w[-1] not in "aeiouls":  # stopped -> stopp -> stop
        w = w[:-1]
    return w.rstrip("e") if len(w) > 4 else w


_STOP_STEMS = frozenset(stem(w) for w in _STOP)
_OPP = {}
for _a, _b in _OPPOSITES:
    _OPP.setdefault(stem(_a), set()).add(stem(_b))
    _OPP.setdefault(stem(_b), set()).add(stem(_a))


def words(text: str) -> list[str]:
    """Lower-cased words (CJK: single characters), for verbatim runs."""
    return [w.lower() for w in _WORD.findall(text)]


def content_terms(text: str) -> list[str]:
    """The text's content words in order, stemmed, without stop words; Chinese: the glossary's English terms."""
    out = [_SYNONYMS.get(w, w) for w in (_NUMBER_WORDS.get(x.lower()) or stem(x) for x in re.findall(r"[A-Za-z0-9]+", text))]
    out = [w for w in out if w not in _STOP_STEMS and (len(w) > 1 or w.isdigit())]
    if language(text) == "zh":
        for t in matches(text):
            for en in t.en[:1]:
                out.extend(w for w in content_terms(en) if w not in out)
    return out


def numbers(text: str) -> set[str]:
    """Numbers in digits or (up to twelve, and a few round ones) in words."""
    found = {n.lstrip("0") or "0" for n in _NUMBER.findall(re.sub(r"(?<=\d)[, ](?=\d{3}\b)", "", text))}  # 10,000
    return found | {_NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in _NUMBER_WORDS and w != "one"}


def identifiers(text: str) -> set[str]:
    """Code-like tokens: `quoted`, CamelCase, with digits, ALLCAPS, dotted/dashed names (lower-cased)."""
    out = set()
    for m in _IDENT.finditer(text):
        tok = (m.group(1) or m.group(2) or "").strip().lower()
        if tok and not tok.isdigit() and len(tok) > 1:
            out.add(tok)
    return out


def negated(text: str) -> bool:
    return bool(_NEG.search(text))


def clauses(text: str) -> list[str]:
    """The text cut at commas, semicolons, brackets and contrastive conjunctions."""
    return [c for c in _CLAUSE.split(text) if c and c.strip()]


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


def common_subsequence(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence of two term lists."""
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            cur[j] = prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1])
        prev = cur
    return prev[-1]


@dataclass
class Window:
    """One or two adjacent sentences of a chunk, with what the checks need precomputed."""

    text: str
    terms: list[str]
    words: list[str]
    numbers: set[str]
    negations: list[set[str]]
    """The content terms of each clause that holds a negation."""

    @classmethod
    def of(cls, text: str) -> "Window":
        neg = [set(content_terms(c)) for c in clauses(text) if negated(c)]
        return cls(text=text, terms=content_terms(text), words=words(text), numbers=numbers(text), negations=neg)


def windows(sentences: list[str], size: int = 2) -> list[Window]:
    """Each sentence, and each run of `size` adjacent sentences."""
    out = [Window.of(s) for s in sentences]
    for k in range(2, size + 1):
        out.extend(Window.of(" ".join(sentences[i:i + k])) for i in range(len(sentences) - k + 1))
    return out


@dataclass
class Claim:
    """An answer sentence, prepared once."""

    text: str
    terms: list[str]
    words: list[str]
    numbers: set[str]
    identifiers: set[str]
    negated: bool

    @classmethod
    def of(cls, text: str) -> "Claim":
        terms = list(dict.fromkeys(content_terms(text)))
        return cls(text=text, terms=terms, words=words(text), numbers=numbers(text), identifiers=identifiers(text),
                   negated=negated(text))


@dataclass
class Evidence:
    coverage: float
    order: float
    verbatim: int
    numbers_ok: bool
    polarity_ok: bool
    missing: list[str]

    @classmethod
    def measure(cls, claim: Claim, win: Window, context: set[str] = frozenset()) -> "Evidence":
        """How well `win` (with `context` terms, e.g. the heading) evidences `claim`."""
        have = set(win.terms)
        terms = claim.terms
        missing = [t for t in terms if t not in have and t not in context]
        coverage = 1 - len(missing) / len(terms) if terms else 0.0
        in_window = [t for t in terms if t in have]
        order = common_subsequence(in_window, [t for t in win.terms if t in set(in_window)]) / len(terms) if terms else 0.0
        run = longest_common_run(claim.words, win.words)
        numbers_ok = claim.numbers <= win.numbers
        polarity_ok = claim.negated == _negates(win, terms) and not _opposed(terms, have)
        return cls(round(coverage, 3), round(order, 3), run, numbers_ok, polarity_ok, missing)


def is_fact_word(word: str) -> bool:
    """A word whose exchange changes what a sentence says: a content word, or a stop word with an opposite."""
    st = stem(word)
    return st in _OPP or (st not in _STOP_STEMS and (len(st) > 1 or st.isdigit()))


def _negates(win: Window, terms: list[str]) -> bool:
    """Whether a negated clause of the window is about the claim (holds two of its terms, or all of a short one)."""
    need = min(2, len(terms))
    return any(len(c & set(terms)) >= need for c in win.negations)


def _opposed(terms: list[str], have: set[str]) -> bool:
    """A sentence word missing from the window whose opposite the window holds."""
    return any(t not in have and _OPP.get(t, set()) & have for t in terms)
