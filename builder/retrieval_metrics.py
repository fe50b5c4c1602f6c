"""Retrieval figures for a set of queries over a corpus: Recall@1/5/10, MRR@10, NDCG@10.

Written out (not borrowed from an evaluator class) so the same numbers come from a
sentence-transformers model, a GGUF embedder or any other `texts -> vectors` function.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

from builder.triplets import Triplet

EmbedFn = Callable[[list[str]], object]
KS = (1, 5, 10)


def rank_metrics(rankings: Sequence[Sequence[int]], relevant: Sequence[set[int]]) -> dict[str, float]:
    """Average the figures over queries; `rankings[i]` is corpus ids best first."""
    n = len(rankings)
    if n == 0:
        return {**{f"recall@{k}": 0.0 for k in KS}, "mrr@10": 0.0, "ndcg@10": 0.0, "queries": 0}
    sums = {f"recall@{k}": 0.0 for k in KS} | {"mrr@10": 0.0, "ndcg@10": 0.0}
    for ranked, rel in zip(rankings, relevant):
        for k in KS:
            sums[f"recall@{k}"] += len(rel.intersection(ranked[:k])) / len(rel)
        for pos, doc in enumerate(ranked[:10]):
            if doc in rel:
                sums["mrr@10"] += 1.0 / (pos + 1)
                break
        dcg = sum(1.0 / math.log2(pos + 2) for pos, doc in enumerate(ranked[:10]) if doc in rel)
        idcg = sum(1.0 / math.log2(pos + 2) for pos in range(min(len(rel), 10)))
        sums["ndcg@10"] += dcg / idcg
    out: dict[str, float] = {k: round(v / n, 4) for k, v in sums.items()}
    out["queries"] = n
    return out


def evaluate_retrieval(embed: EmbedFn, queries: Sequence[Triplet], corpus: Sequence[str]) -> dict[str, float]:
    """Embed the corpus and the queries with `embed` (normalised vectors), rank by cosine, score."""
    import numpy as np

    index = {s: i for i, s in enumerate(corpus)}
    usable = [t for t in queries if any(p in index for p in t.positives)]
    if not usable:
        return rank_metrics([], [])
    cvec = np.asarray(embed(list(corpus)), dtype=np.float32)
    qvec = np.asarray(embed([t.query for t in usable]), dtype=np.float32)
    scores = qvec @ cvec.T
    top = np.argsort(-scores, axis=1)[:, :10]
    relevant = [{index[p] for p in t.positives if p in index} for t in usable]
    return rank_metrics([list(map(int, row)) for row in top], relevant)
