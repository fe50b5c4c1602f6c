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


def read_questions(path) -> list[tuple[str, set[str]]]:
    """A question set: JSONL `{"question": ..., "relevant": ["file.md", ...]}` (file names, not paths)."""
    import json
    from pathlib import Path

    from app.errors import BastionError

    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            q, rel = rec["question"], rec["relevant"]
            if not isinstance(q, str) or not isinstance(rel, list) or not rel:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            raise BastionError(f"{path}:{n}: expected {{\"question\": str, \"relevant\": [file names]}}",
                               hint="fix that line of the question set") from None
        out.append((q, {Path(r).name for r in rel}))
    return out


def evaluate_questions(embed: EmbedFn, questions, passages) -> dict[str, float]:
    """Document-level figures: a document ranks by its best passage (`passages`: .text and .doc)."""
    import numpy as np
    from pathlib import Path

    docs = sorted({Path(p.doc).name for p in passages})
    ids = {d: i for i, d in enumerate(docs)}
    usable = [(q, {ids[r] for r in rel if r in ids}) for q, rel in questions]
    usable = [(q, rel) for q, rel in usable if rel]
    if not usable:
        return rank_metrics([], [])
    pdoc = [ids[Path(p.doc).name] for p in passages]
    pvec = np.asarray(embed([p.text for p in passages]), dtype=np.float32)
    qvec = np.asarray(embed([q for q, _ in usable]), dtype=np.float32)
    rankings = []
    for row in qvec @ pvec.T:
        order: list[int] = []
        for j in np.argsort(-row):
            if pdoc[j] not in order:
                order.append(pdoc[j])
                if len(order) == 10:
                    break
        rankings.append(order)
    return rank_metrics(rankings, [rel for _, rel in usable])
