"""A knowledge base: one chroma collection on disk, stamped with the embedder that filled it.

Each chunk is stored with its embedding (computed by the bundle's embedder through
llama.cpp, never by chroma), its text, and metadata: source, heading, start_line,
end_line, chunk, n_chunks, file_hash. A file counts as ingested only when all
`n_chunks` chunks for its current `file_hash` are present, which is what lets an
interrupted ingest resume without redoing finished files.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from app import paths
from app.errors import BastionError
from app.knowledge.client import close_client, make_client
from app.knowledge.lexical import BM25Index

log = logging.getLogger(__name__)

FORMAT = 1
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$")
_PAGE = 2000


@dataclass
class FileState:
    """What the index holds for one source file."""

    source: str
    file_hash: str
    n_chunks: int
    stored: int

    @property
    def complete(self) -> bool:
        return self.stored == self.n_chunks


def knowledge_dir() -> Path:
    """Where user knowledge bases live: BASTION_HOME/knowledge/<name>/."""
    return paths.home() / "knowledge"


def check_name(name: str) -> str:
    if not NAME_RE.match(name or ""):
        raise BastionError(
            f"invalid knowledge base name {name!r}",
            hint="use 3-63 characters: letters, digits, '.', '_' or '-', starting and ending with a letter or digit",
        )
    return name


def chunk_id(source: str, file_hash: str, index: int) -> str:
    return f"{hashlib.sha1(source.encode('utf-8')).hexdigest()[:16]}-{file_hash[:12]}-{index}"


class KnowledgeBase:
    """One knowledge base (a chroma collection) opened for one embedder.

    `fingerprint` is the embedder's fingerprint: a new collection records it, an
    existing one must match it or `BastionError` is raised (vectors from another
    model would be meaningless). `path` is the chroma directory; with `url`
    (team mode) the collection lives on that Chroma server instead.
    """

    def __init__(self, path: Path, *, name: str, fingerprint: str, dim: int | None = None,
                 url: str | None = None, create: bool = True) -> None:
        self.path = Path(path)
        self.name = check_name(name)
        self.fingerprint = fingerprint
        self.url = url
        self._client = make_client(self.path, url=url)
        self._lexical: tuple[str, BM25Index] | None = None
        try:
            self.collection = self._open(create=create, dim=dim)
        except BaseException:
            close_client(self._client)
            raise

    @classmethod
    def open_user(cls, name: str, *, fingerprint: str, dim: int | None = None, create: bool = True,
                  url: str | None = None) -> "KnowledgeBase":
        """A user knowledge base under BASTION_HOME/knowledge (or on the team server)."""
        check_name(name)
        path = knowledge_dir() / name
        if not create and not url and not path.is_dir():
            raise BastionError(f"no knowledge base named {name!r}", hint="see `bastion kb list`, or create it with `bastion ingest PATH --kb NAME`")
        return cls(path, name=name, fingerprint=fingerprint, dim=dim, url=url, create=create)

    def _open(self, *, create: bool, dim: int | None):
        where = self.url or str(self.path)
        existing = {c.name if hasattr(c, "name") else str(c) for c in self._client.list_collections()}
        if self.name not in existing:
            if not create:
                raise BastionError(f"knowledge base {self.name!r} not found at {where}", hint="ingest documents into it first")
            meta = {"embedder": self.fingerprint, "format": FORMAT, "revision": 0, "hnsw:space": "cosine"}
            if dim:
                meta["dim"] = dim
            return self._client.create_collection(self.name, embedding_function=None, metadata=meta)
        col = self._client.get_collection(self.name, embedding_function=None)
        meta = col.metadata or {}
        stored = meta.get("embedder")
        if stored != self.fingerprint:
            raise BastionError(
                f"knowledge base {self.name!r} at {where} was built with embedder {str(stored)[:12]}…, "
                f"but the bundle's embedder is {self.fingerprint[:12]}…; its vectors cannot be compared",
                hint=f"rebuild it with this bundle: `bastion kb remove {self.name}` then `bastion ingest PATH --kb {self.name}`",
            )
        return col

    # -- facts ----------------------------------------------------------------------
    def count(self) -> int:
        return int(self.collection.count())

    @property
    def revision(self) -> int:
        meta = self._client.get_collection(self.name, embedding_function=None).metadata or {}
        return int(meta.get("revision", 0))

    def bump_revision(self) -> None:
        meta = dict(self._client.get_collection(self.name, embedding_function=None).metadata or {})
        meta = {k: v for k, v in meta.items() if not k.startswith("hnsw:")}
        meta["revision"] = int(meta.get("revision", 0)) + 1
        self.collection.modify(metadata=meta)
        self._lexical = None

    def file_states(self) -> dict[str, FileState]:
        """Per source file: the hash(es) stored and whether all chunks are present."""
        by_source: dict[str, dict[str, FileState]] = {}
        for _, meta, _ in self._scan(include=["metadatas"]):
            hashes = by_source.setdefault(meta["source"], {})
            st = hashes.get(meta["file_hash"])
            if st is None:
                st = hashes[meta["file_hash"]] = FileState(meta["source"], meta["file_hash"], int(meta["n_chunks"]), 0)
            st.stored += 1
        out: dict[str, FileState] = {}
        for source, hashes in by_source.items():
            st = next(iter(hashes.values()))
            if len(hashes) > 1:  # interrupted while replacing a file: redo it
                st = FileState(source, st.file_hash, st.n_chunks, -1)
            out[source] = st
        return out

    def _scan(self, *, include: list[str]):
        offset = 0
        while True:
            got = self.collection.get(include=include, limit=_PAGE, offset=offset)
            ids = got["ids"]
            if not ids:
                return
            docs = got.get("documents") or [None] * len(ids)
            metas = got.get("metadatas") or [None] * len(ids)
            yield from zip(ids, metas, docs)
            offset += len(ids)

    # -- writes ---------------------------------------------------------------------
    def add(self, ids: Sequence[str], embeddings, documents: Sequence[str], metadatas: Sequence[dict]) -> None:
        self.collection.upsert(ids=list(ids), embeddings=embeddings, documents=list(documents), metadatas=list(metadatas))

    def delete_source(self, source: str) -> None:
        self.collection.delete(where={"source": source})

    # -- reads ----------------------------------------------------------------------
    def dense(self, vector: Sequence[float], n: int) -> list[tuple[str, float, str, dict]]:
        """Nearest chunks: (id, cosine similarity, text, metadata), best first."""
        total = self.count()
        if total == 0:
            return []
        res = self.collection.query(query_embeddings=[list(vector)], n_results=min(n, total),
                                    include=["documents", "metadatas", "distances"])
        return [(i, 1.0 - float(d), doc, meta) for i, d, doc, meta in
                zip(res["ids"][0], res["distances"][0], res["documents"][0], res["metadatas"][0])]

    def fetch(self, ids: Sequence[str]) -> dict[str, tuple[str, dict, list[float]]]:
        """Text, metadata and embedding for chunk ids."""
        if not ids:
            return {}
        got = self.collection.get(ids=list(ids), include=["documents", "metadatas", "embeddings"])
        return {i: (doc, meta, emb) for i, doc, meta, emb in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])}

    def lexical(self) -> BM25Index:
        """The BM25 index over this collection's chunks (built once per revision, cached on disk)."""
        quick = f"{self.collection.id}:{self.revision}:{self.count()}"
        if self._lexical and self._lexical[0] == quick:
            return self._lexical[1]
        # The on-disk index is keyed by the chunk ids themselves (they carry each file's hash), which are
        # written in the same transaction as the chunks: a crash before the revision bump cannot leave
        # an old index that still looks current.
        key = f"{self.collection.id}:{self._ids_digest()}"
        where = (self.url or str(self.path.resolve())) + "\0" + self.name
        stem = paths.cache_dir() / "lexical" / hashlib.sha1(where.encode("utf-8")).hexdigest()[:20]
        index = BM25Index.load(stem, revision=key)
        if index is None:
            ids: list[str] = []
            texts: list[str] = []
            for i, meta, doc in self._scan(include=["documents", "metadatas"]):
                ids.append(i)
                texts.append(lexical_text(doc or "", meta or {}))
            index = BM25Index.build(ids, texts)
            try:
                index.save(stem, revision=key)
            except OSError as exc:  # a read-only cache only costs a rebuild next time
                log.debug("could not cache the lexical index: %s", exc)
        self._lexical = (quick, index)
        return index

    def _ids_digest(self) -> str:
        h = hashlib.sha256()
        for i in sorted(i for i, _, _ in self._scan(include=[])):
            h.update(i.encode("utf-8") + b"\0")
        return h.hexdigest()[:24]

    def close(self) -> None:
        close_client(self._client)

    def __enter__(self) -> "KnowledgeBase":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def lexical_text(doc: str, meta: dict) -> str:
    """What BM25 indexes for a chunk: file name, heading path, body."""
    name = Path(str(meta.get("source", ""))).stem.replace("-", " ").replace("_", " ")
    return f"{name}\n{meta.get('heading', '')}\n{doc}"
