"""Knowledge: local RAG with hybrid retrieval and trustworthy citations.

No UI here; the CLI (`app/cli/knowledge_cmd.py`), `app.ask` and the TUI call this API.

Public API
----------
KnowledgeBase(path, *, name, fingerprint, dim=None, url=None, create=True)
    One chroma collection on disk (or on a Chroma server with `url`), stamped with the
    embedder fingerprint; opening it with another embedder raises `BastionError`.
    `KnowledgeBase.open_user(name, *, fingerprint, create=True, url=None)` opens a user KB
    under BASTION_HOME/knowledge/<name>. `.count()`, `.close()`, context manager.
ingest(paths, *, kb, embedder, progress=None, cancel=None, base=None, options=None) -> IngestReport
    Incremental sync of files/folders: added / updated / removed / unchanged / skipped
    [(path, reason)], chunks, bytes, seconds, chunks_per_s, kb_per_s, cancelled, summary().
    `progress(IngestProgress)` gets files_done, files_total, chunks, chunks_per_s, current.
    `cancel` is a threading.Event; a cancelled or killed ingest resumes on the next call.
Retriever(kbs, *, embedder, min_score=None, reranker=None)
    `.search(query, *, k=5, mode="hybrid"|"dense"|"lexical") -> list[Hit]`; a Hit has
    text, source, heading, start_line, end_line, lines, score (fused, 0..1), dense (cosine),
    lexical (BM25), found_by ("dense", "lexical"), kb, flags, label(), as_dict().
GroundedChat.open(settings, bundle, *, engine, embedder=None, kbs=None, use_knowledge=True)
    The one answering service the front ends use: `.reply(question, history, max_tokens=, temperature=,
    cancel=) -> Answer` (plain when there is no index), or `.retrieve()` then `.start()` on two threads;
    `Answer.source_list()` gives typed `app.source.Source`s.
answer(question, *, engine, retriever, system, history=None, max_tokens=None, cancel=None, k=5) -> Answer
    Iterate the Answer for streamed text pieces; afterwards `.text`, `.sources` (only the
    hits cited as [n]), `.hits` (all numbered sources given to the model), `.stats`
    (GenStats), `.query` (what was searched), `.cancel()`. With nothing relevant it
    yields a fixed "nothing relevant found" text and never calls the model.
list_knowledge_bases(*, url=None) -> list[KnowledgeBaseInfo]   (name, location, chunks, files, embedder)
remove_knowledge_base(name, *, url=None)
open_knowledge(settings, bundle, embedder, *, names=None, use_bundle=None) -> (kbs, warnings)
    The bundle index (a private cached copy; the bundle dir is never written) plus the
    user's knowledge bases per settings; ready for `Retriever(kbs, embedder=...)`.
chunk_document(doc, *, count_tokens, options) / load_file(path) / ChunkOptions
    The loaders and chunker, shared with the builder.
make_client(path, *, url=None)   (app.knowledge.client) the one place a chroma client is made.
"""

from app.knowledge.answer import NO_SOURCES, Answer
from app.knowledge.chunking import Chunk, ChunkOptions, chunk_document
from app.knowledge.ingest import IngestProgress, IngestReport, ingest
from app.knowledge.grounded_chat import GroundedChat, answer, open_retriever
from app.knowledge.loaders import Document, Skip, load_file
from app.knowledge.registry import (
    KnowledgeBaseInfo,
    list_knowledge_bases,
    open_bundle_index,
    open_knowledge,
    remove_knowledge_base,
)
from app.knowledge.retrieval import Hit, Retriever
from app.knowledge.store import KnowledgeBase

__all__ = [
    "NO_SOURCES",
    "Answer",
    "Chunk",
    "ChunkOptions",
    "Document",
    "GroundedChat",
    "Hit",
    "IngestProgress",
    "IngestReport",
    "KnowledgeBase",
    "KnowledgeBaseInfo",
    "Retriever",
    "Skip",
    "answer",
    "chunk_document",
    "ingest",
    "list_knowledge_bases",
    "load_file",
    "open_bundle_index",
    "open_knowledge",
    "open_retriever",
    "remove_knowledge_base",
]
