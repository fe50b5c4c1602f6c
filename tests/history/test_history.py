"""History store: a real SQLite file under BASTION_HOME."""

from __future__ import annotations

import pytest

from app.errors import BastionError
from app.history import History, default_path


def test_create_add_list_and_reopen(bastion_home):
    h = History()
    assert h.path == default_path() and h.path.parent == bastion_home
    c = h.create("  What is   SQL injection? ")
    assert c.title == "What is SQL injection?"
    h.add_message(c.id, "user", "What is SQLi?")
    h.add_message(c.id, "assistant", "Untrusted input in a query [1].",
                  sources=[{"file": "notes/sqli.md", "heading": "SQLi", "line_start": 3, "line_end": 9}],
                  stats={"ttft_s": 0.1})
    again = History()  # a restart
    [conv] = again.list()
    assert conv.id == c.id
    msgs = again.messages(c.id)
    assert [m.role for m in msgs] == ["user", "assistant"]
    assert msgs[1].sources[0]["file"] == "notes/sqli.md" and msgs[1].stats == {"ttft_s": 0.1}
    assert again.chat_turns(c.id) == [{"role": "user", "content": "What is SQLi?"},
                                      {"role": "assistant", "content": "Untrusted input in a query [1]."}]


def test_list_newest_first_kind_filter_rename_delete():
    h = History()
    a = h.create("first")
    b = h.create("code review", kind="analysis")
    h.add_message(a.id, "user", "bump")  # a becomes newest
    assert [c.id for c in h.list()] == [a.id, b.id]
    assert [c.id for c in h.list(kind="analysis")] == [b.id]
    assert h.rename(a.id, "renamed").title == "renamed"
    h.delete(a.id)
    assert [c.id for c in h.list()] == [b.id]
    assert h.messages(a.id) == []  # cascade
    with pytest.raises(BastionError, match="not found"):
        h.rename(a.id, "x")
    with pytest.raises(ValueError):
        h.create("x", kind="bogus")


def test_search_title_and_content_literal_percent():
    h = History()
    a = h.create("XSS basics")
    b = h.create("other")
    h.add_message(b.id, "user", "is 100% of eval() dangerous?")
    assert [c.id for c in h.search("xss")] == [a.id]
    assert [c.id for c in h.search("EVAL(")] == [b.id]
    assert [c.id for c in h.search("100%")] == [b.id]
    assert h.search("0%o") == []  # % is literal, not a wildcard
    assert len(h.search("  ")) == 2


def test_export_markdown(tmp_path):
    h = History()
    c = h.create("Export me")
    h.add_message(c.id, "user", "q?")
    h.add_message(c.id, "assistant", "a [1]", sources=[{"file": "a.md", "heading": "H", "line_start": 1, "line_end": 4}])
    text = h.export_markdown(c.id)
    assert text.startswith("# Export me\n")
    assert "## You\n\nq?" in text and "## Bastion\n\na [1]" in text
    assert "1. a.md › H (lines 1-4)" in text
    out = h.export_markdown(c.id, tmp_path / "out" / "chat.md")
    assert out.read_text() == text


def test_corrupt_database_is_a_friendly_error(bastion_home):
    default_path().write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(BastionError, match="history"):
        History()
