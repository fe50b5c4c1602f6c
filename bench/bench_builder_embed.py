"""Index build throughput vs the embedder's raw throughput, in the same run.

    .venv/bin/python bench/bench_builder_embed.py [--corpus DIR] [--gguf embedder.gguf] [--files N]

1. chunks the corpus with the app's chunker (same options the index stage uses) and embeds
   every chunk straight through the app's Embedder in batches: the raw embedder rate;
2. runs the builder's index stage path (app.knowledge.ingest into a fresh chroma index) on the
   same files: the pipeline rate (loading, chunking, embedding, storing);
3. prints both and their ratio (1.0 = the pipeline costs nothing beyond the embedder).
The embedder is all-MiniLM-L6-v2 converted to GGUF (as the index stage ships it) unless --gguf.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT / "app" / "knowledge" / "notes")
    ap.add_argument("--gguf", type=Path, default=None)
    ap.add_argument("--files", type=int, default=12, help="Use the first N files of the corpus (0 = all).")
    ap.add_argument("--max-tokens", type=int, default=256)
    args = ap.parse_args()

    from app.bundle.hashing import sha256_file
    from app.knowledge.chunking import ChunkOptions, chunk_document
    from app.knowledge.ingest import ingest
    from app.knowledge.loaders import iter_files, load_file
    from app.knowledge.registry import BUNDLE_COLLECTION
    from app.knowledge.store import KnowledgeBase
    from app.llm.embedder import Embedder
    from builder.stages.index.stage import DOC_SUFFIXES, copy_corpus

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ.setdefault("BASTION_HOME", str(tmp / "home"))
        gguf = args.gguf
        if gguf is None:
            from builder.sources import minilm_dir
            from builder.starter import export_embedder

            t = time.perf_counter()
            gguf = export_embedder(minilm_dir(), tmp / "embedder.gguf")
            print(f"converted all-MiniLM-L6-v2 to GGUF in {time.perf_counter() - t:.1f}s")
        files = [f for f in iter_files(args.corpus.resolve()) if f.suffix.lower() in DOC_SUFFIXES]
        files = files[: args.files] if args.files else files
        copy_corpus([(f, f.name) for f in files], tmp / "corpus")
        fp = sha256_file(gguf)
        emb = Embedder(gguf, fingerprint=fp, max_tokens=args.max_tokens, n_threads=os.cpu_count())
        emb.load()

        # 1. raw embedder throughput on exactly the chunks the index will hold
        opts = ChunkOptions(max_tokens=min(200, emb.max_tokens - 16), overlap_tokens=32)
        texts = [c.embed_text for f in sorted((tmp / "corpus").iterdir())
                 for c in chunk_document(load_file(f), count_tokens=emb.count_tokens, options=opts)]
        emb.embed(texts[:4])  # warm-up
        t = time.perf_counter()
        for i in range(0, len(texts), 32):
            emb.embed(texts[i:i + 32])
        raw_s = time.perf_counter() - t
        raw = len(texts) / raw_s

        # 2. the index stage's path: ingest into a fresh chroma index
        kb = KnowledgeBase(tmp / "index", name=BUNDLE_COLLECTION, fingerprint=fp, dim=emb.dim)
        try:
            rep = ingest([tmp / "corpus"], kb=kb, embedder=emb, base=tmp / "corpus")
            stored = kb.count()
        finally:
            kb.close()
        print(f"corpus: {len(files)} files, {len(texts)} chunks (index holds {stored}); {os.cpu_count()} CPU(s)")
        print(f"raw embedder      : {raw:8.2f} chunks/s  ({raw_s:.1f}s)")
        print(f"index build       : {rep.chunks_per_s:8.2f} chunks/s  ({rep.seconds:.1f}s, {rep.embed_seconds:.1f}s in the embedder)")
        print(f"ratio index / raw : {rep.chunks_per_s / raw:8.3f}")


if __name__ == "__main__":
    main()
