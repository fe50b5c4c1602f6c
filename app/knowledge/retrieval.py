"""Hybrid retrieval: dense (embedder) + lexical (BM25), fused by reciprocal rank.

Each retriever ranks candidates across all the knowledge bases searched; the two
rankings are fused with RRF. Every candidate gets its cosine similarity to the
query (chunks found only by BM25 have their stored vectors fetched), and a
relevance floor drops chunks that are neither semantically close nor lexically
well covered, so an unrelated question retrieves nothing rather than noise.

Cross-lingual: the question is expanded with the bilingual security glossary
(`app.knowledge.glossary`): BM25 searches the question plus its other-language
terms, the embedder sees an English rendering of a Chinese question. Then a second
stage (`app.knowledge.rerank`) demotes reference-only chunks, prefers the
question's language, drops near-duplicates and reorders by a local relevance
score; a bundle reranker (a `(query, texts) -> scores` callable, e.g. the
builder's cross-encoder, `app.knowledge.cross_encoder`) then reorders the top
RERANK_TOP of that list (`app.knowledge.rerank.cross_rerank`).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Callable, Literal, Sequence

from app.knowledge.store import KnowledgeBase

log = logging.getLogger(__name__)

Mode = Literal["hybrid", "dense", "lexical"]
Reranker = Callable[[str, list[str]], list[float]]

RRF_K = 20
"""Reciprocal rank fusion constant (smaller = the top ranks weigh more)."""
WEIGHTS = {"dense": 1.0, "lexical": 1.5}
"""Per-retriever RRF weights. BM25 gets more: a general English embedder (MiniLM) misses
exact security terms (CWE ids, API names, Chinese text) that BM25 matches. Chosen on the
starter retrieval eval (bench/eval_retrieval.py); a bundle with a tuned embedder may differ."""
DENSE_FLOOR = 0.30
"""Default cosine floor (tuned on the starter notes with all-MiniLM-L6-v2)."""
CROSS_WEIGHT_ZH = 1.0
"""Weight of the glossary's English terms (relative to BM25's) for a Chinese question."""
CROSS_WEIGHT_EN = 0.3
"""Weight of the glossary's Chinese terms for an English question (Chinese notes are a fallback)."""
RERANK_TOP = 20
"""How many second-stage hits a bundle's cross-encoder reorders (the issue's budget: the top 20)."""
LEXICAL_FLOOR = 0.55
"""Default share of the query's (idf-weighted) terms a chunk must contain to pass on words alone."""


@dataclass
class Hit:
    """One retrieved chunk."""

    id: str
    text: str
    source: str
    heading: str
    start_line: int
    end_line: int
    score: float
    """Fused score, 0..1 (1 = ranked first by every retriever that found anything)."""
    dense: float | None = None
    """Cosine similarity to the query."""
    lexical: float | None = None
    """BM25 score (None when BM25 did not find it)."""
    coverage: float = 0.0
    """Idf-weighted share of query terms present."""
    found_by: tuple[str, ...] = ()
    kb: str = ""
    flags: tuple[str, ...] = field(default=())

    @property
    def lines(self) -> str:
        return f"{self.start_line}-{self.end_line}" if self.end_line != self.start_line else str(self.start_line)

    def label(self) -> str:
        """`path › heading (lines a-b)` for source lists."""
        head = f" › {self.heading}" if self.heading else ""
        return f"{self.source}{head} (lines {self.lines})"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["found_by"] = list(self.found_by)
        d["flags"] = list(self.flags)
        d["lines"] = self.lines
        return d


class Retriever:
    """Search one or more knowledge bases built with the same embedder."""

    def __init__(self, kbs: Sequence[KnowledgeBase], *, embedder, min_score: float | None = None,
                 lexical_floor: float = LEXICAL_FLOOR, candidates: int = 40, reranker: Reranker | None = None,
                 rrf_k: int = RRF_K, weights: dict[str, float] | None = None, expand: bool = True,
                 second_stage: bool = True) -> None:
        self.kbs = list(kbs)
        self.embedder = embedder
        self.dense_floor = min_score if min_score else DENSE_FLOOR
        self.lexical_floor = lexical_floor
        self.candidates = candidates
        self.reranker = reranker
        self.rrf_k = rrf_k
        self.weights = dict(weights or WEIGHTS)
        self.expand = expand
        self.second_stage = second_stage
        for kb in self.kbs:
            if kb.fingerprint != embedder.fingerprint:
                from app.errors import BastionError

                raise BastionError(f"knowledge base {kb.name!r} was opened for another embedder",
                                   hint="open every knowledge base with the bundle's embedder fingerprint")

    def search(self, query: str, *, k: int = 5, mode: Mode = "hybrid", floor: bool = True,
               query_vector: Sequence[float] | None = None) -> list[Hit]:
        """The `k` best chunks for `query`, best first; empty when nothing passes the floor.

        `query_vector` skips embedding the query (when the caller already has it).
        """
        query = query.strip()
        if not query or not self.kbs:
            return []
        n = max(self.candidates, k * 4)
        from app.knowledge.glossary import expand, language

        exp = expand(query) if self.expand else None
        lang = exp.lang if exp else language(query)
        qvec = None
        qvecs: list[list[float]] = []
        if mode != "lexical":
            qvec = list(query_vector) if query_vector is not None else self.embedder.embed_one(exp.dense if exp else query)
            qvecs.append(qvec)
            if query_vector is None and exp is not None and exp.dense != query:
                # The question as asked as well as its glossary rendering: an English embedder still
                # places a Chinese question near a Chinese chunk, and the floor must not lose that.
                qvecs.append(list(self.embedder.embed_one(query)))
        lists: dict[str, list[str]] = {}
        found: dict[str, dict] = {}  # id -> {kb, text, meta, dense, lexical, coverage}

        if mode in ("hybrid", "dense"):
            best_dense: dict[str, tuple] = {}
            for vec in qvecs:
                for pos, kb in enumerate(self.kbs):
                    for cid, cos, doc, meta in kb.dense(vec, n):
                        prev = best_dense.get(f"{pos}/{cid}")
                        if prev is None or cos > prev[0]:
                            best_dense[f"{pos}/{cid}"] = (cos, pos, cid, doc, meta)
            dense = sorted(best_dense.values(), key=lambda t: -t[0])
            lists["dense"] = []
            for cos, pos, cid, doc, meta in dense[:n]:
                key = f"{pos}/{cid}"
                found[key] = {"kb": self.kbs[pos], "id": cid, "text": doc, "meta": meta, "dense": cos, "lexical": None, "coverage": 0.0}
                lists["dense"].append(key)

        weights = dict(self.weights)
        lexical_queries = [("lexical", query)]
        if exp is not None and exp.cross and mode in ("hybrid", "lexical"):
            # The other language's glossary terms, as a ranking of their own: a Chinese question
            # reaches English chunks through them; an English one reaches Chinese chunks, weighted low.
            lexical_queries.append(("cross", exp.cross))
            weights["cross"] = weights.get("lexical", 1.0) * (CROSS_WEIGHT_ZH if lang == "zh" else CROSS_WEIGHT_EN)
        if mode in ("hybrid", "lexical"):
            missing: dict[int, list[str]] = {}
            for name, text in lexical_queries:
                lex = []
                for pos, kb in enumerate(self.kbs):
                    index = kb.lexical()
                    for h in index.search(text, k=n):
                        lex.append((h.score, pos, index.ids[h.index], h.coverage))
                lex.sort(key=lambda t: -t[0])
                lists[name] = []
                for score, pos, cid, cov in lex[:n]:
                    key = f"{pos}/{cid}"
                    entry = found.setdefault(key, {"kb": self.kbs[pos], "id": cid, "text": None, "meta": None, "dense": None, "lexical": None})
                    if name == "lexical":
                        entry["lexical"] = score
                    entry["coverage"] = max(entry.get("coverage") or 0.0, cov)
                    lists[name].append(key)
                    if entry["text"] is None and cid not in missing.get(pos, []):
                        missing.setdefault(pos, []).append(cid)
            for pos, ids in missing.items():
                for cid, (doc, meta, emb) in _fetch(self.kbs[pos], ids).items():
                    entry = found[f"{pos}/{cid}"]
                    entry["text"], entry["meta"] = doc, meta
                    if qvecs and emb is not None:
                        entry["dense"] = max(float(sum(a * b for a, b in zip(vec, emb))) for vec in qvecs)

        fused = _rrf(lists, k=self.rrf_k, weights=weights)
        best = sum(weights.get(name, 1.0) / (self.rrf_k + 1) for name in lists)
        hits = []
        for key, score in fused:
            e = found[key]
            if e["meta"] is None:
                continue
            hit = _hit(e, score / best, tuple(name for name, ranked in lists.items() if key in ranked))
            if floor and not self.relevant(hit, mode):
                continue
            hits.append(hit)
        if self.second_stage and hits:
            from app.knowledge.rerank import rerank

            hits = rerank(hits[: max(n, k)], query=exp.dense if exp else query, lang=lang)
        if self.reranker and hits:
            from app.knowledge.rerank import cross_rerank

            # The cross-encoder reads English (its base is MiniLM): a Chinese question goes in as its
            # glossary rendering. Only the top RERANK_TOP are scored: the rest keep their order below.
            top = hits[:RERANK_TOP]
            scores = self.reranker(exp.dense if exp else query, [f"{h.heading}\n{h.text}" if h.heading else h.text for h in top])
            hits = cross_rerank(top, scores, lang=lang) + hits[RERANK_TOP:]
        return hits[:k]

    def relevant(self, hit: Hit, mode: Mode = "hybrid") -> bool:
        """The relevance floor: close in meaning, or containing most of the query's words."""
        dense_ok = hit.dense is not None and hit.dense >= self.dense_floor
        lexical_ok = hit.coverage >= self.lexical_floor
        if mode == "dense":
            return dense_ok
        if mode == "lexical":
            return lexical_ok
        return dense_ok or lexical_ok

    def close(self) -> None:
        for kb in self.kbs:
            kb.close()


def _fetch(kb, ids: list[str]) -> dict:
    """`kb.fetch(ids)`, skipping chunks chroma cannot return (an index still being written)."""
    try:
        return kb.fetch(ids)
    except Exception as exc:  # chromadb raises its own InternalError family
        log.warning("knowledge base %s: fetching %d chunks failed (%s); trying one by one", kb.name, len(ids), exc)
    out = {}
    for cid in ids:
        try:
            out.update(kb.fetch([cid]))
        except Exception:
            continue
    return out


def _rrf(lists: dict[str, list[str]], *, k: int, weights: dict[str, float]) -> list[tuple[str, float]]:
    scores: dict[str, float] = {}
    for name, ranked in lists.items():
        w = weights.get(name, 1.0)
        for rank, key in enumerate(ranked):
            scores[key] = scores.get(key, 0.0) + w / (k + rank + 1)
    return sorted(scores.items(), key=lambda t: -t[1])


def _hit(e: dict, score: float, found_by: tuple[str, ...]) -> Hit:
    m = e["meta"]
    return Hit(
        id=e["id"], text=e["text"] or "", source=str(m.get("source", "")), heading=str(m.get("heading", "")),
        start_line=int(m.get("start_line", 0)), end_line=int(m.get("end_line", 0)), score=round(score, 4),
        dense=None if e["dense"] is None else round(float(e["dense"]), 4),
        lexical=None if e.get("lexical") is None else round(float(e["lexical"]), 4),
        coverage=round(float(e.get("coverage") or 0.0), 4), found_by=found_by, kb=e["kb"].name,
    )
