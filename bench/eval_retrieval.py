"""Retrieval evaluation over the starter notes: dense vs lexical vs hybrid (vs hybrid+rerank).

    .venv/bin/python bench/eval_retrieval.py [--bundle DIR] [--questions FILE] [-k 5] [--json]

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
    args = ap.parse_args()

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


if __name__ == "__main__":
    sys.exit(main())
