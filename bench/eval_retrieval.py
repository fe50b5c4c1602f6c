"""Retrieval evaluation over the starter notes: dense vs lexical vs hybrid (vs hybrid+rerank).

    .venv/bin/python bench/eval_retrieval.py [--bundle DIR] [--questions FILE] [-k 5] [--json]
    .venv/bin/python bench/eval_retrieval.py --wstg --reranker GGUF [--split test|tune] [--bundle DIR] [--blend X]

--wstg: the WSTG question set (bench/eval_answers.py: its split, index and context-hit@4), same run:
dense+BM25 (naive RRF), the shipped retriever without a reranker, and with the cross-encoder reranking
its top 20; seconds per query each, and the ship gate's verdict (builder.rerank.rerank_gate).

Uses the bundle's own index when it has one; otherwise indexes app/knowledge/notes/
into a temporary knowledge base with the bundle's embedder first (not timed).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> int:
    from app.bundle import load_bundle
    from app.knowledge import KnowledgeBase, Retriever, ingest, open_bundle_index
    from app.knowledge.evaluate import evaluate, format_report, load_questions
    from app.knowledge.starter import notes_dir
    from app.runtime import make_embedder
    from app.settings import load_settings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", type=Path, default=None)
    ap.add_argument("--questions", type=Path, default=ROOT / "tests/data/retrieval_eval/questions.jsonl")
    ap.add_argument("-k", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--wstg", action="store_true", help="the WSTG set, with vs without --reranker")
    ap.add_argument("--reranker", type=Path, default=None, help="reranker GGUF (default: the bundle's)")
    ap.add_argument("--split", default="test", choices=["test", "tune", "all"])
    ap.add_argument("--blend", type=float, default=None, help="weight of the local order next to the cross-encoder")
    ap.add_argument("--show", action="store_true")
    args = ap.parse_args()
    if args.wstg:
        return wstg(args)

    settings = load_settings(**({"bundle": args.bundle} if args.bundle else {}))
    bundle = load_bundle(settings.bundle_path())
    emb = make_embedder(settings, bundle)
    questions = load_questions(args.questions)
    kb = open_bundle_index(bundle, fingerprint=emb.fingerprint)
    tmp = None
    if kb is None:
        tmp = tempfile.TemporaryDirectory(prefix="bastion-eval-")
        kb = KnowledgeBase(Path(tmp.name) / "kb", name="notes", fingerprint=emb.fingerprint)
        rep = ingest([notes_dir()], kb=kb, embedder=emb, base=notes_dir())
        print(f"(bundle has no index: indexed the notes first: {rep.summary()})", file=sys.stderr)
    retriever = Retriever([kb], embedder=emb, min_score=settings.retrieval.min_score or None)
    t0 = time.perf_counter()
    report = evaluate(retriever, questions, k=args.k)
    report["_meta"] = {"questions": len(questions), "chunks": kb.count(), "seconds": round(time.perf_counter() - t0, 1),
                       "bundle": str(bundle.root), "embedder": emb.fingerprint[:12],
                       "rerank": "not run: the bundle has no reranker" if not bundle.manifest.reranker
                       else "not run: reranker support is a hook only (Retriever(reranker=...))"}
    retriever.close()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        meta = report.pop("_meta")
        print(f"retrieval eval: {meta['questions']} questions over {meta['chunks']} chunks "
              f"(bundle {meta['bundle']}, embedder {meta['embedder']}), {meta['seconds']}s")
        print(format_report(report, k=args.k))
        print(f"hybrid+rerank: {meta['rerank']}")
    if tmp:
        tmp.cleanup()
    return 0


def wstg(args) -> int:
    import eval_answers as ea

    from app.knowledge import Retriever
    from app.knowledge import rerank as rr
    from app.knowledge.cross_encoder import GGUFReranker, bundle_reranker
    from builder.rerank import rerank_gate

    settings, bundle, emb = ea.open_bundle_parts(args.bundle)
    reranker = GGUFReranker(args.reranker) if args.reranker else bundle_reranker(bundle)
    if reranker is None:
        raise SystemExit("no reranker: pass --reranker GGUF or use a bundle that ships one")
    if args.blend is not None:
        rr.CROSS_BLEND = args.blend
    kb = ea.wstg_kb(emb, sync=False)
    have = ea.indexed_files(kb)
    questions = [q for q in ea.load_questions(args.split) if not q["files"] or set(q["files"]) & have]
    reranker("warm-up", ["warm-up"])
    report: dict = {}
    for name, kw in (("dense+bm25", {"expand": False, "second_stage": False}),
                     ("shipped", {}),
                     ("shipped+reranker", {"reranker": reranker})):
        r = Retriever([kb], embedder=emb, min_score=settings.retrieval.min_score or None, **kw)
        t0 = time.perf_counter()
        report[name] = ea.eval_retrieval(r, questions, show=args.show and name != "dense+bm25")
        report[name]["seconds_per_query"] = round((time.perf_counter() - t0) / max(len(questions), 1), 4)
    base = max(report["dense+bm25"]["context_hit@4"], report["shipped"]["context_hit@4"])
    gate = rerank_gate(base, report["shipped+reranker"]["context_hit@4"])
    report["_meta"] = {"split": args.split, "questions": len(questions), "reranker": str(reranker.path),
                       "blend": rr.CROSS_BLEND, "target_context_hit@4": 0.92,
                       "reranker_adds_seconds_per_query": round(report["shipped+reranker"]["seconds_per_query"]
                                                                - report["shipped"]["seconds_per_query"], 4),
                       "gate": gate.reason, "ship": gate.ship}
    kb.close()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    meta = report.pop("_meta")
    print(f"WSTG split={meta['split']} ({meta['questions']} questions), reranker {meta['reranker']} blend {meta['blend']}")
    for name, m in report.items():
        print(f"{name:<17} ctx@4 {m['context_hit@4']}  file@5 {m['file_hit@5']}  off-topic refused {m['refused']}/"
              f"{m['off_topic']}  ({m['questions']} answerable, {m['seconds_per_query']}s/query)")
    print(f"reranker adds {meta['reranker_adds_seconds_per_query']}s/query; gate: {meta['gate']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
