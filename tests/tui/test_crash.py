"""Fault injection: an exception inside a widget handler leaves a crash log, a non-zero exit,
an intact history database and the unsent message, and says so in one line on stderr."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from app.history import History
from app.settings import Settings


def _app():
    from app.tui.app import make_app

    return make_app(Settings(bundle=Path("/srv/bastion/bundles/starter"), engine={"remote_api_key": "sk-SECRET-1234"}),
                    open_bundle=False, cursor_blink=False)


def _seed() -> tuple[History, int, list[tuple[str, str]]]:
    h = History()
    c = h.create("Before the crash")
    h.add_message(c.id, "user", "How do I stop SQL injection?")
    h.add_message(c.id, "assistant", "Use parameterised queries [1].",
                  sources=[{"n": 1, "file": "notes/sqli.md", "text": "Bind every value.", "cited": True}])
    return h, c.id, [(m.role, m.content) for m in h.messages(c.id)]


def test_exception_in_a_handler_is_a_crash_log_and_exit_1(bastion_home, monkeypatch, capsys):
    from app.tui import drafts
    from app.tui.crash import run_app
    from app.tui.sources_panel import SourcesPanel

    history, conv_id, before = _seed()

    async def broken_show(self, sources, n=None):
        raise RuntimeError("injected fault in a widget handler")

    monkeypatch.setattr(SourcesPanel, "show", broken_show)

    async def user(pilot):
        await pilot.pause(0.2)
        await pilot.press(*"half a question")
        await pilot.press("ctrl+o")  # -> ChatScreen.action_toggle_sources -> SourcesPanel.show raises

    rc = run_app(_app(), headless=True, size=(100, 30), auto_pilot=user)
    assert rc == 1
    logs = sorted((bastion_home / "logs").glob("crash-*.log"))
    assert len(logs) == 1
    text = logs[0].read_text()
    assert "RuntimeError" in text and "injected fault in a widget handler" in text and "broken_show" in text
    assert "sk-SECRET-1234" not in text
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(logs[0]) in err[0] and "Traceback" not in err[0], err
    # The history database is intact and holds what it held.
    with sqlite3.connect(history.path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [(m.role, m.content) for m in History().messages(conv_id)] == before
    # The message typed but not sent is kept, and comes back in the box next time.
    assert drafts.load() == "half a question"


def test_clean_quit_is_exit_0_without_crash_log(bastion_home, capsys):
    from app.tui import drafts
    from app.tui.crash import run_app

    drafts.save("left from last time")
    seen = []

    async def user(pilot):
        await pilot.pause(0.2)
        seen.append(pilot.app.chat_screen.chat_input.text)
        pilot.app.chat_screen.chat_input.clear()
        await pilot.press("ctrl+q")

    assert run_app(_app(), headless=True, size=(100, 30), auto_pilot=user) == 0
    assert seen == ["left from last time"]
    assert not list((bastion_home / "logs").glob("crash-*.log"))
    assert capsys.readouterr().err == ""
    assert drafts.load() == ""
