"""Knowledge benchmark: ingest throughput vs the raw embedder, and search latency at scale.

    .venv/bin/python bench/bench_knowledge.py [--bundle DIR] [--sizes 10000,100000] [--queries 60] [--json]

1. Ingest: the shipped notes are chunked once to get the exact chunk texts; the raw
   embedder embeds them (batches of 32, no loading/chunking/storage), then the real
   `ingest()` indexes the same files into a fresh on-disk chroma knowledge base.
   ratio = ingest chunks/s / raw embedder chunks/s (target >= 0.85). The raw pass
   runs before and after the ingest and is averaged, so machine noise hits both.
2. Search: synthetic knowledge bases of N chunks (Zipf-distributed words from the
   notes' vocabulary plus code identifiers; random unit vectors for the dense part,
   since embedding 100k chunks with MiniLM on a laptop CPU takes too long for a
   benchmark). Queries are real questions, embedded by the real embedder, run
   through the real `Retriever.search` (hybrid: chroma HNSW + BM25 + RRF + floor).
   Model load and index build are excluded and reported separately.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def bench_ingest(emb, notes: Path, work: Path, *, max_files: int | None) -> dict:
    from app.knowledge import KnowledgeBase, chunk_document, ingest, load_file
    from app.knowledge.chunking import ChunkOptions

    files = sorted(notes.glob("*.md"))[:max_files]
    src = work / "corpus"
    src.mkdir()
    for f in files:
        shutil.copy(f, src / f.name)
    opts = ChunkOptions(max_tokens=min(200, emb.max_tokens - 16), overlap_tokens=32)
    texts = [c.embed_text for f in sorted(src.iterdir()) for c in chunk_document(load_file(f), count_tokens=emb.count_tokens, options=opts)]

    def raw() -> float:
        t0 = time.perf_counter()
        for i in range(0, len(texts), 32):
            emb.embed(texts[i:i + 32])
        return time.perf_counter() - t0

    raw_before = raw()
    kb = KnowledgeBase(work / "kb", name="bench", fingerprint=emb.fingerprint)
    rep = ingest([src], kb=kb, embedder=emb)
    kb.close()
    raw_after = raw()
    raw_s = (raw_before + raw_after) / 2
    assert rep.chunks == len(texts), (rep.chunks, len(texts))
    raw_cps = len(texts) / raw_s
    return {
        "files": len(files), "chunks": rep.chunks, "kb": round(rep.bytes / 1024, 1),
        "ingest_s": round(rep.seconds, 2), "ingest_chunks_per_s": round(rep.chunks_per_s, 2),
        "ingest_kb_per_s": round(rep.kb_per_s, 2), "embed_share_of_ingest": round(rep.embed_seconds / rep.seconds, 3),
        "raw_embed_s": round(raw_s, 2), "raw_chunks_per_s": round(raw_cps, 2),
        "raw_runs_s": [round(raw_before, 2), round(raw_after, 2)],
        "ratio": round(rep.chunks_per_s / raw_cps, 3),
    }


def synthetic_kb(path: Path, n: int, vocab: list[str], dim: int, fingerprint: str, seed: int = 0):
    import numpy as np

    from app.knowledge import KnowledgeBase

    rng = np.random.default_rng(seed)
    kb = KnowledgeBase(path, name=f"synthetic-{n}", fingerprint=fingerprint, dim=dim)
    weights = 1.0 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()
    batch = 5000
    for start in range(0, n, batch):
        m = min(batch, n - start)
        vec = rng.standard_normal((m, dim)).astype("float32")
        vec /= np.linalg.norm(vec, axis=1, keepdims=True)
        words = rng.choice(len(vocab), size=(m, 60), p=weights)
        docs = [" ".join(vocab[w] for w in row) for row in words]
        ids = [f"s{start + i}" for i in range(m)]
        metas = [{"source": f"synthetic/doc{(start + i) // 8}.md", "heading": f"Section {(start + i) % 8}",
                  "start_line": 1 + ((start + i) % 8) * 10, "end_line": 10 + ((start + i) % 8) * 10,
                  "chunk": (start + i) % 8, "n_chunks": 8, "file_hash": "0" * 16, "chunk_hash": ""} for i in range(m)]
        kb.add(ids, vec, docs, metas)
    kb.bump_revision()
    return kb


def bench_search(emb, notes: Path, work: Path, sizes: list[int], queries: list[str]) -> dict:
    from app.knowledge import Retriever
    from app.knowledge.lexical import tokenize

    vocab_counts: dict[str, int] = {}
    for f in notes.glob("*.md"):
        for t in tokenize(f.read_text(encoding="utf-8")):
            vocab_counts[t] = vocab_counts.get(t, 0) + 1
    vocab = [w for w, _ in sorted(vocab_counts.items(), key=lambda kv: -kv[1])]
    vocab += [f"handler_{i}_{w}" for i, w in enumerate(vocab[:2000])]  # identifiers
    t0 = time.perf_counter()
    embed_lat, qvecs = [], {}
    for q in queries:
        t = time.perf_counter()
        qvecs[q] = emb.embed_one(q)
        embed_lat.append((time.perf_counter() - t) * 1000)
    out: dict = {"query_embed_ms_p50": round(statistics.median(embed_lat), 2)}
    for n in sizes:
        t = time.perf_counter()
        kb = synthetic_kb(work / f"syn{n}", n, vocab, emb.dim, emb.fingerprint)
        build_s = time.perf_counter() - t
        t = time.perf_counter()
        kb.lexical()
        lex_s = time.perf_counter() - t
        r = Retriever([kb], embedder=emb)
        r.search(queries[0], k=5)  # warm chroma's segment caches
        lat, idx_lat, dense_lat, lex_lat = [], [], [], []
        for q in queries:
            t = time.perf_counter()
            r.search(q, k=5)
            lat.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            r.search(q, k=5, query_vector=qvecs[q])
            idx_lat.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            r.search(q, k=5, mode="dense", query_vector=qvecs[q])
            dense_lat.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            r.search(q, k=5, mode="lexical")
            lex_lat.append((time.perf_counter() - t) * 1000)
        out[str(n)] = {"p50_ms": round(pct(lat, 50), 1), "p95_ms": round(pct(lat, 95), 1),
                       "index_p50_ms": round(pct(idx_lat, 50), 1), "index_p95_ms": round(pct(idx_lat, 95), 1),
                       "dense_p50_ms": round(pct(dense_lat, 50), 1), "lexical_p50_ms": round(pct(lex_lat, 50), 1),
                       "insert_s": round(build_s, 1), "lexical_build_s": round(lex_s, 1), "chunks": kb.count()}
        r.close()
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def main() -> int:
    from app.bundle import load_bundle
    from app.knowledge.starter import notes_dir
    from app.runtime import make_embedder
    from app.settings import load_settings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", type=Path, default=None)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=60)
    ap.add_argument("--max-files", type=int, default=None, help="Ingest only this many notes (quicker run).")
    ap.add_argument("--skip-ingest", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    settings = load_settings(**({"bundle": args.bundle} if args.bundle else {}))
    bundle = load_bundle(settings.bundle_path())
    emb = make_embedder(settings, bundle)
    t = time.perf_counter()
    emb.load()
    load_s = time.perf_counter() - t
    qfile = ROOT / "tests/data/retrieval_eval/questions.jsonl"
    questions = [json.loads(line)["question"] for line in qfile.read_text(encoding="utf-8").splitlines() if line.strip()]
    random.Random(0).shuffle(questions)
    result: dict = {"embedder_load_s": round(load_s, 2)}
    with tempfile.TemporaryDirectory(prefix="bastion-bench-") as tmp:
        work = Path(tmp)
        if not args.skip_ingest:
            (work / "ingest").mkdir()
            result["ingest"] = bench_ingest(emb, notes_dir(), work / "ingest", max_files=args.max_files)
        sizes = [int(s) for s in args.sizes.split(",") if s]
        result["search"] = bench_search(emb, notes_dir(), work, sizes, questions[: args.queries])
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    if "ingest" in result:
        i = result["ingest"]
        print(f"ingest: {i['files']} files, {i['chunks']} chunks, {i['kb']} KB in {i['ingest_s']}s = "
              f"{i['ingest_chunks_per_s']} chunks/s, {i['ingest_kb_per_s']} KB/s "
              f"(embedder busy {i['embed_share_of_ingest'] * 100:.0f}% of the time)")
        print(f"raw embedder on the same chunks: {i['raw_chunks_per_s']} chunks/s (runs {i['raw_runs_s']} s)")
        print(f"ratio ingest/raw: {i['ratio']}  (target >= 0.85)")
    s = result["search"]
    print(f"query embedding alone (MiniLM GGUF via llama.cpp): p50 {s['query_embed_ms_p50']} ms")
    for n in [k for k in s if k.isdigit()]:
        v = s[n]
        print(f"search @ {v['chunks']:>7} chunks: hybrid p50 {v['p50_ms']} ms, p95 {v['p95_ms']} ms end to end; "
              f"without the query embedding p50 {v['index_p50_ms']} ms, p95 {v['index_p95_ms']} ms "
              f"(dense-only p50 {v['dense_p50_ms']} ms, lexical-only p50 {v['lexical_p50_ms']} ms; "
              f"insert {v['insert_s']}s, BM25 build {v['lexical_build_s']}s, excluded)")
    print(f"(embedder load {result['embedder_load_s']}s excluded; dense vectors of the synthetic chunks are random unit vectors)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
