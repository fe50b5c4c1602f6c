"""The HTML converter on the shapes that stalled the ingest (issue 29) and on ordinary pages, and the
repeated-chunk drop. In-process, no model: each hostile page must convert (or be refused) quickly and keep
its visible text."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.knowledge.chunking import Chunk, approx_tokens, chunk_document, drop_repeats
from app.knowledge.html_text import HtmlUnreadable, html_to_markdown
from app.knowledge.loaders import Document, Skip, load_file

N = 100_000


def test_ordinary_page_keeps_structure():
    page = ("<html><head><title>T</title><style>p{}</style></head><body><nav>menu</nav><h2>Passwords</h2>"
            "<div>Use <b>Argon2id</b>.</div><ul><li><p>one</p></li><li>two</li></ul><pre>\n  x = 1\n</pre>"
            "<p>&eacute; &amp; &lt;tag&gt;<br>next</p><!-- hidden --><script>evil()</script></body></html>")
    assert html_to_markdown(page) == ("## Passwords\n\nUse Argon2id.\n\n- one\n\n- two\n\n```\n  x = 1\n```\n\n"
                                      "é & <tag>\n\nnext\n")


CASES = [
    ("comment bomb", "<!--" * N + "x", ""),                    # took over 20 s in BeautifulSoup
    ("unclosed tags", "<p><b><i><table><tr><td>" * 20_000 + "deep text", "deep text"),  # likewise
    ("deep divs", "<div>" * N + "inner" + "</div>" * N, "inner"),
    ("marked sections", "<![" * N + ">after", "after"),       # the stdlib tokenizer asserts on these
    ("unterminated tag run", "<a " * N + "tail", ""),
    ("lone angle brackets", "<p>a < b and c <" + "<" * N, "a < b and c"),
]


@pytest.mark.parametrize("name,page,keeps", CASES, ids=[c[0] for c in CASES])
def test_hostile_pages_convert(name, page, keeps):
    text = html_to_markdown(page, budget_s=30)  # the budget is generous: each of these takes < 2 s here
    assert keeps in text
    assert "<!--" not in text


def test_a_page_over_budget_is_refused_with_a_reason(tmp_path):
    (tmp_path / "slow.html").write_text("<p>" + "word " * 300_000 + "</p>")
    with pytest.raises(HtmlUnreadable, match="took over 0 s to convert"):
        html_to_markdown((tmp_path / "slow.html").read_text(), budget_s=0)
    assert "word" in load_file(tmp_path / "slow.html").text  # the real budget reads it


def test_repeated_chunks_are_indexed_once():
    doc = Document(Path("bomb.md"), "# Bomb\n\n" + "word " * 200_000, "markdown")
    chunks = chunk_document(doc, count_tokens=approx_tokens)
    kept, dropped = drop_repeats(chunks)
    assert len(chunks) > 1000 and len(kept) <= 20 and dropped == len(chunks) - len(kept)
    assert [c.index for c in kept] == list(range(len(kept)))
    assert kept[0].start_line == chunks[0].start_line
    distinct = [Chunk(text=f"t{i}", heading="", start_line=i, end_line=i, hash=f"h{i}") for i in range(3)]
    assert drop_repeats(distinct) == (distinct, 0)


def test_pdf_text_cap(tmp_path, monkeypatch):
    from app.knowledge import loaders
    from tests.knowledge.test_text_processing import make_pdf

    (tmp_path / "p.pdf").write_bytes(make_pdf(["Path traversal " * 20, "second page " * 20]))
    monkeypatch.setattr(loaders, "MAX_TEXT_BYTES", 100)
    with pytest.raises(Skip, match="PDF text passes .* by page"):
        load_file(tmp_path / "p.pdf")
