"""`builder index`: chunk the corpus with the app's own chunker and index it with the chosen embedder.

The corpus is copied into `<run>/index/corpus/` first, so the index's sources are short
relative paths ("notes/cwe-089-sql-injection.md") rather than this machine's absolute paths,
and the stage's fingerprint covers exactly the text that was indexed. Ingest, chunking and the
chroma store are the app's (`app.knowledge`): the laptop reads the index the way it was written.

Outputs in `<run>/index/`: index/ (chroma, stamped with the embedder fingerprint),
corpus/ (what was indexed), index_report.json.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Callable, Sequence

from app.atomic import write_text
from app.errors import BastionError
from builder.profiles import Profile, profile_config
from builder.rundir import RunDir, StageResult
from builder.stages.index.summary import IndexSummary

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
STAGE = "index"
# Document-like files only: instruction/conversation JSONL in --data is training data, not knowledge.
DOC_SUFFIXES = {".md", ".markdown", ".mdx", ".rst", ".txt", ".html", ".htm", ".pdf"}


def document_files(paths: Sequence[Path]) -> list[tuple[Path, str]]:
    """(file, relative name in the corpus copy) for the document-like files under `paths`."""
    from app.knowledge.loaders import iter_files

    out: list[tuple[Path, str]] = []
    used: set[str] = set()
    for p in map(Path, paths):
        if p.is_dir():
            top = p.resolve().name or "corpus"
            for f in iter_files(p.resolve()):
                if f.suffix.lower() in DOC_SUFFIXES:
                    out.append((f, f"{top}/{f.relative_to(p.resolve()).as_posix()}"))
        elif p.is_file() and p.suffix.lower() in DOC_SUFFIXES:
            out.append((p.resolve(), f"docs/{p.name}"))
        elif not p.exists():
            raise BastionError(f"corpus input not found: {p}", hint="check the --data path")
    deduped = []
    for f, rel in out:  # two inputs with the same folder name: keep both, renamed
        base, n = rel, 2
        while rel in used:
            rel = f"{Path(base).parent.as_posix()}-{n}/{Path(base).name}"
            n += 1
        used.add(rel)
        deduped.append((f, rel))
    return deduped


def copy_corpus(files: Sequence[tuple[Path, str]], dest: Path) -> None:
    shutil.rmtree(dest, ignore_errors=True)
    for src, rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)


def run_index(
    run: RunDir,
    profile: Profile,
    *,
    corpus: Sequence[Path] = (),
    force: bool = False,
    progress: Progress = lambda m: None,
    batch_size: int = 32,
) -> StageResult:
    """Index the corpus (default: the starter notes) with `<run>/embed/embedder.gguf`."""
    from app.bundle.hashing import sha256_file
    from app.knowledge.ingest import IngestProgress, ingest
    from app.knowledge.registry import BUNDLE_COLLECTION
    from app.knowledge.store import KnowledgeBase
    from app.llm.embedder import Embedder
    from builder.stages.embed.stage import default_corpus

    emb = run.require("embed", hint=f"run `builder embed --profile {profile.name} --run {run.root}` first")
    gguf = emb.path("embedder.gguf")
    from builder.stage_report import EmbedReport

    report_in = EmbedReport.load(emb.dir)
    corpus = list(corpus) or default_corpus()
    files = document_files(corpus)
    if not files:
        raise BastionError(f"no documents to index under {', '.join(map(str, corpus))}",
                           hint=f"pass Markdown/text/HTML/PDF files or folders with --data ({', '.join(sorted(DOC_SUFFIXES))})")
    max_tokens = report_in.max_tokens
    config = {"max_tokens": max_tokens, "batch_size": batch_size, "files": [rel for _, rel in files],
              "profile": profile_config(profile, STAGE)}
    st = run.stage(STAGE)
    inputs = [gguf, *(f for f, _ in files)]
    if not force and st.is_fresh(config=config, inputs=inputs):
        progress("index: unchanged embedder and corpus, skipped")
        return st.result(skipped=True)
    st.begin(config=config, inputs=inputs, resume=False)
    copy_corpus(files, st.dir / "corpus")
    fingerprint = sha256_file(gguf)
    embedder = Embedder(gguf, fingerprint=fingerprint, max_tokens=max_tokens, n_threads=os.cpu_count())
    dim = embedder.dim
    progress(f"index: {len(files)} document(s), embedder {fingerprint[:12]}… ({dim}-dim, {max_tokens} tokens)")
    last = [0.0]

    def tick(p: IngestProgress) -> None:
        now = time.perf_counter()
        if now - last[0] > 2.0 or p.files_done == p.files_total:
            last[0] = now
            progress(f"index: {p.files_done}/{p.files_total} files, {p.chunks} chunks ({p.chunks_per_s:.1f}/s)")

    kb = KnowledgeBase(st.dir / "index", name=BUNDLE_COLLECTION, fingerprint=fingerprint, dim=dim)
    try:
        rep = ingest([st.dir / "corpus"], kb=kb, embedder=embedder, base=st.dir / "corpus", progress=tick,
                     batch_size=batch_size)
        chunks = kb.count()
    finally:
        kb.close()
    if rep.cancelled:
        raise BastionError("indexing was interrupted", hint="run the index stage again; it starts over")
    for path, reason in rep.skipped:
        progress(f"index: skipped {path}: {reason}")
    report = {
        "chunks": chunks,
        "files": len(rep.added) + len(rep.updated) + len(rep.unchanged),
        "skipped": [{"path": p, "reason": r} for p, r in rep.skipped],
        "seconds": round(rep.seconds, 3),
        "embed_seconds": round(rep.embed_seconds, 3),
        "chunks_per_s": round(rep.chunks_per_s, 2),
        "kb_per_s": round(rep.kb_per_s, 2),
        "embedder_share": round(rep.embed_seconds / rep.seconds, 3) if rep.seconds else 0.0,
        "fingerprint": fingerprint,
        "dim": dim,
        "max_tokens": max_tokens,
        "embedder": report_in.chosen,
    }
    write_text(st.dir / "index_report.json", json.dumps(report, indent=2))
    progress(f"index: {chunks} chunks from {report['files']} files in {rep.seconds:.1f}s "
             f"({rep.chunks_per_s:.1f} chunks/s; {100 * report['embedder_share']:.0f}% of the time in the embedder)")
    summary = IndexSummary(**{k: report[k] for k in ("chunks", "files", "chunks_per_s", "embedder_share", "fingerprint")})
    return st.finish(outputs=["index", "corpus", "index_report.json"], summary=summary.to_dict())
