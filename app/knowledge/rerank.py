"""Second-stage ranking of fused hits: demote reference-only chunks, drop near-duplicates,
prefer the question's language, and rerank by a cheap local relevance score.

No cross-encoder ships with the starter bundle, so the default reranker is
`score_hit`: a weighted mix of the dense cosine (to the expanded query), the
idf-weighted lexical coverage, the fused rank score, and a bonus when the
question's key terms appear in the chunk's file name or heading. The weights were
chosen on the tune half of the WSTG question set (bench/eval_answers.py).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Sequence

from app.knowledge.glossary import cjk_share
from app.knowledge.lexical import tokenize

_LINK = re.compile(r"\[[^\]]*\]\([^)]*\)|https?://\S+")
_REF_HEADING = re.compile(
    r"(?:^|[>›/]\s*)(references?|related(?: \w+)?|see also|further reading|tools?|resources?|"
    r"table of contents|contents|whitepapers?|links?|bibliography|acknowledge?ments?|"
    r"参考(?:资料|文献|链接)?|相关(?:链接|内容|条目)?|延伸阅读|目录)\s*$",
    re.IGNORECASE,
)

REFERENCE_FACTOR = 0.35
"""Score multiplier for a reference-only chunk (links, TOC, 'Related')."""
LANGUAGE_FACTOR = 0.7
"""Score multiplier for a chunk in another language than the question."""
DUPLICATE_JACCARD = 0.8
"""Token-set similarity above which the lower-ranked of two hits is dropped."""

W_DENSE, W_COVERAGE, W_FUSED, W_TITLE = 0.45, 0.35, 0.2, 0.15


def is_reference_only(text: str, heading: str = "") -> bool:
    """A chunk that only points elsewhere: a links/References/Related section or a table of contents."""
    last = heading.split(">")[-1].split("›")[-1].strip()
    if _REF_HEADING.search(last):
        return True
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return True
    prose = _LINK.sub("", text)
    words = re.findall(r"[^\W\d_]{2,}", prose)
    link_chars = sum(len(m.group(0)) for m in _LINK.finditer(text))
    listy = sum(1 for ln in lines if re.match(r"^([-*+]|\d+[.)])\s", ln))
    if link_chars > 0.5 * len(text):
        return True
    if len(lines) >= 3 and listy >= 0.8 * len(lines) and link_chars > 0.25 * len(text):
        return True
    return len(words) < 6 and len(lines) <= 2 and not re.search(r"`|\{|\(|=|<", text)


def chunk_language(text: str) -> str:
    return "zh" if cjk_share(text) >= 0.3 else "en"


def _tokset(text: str) -> set[str]:
    return set(tokenize(text))


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def dedupe(hits: Sequence, *, threshold: float = DUPLICATE_JACCARD) -> list:
    """Drop hits whose text nearly repeats a better-ranked one (or overlaps its lines in the same file)."""
    kept: list = []
    sets: list[set[str]] = []
    for h in hits:
        s = _tokset(h.text)
        dup = False
        for k, ks in zip(kept, sets):
            if jaccard(s, ks) >= threshold:
                dup = True
                break
            if k.source == h.source and k.kb == h.kb and h.start_line >= k.start_line and h.end_line <= k.end_line:
                dup = True
                break
        if not dup:
            kept.append(h)
            sets.append(s)
    return kept


def title_match(query_terms: set[str], hit) -> float:
    """Share of the query's terms that appear in the hit's file name or heading path."""
    if not query_terms:
        return 0.0
    name = hit.source.rsplit("/", 1)[-1].rsplit(".", 1)[0].replace("-", " ").replace("_", " ")
    title = _tokset(f"{name} {hit.heading}")
    return len(query_terms & title) / len(query_terms)


def score_hit(hit, query_terms: set[str]) -> float:
    """The cheap local relevance score (0..~1.15) before the reference/language factors."""
    dense = max(hit.dense or 0.0, 0.0)
    return W_DENSE * dense + W_COVERAGE * hit.coverage + W_FUSED * hit.score + W_TITLE * title_match(query_terms, hit)


def rerank(hits: Sequence, *, query: str, lang: str) -> list:
    """Hits reordered: local score × reference/language factors, near-duplicates removed.

    Each returned hit is a copy whose `flags` gain "reference-only" / "other-language"
    when those factors applied.
    """
    terms = {t for t in _tokset(query) if len(t) > 1}
    scored = []
    for h in hits:
        s = score_hit(h, terms)
        flags = list(h.flags)
        if is_reference_only(h.text, h.heading):
            s *= REFERENCE_FACTOR
            flags.append("reference-only")
        if chunk_language(h.text) != lang:
            s *= LANGUAGE_FACTOR
            flags.append("other-language")
        scored.append((s, replace(h, flags=tuple(dict.fromkeys(flags)))))
    scored.sort(key=lambda t: -t[0])
    return dedupe([h for _, h in scored])


CROSS_BLEND = 0.0
"""Weight of the local second-stage order next to the cross-encoder's probability (tuned on the WSTG tune half)."""


def cross_rerank(hits: Sequence, logits: Sequence[float], *, lang: str, blend: float | None = None) -> list:
    """`hits` reordered by a cross-encoder's logits, with the same reference/language factors as `rerank`.

    Chunks with no answer-bearing content (link lists, TOCs, 'Related') are down-weighted even when the
    model likes them; `blend` mixes in the incoming order (1/(1+rank)) so a tie keeps the local ranking.
    """
    from app.knowledge.cross_encoder import sigmoid

    if len(logits) != len(hits):
        raise ValueError(f"reranker returned {len(logits)} scores for {len(hits)} passages")
    w = CROSS_BLEND if blend is None else blend
    scored = []
    for rank, (h, x) in enumerate(zip(hits, logits)):
        s = sigmoid(float(x)) + w / (1 + rank)
        flags = list(h.flags)
        if "reference-only" in flags or is_reference_only(h.text, h.heading):
            s *= REFERENCE_FACTOR
            flags.append("reference-only")
        if chunk_language(h.text) != lang:
            s *= LANGUAGE_FACTOR
            flags.append("other-language")
        flags.append("cross-encoder")
        scored.append((s, rank, replace(h, flags=tuple(dict.fromkeys(flags)))))
    scored.sort(key=lambda t: (-t[0], t[1]))
    return [h for _, _, h in scored]
