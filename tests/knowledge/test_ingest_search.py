"""Ingest -> search on a real chromadb on disk with real MiniLM (GGUF) embeddings."""

from __future__ import annotations

import threading

import pytest

from app.errors import BastionError
from app.knowledge import KnowledgeBase, Retriever, ingest
from tests.knowledge.conftest import write_docs
from tests.knowledge.test_text_processing import make_pdf

pytestmark = pytest.mark.slow


def test_ingest_search_resync(tmp_path, new_kb, kb_embedder):
    docs = write_docs(tmp_path / "docs")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\nnot a pdf at all")
    (docs / "blob.txt").write_bytes(b"\x00\x01binary\x00")
    (docs / "guide.pdf").write_bytes(make_pdf(["Server-side request forgery", "Block internal addresses"]))

    first = ingest([docs], kb=new_kb, embedder=kb_embedder)
    assert sorted(p.rsplit("/", 1)[1] for p in first.added) == ["deserialize.py", "guide.pdf", "sqli.md", "xss.md", "zh-ssrf.md"]
    reasons = {p.rsplit("/", 1)[1]: r for p, r in first.skipped}
    assert "corrupt or unreadable PDF" in reasons["broken.pdf"] and "binary" in reasons["blob.txt"]
    assert first.chunks == new_kb.count() > 5 and first.chunks_per_s > 0

    r = Retriever([new_kb], embedder=kb_embedder)
    top = r.search("how do I stop SQL injection with parameterized queries", k=3)
    assert top and top[0].source.endswith("sqli.md") and {"dense", "lexical"} <= set(top[0].found_by)
    assert top[0].heading.startswith("SQL injection") and top[0].start_line >= 1
    code = r.search("pickle.loads on untrusted data", k=2)
    assert code[0].source.endswith("deserialize.py") and "load_session" in code[0].heading
    assert r.search("sourdough bread baking recipe", k=3) == []  # relevance floor: nothing to cite
    assert r.search("Server-side request forgery", k=5)

    # Same folder again: no embedding work at all.
    again = ingest([docs], kb=new_kb, embedder=kb_embedder)
    assert again.chunks == 0 and not again.changed and len(again.unchanged) == 5

    # Edit one file, delete another: only those are touched.
    (docs / "xss.md").write_text("# Cross-site scripting\n\nStored XSS keeps the payload in the database.\n")
    (docs / "sqli.md").unlink()
    before = new_kb.count()
    sync = ingest([docs], kb=new_kb, embedder=kb_embedder)
    assert [p.rsplit("/", 1)[1] for p in sync.updated] == ["xss.md"]
    assert [p.rsplit("/", 1)[1] for p in sync.removed] == ["sqli.md"]
    assert sync.chunks == 1 and len(sync.unchanged) == 3
    assert new_kb.count() < before
    assert not any(h.source.endswith("sqli.md") for h in r.search("SQL injection parameterized", k=5, floor=False))
    stored = r.search("stored XSS payload database", k=1)
    assert "Stored XSS" in stored[0].text  # the edited text, not the old version
    assert not any("Reflected XSS" in h.text for h in r.search("reflected XSS escaping", k=5, floor=False))


def test_cjk_document_retrieval(tmp_path, new_kb, kb_embedder):
    docs = write_docs(tmp_path / "docs")
    ingest([docs], kb=new_kb, embedder=kb_embedder)
    r = Retriever([new_kb], embedder=kb_embedder)
    hits = r.search("如何防止服务端请求伪造", k=3)
    assert hits and hits[0].source.endswith("zh-ssrf.md")
    assert "lexical" in hits[0].found_by and hits[0].heading == "服务端请求伪造"
    assert r.search("内网地址白名单", k=1)[0].source.endswith("zh-ssrf.md")


def test_embedder_mismatch_is_refused(tmp_path, new_kb, kb_embedder):
    write_docs(tmp_path / "docs", {"a.md": "# A\n\nSome text about tokens.\n"})
    ingest([tmp_path / "docs"], kb=new_kb, embedder=kb_embedder)
    new_kb.close()
    with pytest.raises(BastionError, match="built with embedder 7e01|built with embedder") as exc:
        KnowledgeBase(tmp_path / "kb", name="testkb", fingerprint="0" * 64)
    assert "bastion kb remove testkb" in str(exc.value)


def test_interrupted_ingest_resumes_without_redoing_finished_files(tmp_path, new_kb, kb_embedder):
    docs = write_docs(tmp_path / "docs", {f"n{i}.md": f"# Note {i}\n\nTopic number {i} is about item {i}.\n" for i in range(5)})
    cancel = threading.Event()

    def stop_after_two(p):
        if p.files_done >= 2:
            cancel.set()

    first = ingest([docs], kb=new_kb, embedder=kb_embedder, progress=stop_after_two, cancel=cancel, batch_size=1)
    assert first.cancelled and 2 <= len(first.added) < 5
    second = ingest([docs], kb=new_kb, embedder=kb_embedder)
    assert sorted(second.unchanged) == sorted(first.added)
    assert set(first.added).isdisjoint(second.added) and len(first.added) + len(second.added) == 5
    assert second.chunks == len(second.added) and new_kb.count() == 5

    # A file whose chunks are only partly stored (a crash mid-file) is redone, not trusted.
    victim = second.added[0]
    new_kb.collection.delete(where={"source": victim})
    big = docs / victim.rsplit("/", 1)[1]
    big.write_text("# Big\n\n" + "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(4)))
    third = ingest([docs], kb=new_kb, embedder=kb_embedder)
    assert third.added == [victim] and third.chunks >= 2
    ids = new_kb.collection.get(where={"source": victim})["ids"]
    new_kb.collection.delete(ids=ids[:1])
    fourth = ingest([docs], kb=new_kb, embedder=kb_embedder)
    assert fourth.updated == [victim] and fourth.chunks == third.chunks
