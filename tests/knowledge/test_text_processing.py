"""Tokenizer, BM25, loaders and chunking: pure functions, no models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.knowledge.chunking import ChunkOptions, approx_tokens, chunk_document
from app.knowledge.lexical import BM25Index, tokenize
from app.knowledge.loaders import Document, Skip, iter_files, load_file


def make_pdf(text_lines: list[str]) -> bytes:
    """A minimal valid one-page PDF with text (offsets computed, so pypdf reads it)."""
    content = "BT /F1 12 Tf 72 720 Td " + " ".join(f"({t}) Tj 0 -16 Td" for t in text_lines) + " ET"
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


# -- tokenizer and BM25 ------------------------------------------------------------
def test_tokenizer_keeps_and_splits_identifiers():
    toks = tokenize("get_user_by_id parseHTTPHeader CWE-89")
    for t in ["get_user_by_id", "get", "user", "id", "parsehttpheader", "parse", "http", "header", "cwe-89", "cwe", "89"]:
        assert t in toks, t
    assert "by" not in toks  # stopword parts dropped, the whole identifier kept


def test_tokenizer_cjk_bigrams_and_mixed_text():
    assert tokenize("SQL注入漏洞") == ["sql", "注入", "入漏", "漏洞"]
    assert tokenize("脆弱性の対策") == ["脆弱", "弱性", "性の", "の対", "対策"]
    assert tokenize("码") == ["码"]


def test_bm25_ranks_and_round_trips(tmp_path):
    texts = ["use parameterized queries against sql injection", "escape html output for xss",
             "服务端请求伪造 内网地址", "def load_session(blob): return pickle.loads(blob)"]
    idx = BM25Index.build(["a", "b", "c", "d"], texts)
    assert idx.ids[idx.search("sql injection", k=2)[0].index] == "a"
    assert idx.ids[idx.search("请求伪造", k=1)[0].index] == "c"
    assert idx.ids[idx.search("pickle.loads", k=1)[0].index] == "d"
    assert idx.search("sourdough bread", k=3) == []
    partial = idx.search("sql sourdough", k=1)[0]
    assert 0 < partial.coverage < 0.6  # an unseen query word lowers coverage
    idx.save(tmp_path / "lex", revision="r1")
    assert BM25Index.load(tmp_path / "lex", revision="r2") is None
    again = BM25Index.load(tmp_path / "lex", revision="r1")
    assert [h.index for h in again.search("xss html", k=2)] == [h.index for h in idx.search("xss html", k=2)]


# -- loaders ----------------------------------------------------------------------
def test_loaders_text_kinds(tmp_path):
    (tmp_path / "a.html").write_text("<html><body><h1>Title</h1><p>Hello <b>world</b></p><pre>x = 1</pre>"
                                      "<script>evil()</script></body></html>")
    doc = load_file(tmp_path / "a.html")
    assert doc.text.startswith("# Title") and "Hello world" in doc.text and "```\nx = 1\n```" in doc.text
    assert "evil" not in doc.text
    (tmp_path / "r.jsonl").write_text(json.dumps({"text": "first record"}) + "\n" + json.dumps({"q": 1}) + "\n")
    assert load_file(tmp_path / "r.jsonl").text.splitlines() == ["first record", '{"q": 1}']
    (tmp_path / "p.pdf").write_bytes(make_pdf(["Path traversal", "Resolve then check the base"]))
    pdf = load_file(tmp_path / "p.pdf")
    assert pdf.text.startswith("# Page 1") and "Path traversal" in pdf.text
    (tmp_path / "m.go").write_text("package main\n")
    assert load_file(tmp_path / "m.go").kind == "code"


@pytest.mark.parametrize("name,data,reason", [
    ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage", "PDF"),
    ("blob.txt", b"\x00\x01\x02binary\x00data", "binary"),
    ("latin.txt", "caf\xe9".encode("latin-1"), "UTF-8"),
    ("image.png", b"\x89PNG\r\n", "unsupported file type"),
    ("bad.jsonl", b'{"text": "ok"}\n{broken\n', "line 2"),
])
def test_unreadable_files_are_skipped_with_a_reason(tmp_path, name, data, reason):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(Skip, match=reason):
        load_file(tmp_path / name)


def test_size_limit_names_the_limit(tmp_path):
    (tmp_path / "big.txt").write_text("x" * 2000)
    with pytest.raises(Skip, match="too large"):
        load_file(tmp_path / "big.txt", max_bytes=1000)


def test_iter_files_skips_hidden_and_tool_dirs(tmp_path):
    root = tmp_path / "docs"  # tmp_path also holds BASTION_HOME (the test session's trusted key)
    for rel in ["a.md", ".git/config", "node_modules/x.js", "sub/b.py", ".hidden.md"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")
    assert [p.relative_to(root).as_posix() for p in iter_files(root)] == ["a.md", "sub/b.py"]


# -- chunking ---------------------------------------------------------------------
MD = """# Guide

Intro paragraph.

## Part A
""" + "\n\n".join(f"Sentence {i} about part A and its details." for i in range(40)) + """

```python
def keep_me_whole():
    return 1
```

### Deep
Deep text.
"""


def test_markdown_chunks_keep_heading_paths_fences_and_lines():
    chunks = chunk_document(Document(Path("g.md"), MD, "markdown"), options=ChunkOptions(max_tokens=80, overlap_tokens=16))
    heads = {c.heading for c in chunks}
    assert {"Guide", "Guide > Part A", "Guide > Part A > Deep"} <= heads
    fence = [c for c in chunks if "keep_me_whole" in c.text]
    assert len(fence) == 1 and "```python" in fence[0].text and "return 1\n```" in fence[0].text
    lines = MD.splitlines()
    for c in chunks:
        assert approx_tokens(c.embed_text) <= 80 + 2
        first = c.text.splitlines()[0]
        assert first in lines[c.start_line - 1] or lines[c.start_line - 1] in first
    part_a = [c for c in chunks if c.heading == "Guide > Part A" and "Sentence" in c.text]
    assert len(part_a) >= 3
    # overlap: the last paragraph of one chunk opens the next
    assert part_a[0].text.split("\n\n")[-1] == part_a[1].text.split("\n\n")[0]
    assert len({c.hash for c in chunks}) == len(chunks)


def test_code_is_split_at_definitions_with_their_comments():
    code = "import os\n\n# loads things\n@cache\ndef load(x):\n    return x\n\n\nclass Store:\n    def get(self):\n        pass\n"
    chunks = chunk_document(Document(Path("m.py"), code, "code"), options=ChunkOptions(max_tokens=12, overlap_tokens=0))
    by_head = {c.heading: c for c in chunks}
    assert by_head["def load(x):"].text.startswith("# loads things\n@cache")
    assert (by_head["def load(x):"].start_line, by_head["def load(x):"].end_line) == (3, 6)
    assert by_head["class Store:"].start_line == 9


def test_cjk_text_without_spaces_is_split_by_sentences_within_budget():
    text = "# 注入\n\n" + "".join(f"第{i}句说明参数化查询可以防止注入攻击。" for i in range(60)) + "\n"
    chunks = chunk_document(Document(Path("z.md"), text, "markdown"), options=ChunkOptions(max_tokens=60, overlap_tokens=0))
    assert len(chunks) > 5
    assert all(approx_tokens(c.embed_text) <= 62 for c in chunks)
    assert all(c.text.endswith("。") for c in chunks)  # cut at sentence ends, not mid-word
    assert "".join(c.text for c in chunks) == text.split("\n\n", 1)[1].strip()
