"""Index the security notes shipped in app/knowledge/notes/ into a starter bundle."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable

from app.errors import BundleError
from app.knowledge.ingest import IngestProgress, ingest
from app.knowledge.registry import BUNDLE_COLLECTION
from app.knowledge.store import KnowledgeBase

log = logging.getLogger(__name__)

NOTES_DIR = Path(__file__).resolve().parent / "notes"


def notes_dir() -> Path:
    """The project's own security notes (Markdown), indexed into the starter bundle."""
    return NOTES_DIR


def build_starter_index(stage: Path, manifest, progress: Callable[[str], None] = lambda msg: None,
                        *, notes: Path | None = None) -> dict:
    """Index `notes` (default: the shipped notes) into `stage/index` with the stage's embedder.

    Returns stats for the manifest's metrics: chunks, files, seconds, chunks_per_s.
    """
    from app.llm.embedder import Embedder

    spec = manifest.embedder
    if spec is None:
        raise BundleError("the starter manifest has no embedder; cannot build its index")
    src = Path(notes) if notes else notes_dir()
    if not src.is_dir() or not any(src.glob("*.md")):
        raise BundleError(f"no notes to index in {src}", hint="restore app/knowledge/notes/ from the source tree")
    embedder = Embedder(Path(stage) / spec.path, fingerprint=spec.fingerprint, max_tokens=spec.max_tokens,
                        normalize=spec.normalize)
    t0 = time.perf_counter()
    last = [0.0]

    def report(p: IngestProgress) -> None:
        now = time.perf_counter()
        if now - last[0] > 2.0 or p.files_done == p.files_total:
            last[0] = now
            progress(f"  indexed {p.files_done}/{p.files_total} notes, {p.chunks} chunks ({p.chunks_per_s:.0f}/s)")

    kb = KnowledgeBase(Path(stage) / "index", name=BUNDLE_COLLECTION, fingerprint=spec.fingerprint, dim=spec.dim)
    try:
        rep = ingest([src], kb=kb, embedder=embedder, base=src, progress=report)
        chunks = kb.count()
    finally:
        kb.close()
    if rep.skipped:
        log.warning("starter notes skipped: %s", rep.skipped)
    seconds = time.perf_counter() - t0
    return {
        "chunks": chunks,
        "files": len(rep.added) + len(rep.updated) + len(rep.unchanged),
        "skipped": len(rep.skipped),
        "seconds": round(seconds, 2),
        "chunks_per_s": round(chunks / seconds, 1) if seconds > 0 else 0.0,
    }
