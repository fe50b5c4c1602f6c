"""Cleaning: secret scrubbing, language guess, length filters, exact and near-duplicate removal."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter

import numpy as np

# (kind, pattern, group to replace or 0 for the whole match)
_SECRETS: list[tuple[str, re.Pattern, int]] = [
    ("private_key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----", re.S), 0),
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|AIDA|AGPA|AROA)[0-9A-Z]{16}\b"), 0),
    ("aws_secret_key", re.compile(r"(?i)aws_?secret_?(?:access_?)?key\s*[=:]\s*[\"']?([A-Za-z0-9/+=]{40})"), 1),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b"), 0),
    ("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"), 0),
    ("slack_webhook", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/]{20,}"), 0),
    ("generic_secret", re.compile(
        r"(?i)\b(?:api[_-]?key|apikey|secret[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret)\b"
        r"[\"']?\s*[=:]\s*[\"']?([A-Za-z0-9_\-./+=]{16,})"), 1),
]


def scrub(text: str) -> tuple[str, Counter]:
    """Replace secrets with `<REDACTED:kind>`; returns the text and a count per kind."""
    found: Counter = Counter()
    for kind, pat, group in _SECRETS:
        def repl(m: re.Match, kind=kind, group=group) -> str:
            if m.group(group).startswith("<REDACTED"):
                return m.group(0)
            found[kind] += 1
            if group == 0:
                return f"<REDACTED:{kind}>"
            s, e = m.span(group)
            return m.group(0)[: s - m.start()] + f"<REDACTED:{kind}>" + m.group(0)[e - m.start():]
        text = pat.sub(repl, text)
    return text, found


def language(text: str) -> str:
    """A coarse language guess from the script of the letters (en, zh, ja, ko, ru, ar, other)."""
    counts: Counter = Counter()
    for ch in text[:4000]:
        if not ch.isalpha():
            continue
        o = ord(ch)
        if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF:
            counts["zh"] += 1
        elif 0x3040 <= o <= 0x30FF:
            counts["ja"] += 3
        elif 0xAC00 <= o <= 0xD7AF:
            counts["ko"] += 1
        elif 0x0400 <= o <= 0x04FF:
            counts["ru"] += 1
        elif 0x0600 <= o <= 0x06FF:
            counts["ar"] += 1
        elif o < 0x250:
            counts["latin"] += 1
        else:
            counts["other"] += 1
    if not counts:
        return "other"
    top = counts.most_common(1)[0][0]
    return "en" if top == "latin" else top


_FENCE_LANG = re.compile(r"```([A-Za-z0-9_+#-]+)")


def code_languages(text: str) -> list[str]:
    return sorted({m.group(1).lower() for m in _FENCE_LANG.finditer(text)})


def normal_form(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"\s+", " ", t).strip()


def exact_key(text: str) -> str:
    return hashlib.sha1(normal_form(text).encode()).hexdigest()


# ---- near duplicates: MinHash over shingles, banded LSH for candidates --------------------------
_P = (1 << 61) - 1
_NPERM = 64
_BANDS = 16
_rng = np.random.default_rng(1234)
_A = _rng.integers(1, _P, size=_NPERM, dtype=np.uint64)
_B = _rng.integers(0, _P, size=_NPERM, dtype=np.uint64)


def shingles(text: str, k: int = 3) -> set[str]:
    """Word k-grams (punctuation ignored); character 5-grams for short or unspaced (CJK) text."""
    t = re.sub(r"[^\w\s]", " ", normal_form(text))
    words = t.split()
    if len(words) >= 4 * k:
        return {" ".join(words[i:i + k]) for i in range(len(words) - k + 1)}
    t = "".join(words)
    return {t[i:i + 5] for i in range(max(1, len(t) - 4))}


def minhash(sh: set[str]) -> np.ndarray:
    x = np.array([int.from_bytes(hashlib.blake2b(s.encode(), digest_size=7).digest(), "little") for s in sh],
                 dtype=np.uint64)
    # (a*x + b) mod p on 61-bit values would overflow uint64; mix with a 32-bit split instead.
    x = x[:, None]
    h = (_A[None, :] * (x & np.uint64(0xFFFFFFFF)) + _B[None, :]) ^ (_A[None, :] * (x >> np.uint64(32)))
    return h.min(axis=0)


def near_duplicates(texts: list[str], threshold: float) -> list[int]:
    """Indices to drop: each text whose estimated Jaccard with an earlier kept text >= threshold."""
    sigs = [minhash(shingles(t)) for t in texts]
    rows = _NPERM // _BANDS
    buckets: dict[tuple, list[int]] = {}
    drop: list[int] = []
    for i, sig in enumerate(sigs):
        cands: set[int] = set()
        keys = [(b, sig[b * rows:(b + 1) * rows].tobytes()) for b in range(_BANDS)]
        for key in keys:
            cands.update(buckets.get(key, ()))
        if any(float(np.mean(sigs[j] == sig)) >= threshold for j in cands):
            drop.append(i)
            continue
        for key in keys:
            buckets.setdefault(key, []).append(i)
    return drop
