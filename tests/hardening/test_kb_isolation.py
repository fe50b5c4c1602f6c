"""One corrupt knowledge base is reported and skipped; the others work; `kb remove` removes it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.knowledge.registry import list_knowledge_bases, open_knowledge, remove_knowledge_base
from app.knowledge.store import KnowledgeBase, knowledge_dir

FP = "e" * 64


def _kb(name: str, docs: dict[str, str]) -> None:
    kb = KnowledgeBase.open_user(name, fingerprint=FP, dim=2)
    ids = [f"{name}-{i}" for i in range(len(docs))]
    kb.add(ids, [[1.0, float(i)] for i in range(len(docs))], list(docs.values()),
           [{"source": s, "heading": "", "start_line": 1, "end_line": 1, "file_hash": "h", "chunk": i, "chunks": len(docs)}
            for i, s in enumerate(docs)])
    kb.bump_revision()
    kb.close()


@pytest.fixture
def two_kbs():
    _kb("good", {"a.md": "sql injection is bad"})
    _kb("broken", {"b.md": "xss"})
    db = knowledge_dir() / "broken" / "chroma.sqlite3"
    db.write_bytes(b"this is not a database" * 100)
    return SimpleNamespace(retrieval=SimpleNamespace(use_bundle_index=False, knowledge_bases=[], chroma_url=None))


def test_corrupt_kb_is_listed_skipped_and_removable(two_kbs):
    infos = {i.name: i for i in list_knowledge_bases()}
    assert infos["good"].error is None and infos["good"].chunks == 1
    assert infos["broken"].error and "unreadable" in infos["broken"].error
    kbs, warnings = open_knowledge(two_kbs, None, SimpleNamespace(fingerprint=FP))
    try:
        assert [kb.name for kb in kbs] == ["good"]
        assert any("broken" in w for w in warnings)
    finally:
        for kb in kbs:
            kb.close()
    remove_knowledge_base("broken")
    assert not (knowledge_dir() / "broken").exists()
    assert [i.name for i in list_knowledge_bases()] == ["good"]


def test_lexical_index_cannot_go_stale_after_a_crash_before_the_revision_bump():
    _kb("lex", {"a.md": "alpha words here"})
    kb = KnowledgeBase.open_user("lex", fingerprint=FP, create=False)
    assert kb.lexical().search("alpha", k=1)
    # a crash between the chunk write and bump_revision(): same count, same revision, new content
    kb.collection.delete(ids=["lex-0"])
    kb.add(["lex-9"], [[1.0, 0.0]], ["omega content"],
           [{"source": "a.md", "heading": "", "start_line": 1, "end_line": 1, "file_hash": "h2", "chunk": 0, "chunks": 1}])
    kb.close()
    again = KnowledgeBase.open_user("lex", fingerprint=FP, create=False)  # the next process
    try:
        hits = again.lexical().search("omega", k=1)
        assert hits, "BM25 still served the index of the old chunks"
    finally:
        again.close()
