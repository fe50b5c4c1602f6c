"""Optional cross-encoder reranker: measured on the held-out split, shipped only if it helps.

Runs only when the profile names one (`[embed] reranker = "<folder or hub id>"`); none of the
shipped profiles do, because no cross-encoder is available offline here. The discipline is the
embedder's: dense top-N from the chosen embedder, then the same list reordered by the reranker,
both scored with the same Recall/MRR/NDCG code; the reranker ships (as reranker.gguf) only when
it beats dense-only on MRR@10.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Sequence

from app.errors import BastionError
from builder.retrieval_metrics import rank_metrics
from builder.triplets import Triplet

log = logging.getLogger(__name__)

ScoreFn = Callable[[str, list[str]], Sequence[float]]
"""(query, passages) -> relevance scores, higher is better."""


def rerank_comparison(
    embed: Callable[[list[str]], object],
    score: ScoreFn,
    held: Sequence[Triplet],
    corpus: Sequence[str],
    *,
    candidates: int = 20,
    metric: str = "mrr@10",
) -> dict:
    """Dense-only vs dense+rerank figures on the held-out queries, and the gate's verdict."""
    import numpy as np

    index = {s: i for i, s in enumerate(corpus)}
    usable = [t for t in held if any(p in index for p in t.positives)]
    if not usable:
        raise BastionError("no held-out query has its positive in the corpus; cannot evaluate a reranker")
    cvec = np.asarray(embed(list(corpus)), dtype=np.float32)
    qvec = np.asarray(embed([t.query for t in usable]), dtype=np.float32)
    top = np.argsort(-(qvec @ cvec.T), axis=1)[:, :candidates]
    dense, reranked, relevant = [], [], []
    for t, row in zip(usable, top):
        ids = [int(i) for i in row]
        s = list(score(t.query, [corpus[i] for i in ids]))
        order = sorted(range(len(ids)), key=lambda k: -s[k])
        dense.append(ids)
        reranked.append([ids[k] for k in order])
        relevant.append({index[p] for p in t.positives if p in index})
    before, after = rank_metrics(dense, relevant), rank_metrics(reranked, relevant)
    keep = after[metric] > before[metric]
    verdict = (f"reranker wins on {metric}: {after[metric]:.4f} vs dense-only {before[metric]:.4f}; shipping it" if keep
               else f"RERANKER NOT BETTER on {metric} ({after[metric]:.4f} vs dense-only {before[metric]:.4f}): LEAVING IT OUT")
    return {"dense": before, "reranked": after, "chosen": "reranker" if keep else "none", "verdict": verdict,
            "candidates": candidates}


def cross_encoder_scorer(spec: str, *, max_tokens: int = 512) -> tuple[ScoreFn, Path | None]:
    """A sentence-transformers CrossEncoder as a ScoreFn, and its local folder (for GGUF export)."""
    from sentence_transformers import CrossEncoder

    path = Path(spec).expanduser()
    try:
        model = CrossEncoder(str(path) if path.exists() else spec, max_length=max_tokens)
    except OSError as exc:
        raise BastionError(f"cannot load reranker {spec!r} ({exc})",
                           hint="set [embed] reranker to a local cross-encoder folder, or remove it") from None

    def score(query: str, passages: list[str]) -> list[float]:
        return [float(x) for x in model.predict([(query, p) for p in passages], show_progress_bar=False)]

    return score, (path if path.exists() else None)
