"""Incremental ingest: add new files, re-embed changed ones, remove deleted ones.

Files are compared by the sha256 of their bytes against what the knowledge base
holds, so ingesting the same folder twice embeds nothing. Three stages overlap:
a reader thread reads, hashes, parses and chunks the next files; the calling
thread embeds full batches; a writer thread stores the previous batch in chroma.
llama.cpp releases the GIL while it decodes, so the Python work of reading and
chunking runs in the embedder's shadow instead of between its batches; the
reader's queue is bounded, so a large corpus never sits in memory at once. A
changed file's new chunks
are written before its old ones are deleted; a file counts as done only once all
its chunks are stored, so an interrupted ingest (cancel, Ctrl-C, crash) resumes
where it stopped without redoing finished files.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from app.knowledge.chunking import Chunk, ChunkOptions, chunk_document, drop_repeats
from app.knowledge.loaders import Skip, iter_files, load_file
from app.knowledge.store import KnowledgeBase, chunk_id

log = logging.getLogger(__name__)

BATCH = 32
READ_AHEAD = 8
"""Files the reader thread may have prepared ahead of the embedder (bounds memory)."""


@dataclass
class IngestProgress:
    """Passed to the progress callback after every batch and every skipped file."""

    files_done: int
    files_total: int
    chunks: int
    chunks_per_s: float
    current: str = ""


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(path, reason) for every file not ingested."""
    repeats: list[tuple[str, int]] = field(default_factory=list)
    """(path, n) for files whose n repeated chunks were indexed once (`chunking.drop_repeats`)."""
    chunks: int = 0
    """Chunks embedded and stored by this run."""
    bytes: int = 0
    """Bytes of chunk text embedded by this run."""
    seconds: float = 0.0
    embed_seconds: float = 0.0
    """Time spent inside the embedder (the rest is loading, chunking, storing)."""
    cancelled: bool = False
    kb: str = ""

    @property
    def chunks_per_s(self) -> float:
        return self.chunks / self.seconds if self.seconds > 0 else 0.0

    @property
    def kb_per_s(self) -> float:
        return self.bytes / 1024 / self.seconds if self.seconds > 0 else 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["skipped"] = [{"path": p, "reason": r} for p, r in self.skipped]
        d.update(chunks_per_s=round(self.chunks_per_s, 2), kb_per_s=round(self.kb_per_s, 2))
        return d

    def summary(self) -> str:
        s = (f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
             f"{len(self.unchanged)} unchanged, {len(self.skipped)} skipped; {self.chunks} chunks in "
             f"{self.seconds:.1f}s ({self.chunks_per_s:.1f} chunks/s)")
        return s + (" — interrupted; run again to resume" if self.cancelled else "")


@dataclass
class _Prepared:
    """One file as the reader thread left it: unchanged, skipped (with why), or chunked."""

    source: str
    kind: str  # unchanged | skipped | unreadable | chunks
    file_hash: str = ""
    reason: str = ""
    chunks: list[Chunk] = field(default_factory=list)
    repeats: int = 0


@dataclass
class _Pending:
    source: str
    file_hash: str
    status: str  # added | updated
    left: int
    total: int


def ingest(
    paths: Iterable[Path | str],
    *,
    kb: KnowledgeBase,
    embedder,
    progress: Callable[[IngestProgress], None] | None = None,
    cancel: threading.Event | None = None,
    base: Path | None = None,
    options: ChunkOptions | None = None,
    batch_size: int = BATCH,
    max_file_bytes: int | None = None,
    follow_links: bool = False,
) -> IngestReport:
    """Sync `paths` (files or folders) into `kb`; returns what changed.

    Sources are stored as absolute paths, or relative to `base` when given (the
    builder indexes its corpus relative to the corpus folder). Files that were
    ingested from under one of `paths` and no longer exist are removed. Files larger
    than `max_file_bytes` are skipped (None: the loaders' limits, 10 MB text, 100 MB PDF).
    """
    t0 = time.perf_counter()
    cancel = cancel or threading.Event()
    opts = options or ChunkOptions(max_tokens=min(200, embedder.max_tokens - 16), overlap_tokens=32)
    report = IngestReport(kb=kb.name)
    roots = [Path(p).expanduser().resolve() for p in paths]
    base = Path(base).resolve() if base else None

    def source_of(path: Path) -> str:
        return path.relative_to(base).as_posix() if base else str(path)

    def abs_of(source: str) -> Path:
        return base / source if base else Path(source)

    files: list[Path] = []
    for root in roots:
        if not root.exists():
            report.skipped.append((str(root), "does not exist"))
            continue
        files.extend(iter_files(root, follow_links=follow_links))  # links out of the tree only when asked
    files = list(dict.fromkeys(files))
    states = kb.file_states()
    seen = {source_of(f) for f in files}

    # Deleted files: known sources under a given root that are gone.
    for source, st in states.items():
        p = abs_of(source)
        if source not in seen and any(p == r or r in p.parents for r in roots) and not p.exists():
            kb.delete_source(source)
            report.removed.append(source)

    pending: dict[str, _Pending] = {}
    batch: list[tuple[str, Chunk]] = []
    done = [0]
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-writer")
    last: Future | None = None
    total = len(files)

    def tick(current: str = "") -> None:
        if progress:
            el = time.perf_counter() - t0
            progress(IngestProgress(done[0], total, report.chunks, report.chunks / el if el > 0 else 0.0, current))

    def write(items: list[tuple[str, Chunk]], vectors) -> None:
        ids, docs, metas = [], [], []
        for source, c in items:
            p = pending[source]
            ids.append(chunk_id(source, p.file_hash, c.index))
            docs.append(c.text)
            metas.append({"source": source, "heading": c.heading, "start_line": c.start_line, "end_line": c.end_line,
                          "chunk": c.index, "n_chunks": p.total, "file_hash": p.file_hash, "chunk_hash": c.hash})
        kb.add(ids, vectors, docs, metas)
        for source, _ in items:
            p = pending[source]
            p.left -= 1
            if p.left == 0:
                kb.collection.delete(where={"$and": [{"source": source}, {"file_hash": {"$ne": p.file_hash}}]})
                getattr(report, p.status).append(source)
                done[0] += 1

    def flush() -> None:
        nonlocal batch, last
        if not batch:
            return
        items, batch = batch, []
        te = time.perf_counter()
        texts = [c.embed_text for _, c in items]
        unique = list(dict.fromkeys(texts))  # boilerplate shared by files is embedded once
        by_text = dict(zip(unique, embedder.embed(unique)))
        vectors = [by_text[t] for t in texts]
        report.embed_seconds += time.perf_counter() - te
        report.chunks += len(items)
        report.bytes += sum(len(c.text.encode("utf-8")) for _, c in items)
        if last is not None:
            last.result()  # at most one write in flight; surfaces its errors here
        last = writer.submit(write, items, vectors)
        tick(items[-1][0])

    def prepare(path: Path) -> _Prepared:
        """Everything a file needs before embedding; touches no database (chroma stays on one thread)."""
        source = source_of(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            return _Prepared(source, "unreadable", reason=f"cannot read: {exc.strerror or exc}")
        file_hash = hashlib.sha256(data).hexdigest()
        st = states.get(source)
        if st and st.file_hash == file_hash and st.complete:
            return _Prepared(source, "unchanged", file_hash)
        try:
            doc = load_file(path, max_bytes=max_file_bytes)
        except Skip as exc:
            return _Prepared(source, "skipped", file_hash, reason=str(exc))
        chunks, repeats = drop_repeats(chunk_document(doc, count_tokens=embedder.count_tokens, options=opts))
        return _Prepared(source, "chunks", file_hash, chunks=chunks, repeats=repeats)

    ready: queue.Queue = queue.Queue(maxsize=READ_AHEAD)
    stop_reading = threading.Event()
    _END = object()

    def offer(item: object) -> None:
        while not stop_reading.is_set():  # the calling thread stopped taking: drop it
            try:
                ready.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def reader() -> None:
        try:
            for path in files:
                if cancel.is_set() or stop_reading.is_set():
                    break
                offer(prepare(path))
        except BaseException as exc:  # handed to the calling thread, which raises it
            offer(exc)
            return
        offer(_END)

    reading = threading.Thread(target=reader, name="kb-reader", daemon=True)
    reading.start()
    try:
        while True:
            item = ready.get()
            if item is _END:
                break
            if isinstance(item, BaseException):
                raise item
            if cancel.is_set():
                break
            source = item.source
            st = states.get(source)
            if item.kind == "unreadable":
                report.skipped.append((source, item.reason))
                done[0] += 1
                continue
            if item.kind == "unchanged":
                report.unchanged.append(source)
                done[0] += 1
                continue
            if item.kind == "skipped":
                report.skipped.append((source, item.reason))
                if st:
                    kb.delete_source(source)  # stale chunks of a file that no longer loads
                done[0] += 1
                tick(source)
                continue
            chunks = item.chunks
            if item.repeats:
                report.repeats.append((source, item.repeats))
            if not chunks:
                report.skipped.append((source, "no text"))
                done[0] += 1
                continue
            p = _Pending(source, item.file_hash, "updated" if st else "added", len(chunks), len(chunks))
            pending[source] = p
            for c in chunks:
                batch.append((source, c))
                if len(batch) >= batch_size:
                    if cancel.is_set():
                        break
                    flush()
        if not cancel.is_set():
            flush()
        if last is not None:
            last.result()
    except KeyboardInterrupt:
        cancel.set()
        raise
    finally:
        stop_reading.set()
        reading.join()
        writer.shutdown(wait=True)
        report.cancelled = cancel.is_set()
        if report.changed or report.chunks:
            kb.bump_revision()
        report.seconds = time.perf_counter() - t0
    tick()
    return report
