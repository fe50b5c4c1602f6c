"""The small things a new user tripped over (no model needed): Ctrl+O after a restore, Enter in the
history search, Tab completing paths, leaving and clearing the code box, the knowledge choice of a
resumed conversation, keys typed while starting, the 80×24 first frame, long source paths."""

from __future__ import annotations

from pathlib import Path

from app.history import History
from app.settings import Settings
from app.tui.kb_select import KnowledgeSelect
from app.tui.sources_panel import SourcesPanel, short_path

LONG = "/home/someone/projects/security/knowledge/very/deep/folder/structure/notes/cwe-089-sql-injection.md"


def _app():
    from app.tui.app import make_app

    return make_app(Settings(bundle=Path("/srv/bastion/bundles/starter")), open_bundle=False, cursor_blink=False)


def _seed(kb: str | None = None) -> int:
    h = History()
    h.create("XSS in templates")
    c = h.create("How do I stop SQL injection?")
    h.add_message(c.id, "user", "How do I stop SQL injection?", data={"kb": kb} if kb else None)
    h.add_message(c.id, "assistant", "Use parameterised queries [1].",
                  sources=[{"n": 1, "file": LONG, "heading": "Prevention", "line_start": 12, "line_end": 30,
                            "text": "Bind every value as a parameter.", "cited": True}])
    return c.id


async def test_ctrl_o_after_restore_opens_and_closes_the_sources_panel(bastion_home):
    conv = _seed()
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        chat = app.chat_screen
        assert chat.conversation_id == conv
        panel = chat.query_one(SourcesPanel)
        await pilot.press("ctrl+o")
        await pilot.pause(0.2)
        assert panel.has_class("open") and panel.query("#chunk-1")
        meta = " ".join(str(w.render()) for w in panel.query(".meta"))
        assert "cwe-089-sql-injection.md" in meta and "…/" in meta and LONG not in meta
        sidebar = chat.query_one("#sidebar")
        assert not sidebar.display  # at 100 columns the history makes room for the panel
        await pilot.press("ctrl+o")
        assert not panel.has_class("open")
        await pilot.pause()
        assert sidebar.display
        await pilot.press("ctrl+o", "escape")
        assert not panel.has_class("open")


def test_short_path():
    assert short_path("notes/a.md") == "notes/a.md"
    out = short_path(LONG, 40)
    assert out.startswith("…/") and out.endswith("cwe-089-sql-injection.md") and len(out) <= 40
    assert len(short_path("/" + "x" * 100, 30)) == 30
    assert short_path(str(Path.home() / "docs" / "a.md")) == "~/docs/a.md"


async def test_enter_in_history_search_opens_the_match(bastion_home):
    conv = _seed()
    xss = History().list()[-1]
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        chat = app.chat_screen
        assert chat.conversation_id == conv
        await pilot.press("ctrl+f", *"xss", "enter")
        await pilot.pause(0.2)
        assert chat.conversation_id == xss.id
        assert app.focused is chat.chat_input


async def test_knowledge_choice_of_a_resumed_conversation_comes_back(bastion_home):
    _seed(kb="kb:docs")

    class IndexedBundle:
        index_path = Path("/srv/index")

    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        select = app.chat_screen.query_one(KnowledgeSelect)
        assert select.value == "none"  # "docs" is not known yet (the bundle opens later)
        select.refresh_options(IndexedBundle, ["docs", "other"])
        await pilot.pause()
        assert select.value == "kb:docs"
        # A choice the user makes is kept when the list is refreshed (e.g. after an ingest).
        select.value = "none"
        await pilot.pause()
        select.refresh_options(IndexedBundle, ["docs", "other", "new"])
        await pilot.pause()
        assert select.value == "none"


async def test_enter_typed_while_starting_sends(bastion_home):
    """Enter typed before the app owned the terminal arrives as Ctrl+J (a line feed): it sends."""
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        box = app.chat_screen.chat_input
        assert app.focused is box
        box.ready_at = None  # as if these keys had been read while the chat screen was starting
        await pilot.press(*"hello there", "ctrl+j")
        await pilot.pause(0.3)
        assert [m.content for m in app.history.messages(app.chat_screen.conversation_id)][:1] == ["hello there"]
        assert box.text == ""


async def test_80x24_first_frame_has_the_message_box(bastion_home):
    _seed()
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        box = app.chat_screen.chat_input
        assert box.region.height >= 3 and box.region.bottom <= 24 - 2, box.region  # above status and footer
        assert app.focused is box


async def test_tab_completes_paths_and_esc_leaves_the_code_box(bastion_home, tmp_path):
    from app.tui.code_view import CodeView
    from app.tui.path_suggester import PathInput

    (tmp_path / "vulnerable_app.py").write_text("import os\nos.system(input())\n")
    app = _app()
    async with app.run_test(size=(110, 34)) as pilot:
        await app.switch_mode("analysis")
        await pilot.pause()
        screen = app.screen
        path_box = screen.query_one("#code-path", PathInput)
        path_box.focus()
        path_box.value = str(tmp_path / "vuln")
        path_box.cursor_position = len(path_box.value)
        await pilot.press("tab")
        assert path_box.value == str(tmp_path / "vulnerable_app.py") and app.focused is path_box
        await pilot.press("tab")  # nothing left to complete: Tab moves on
        assert app.focused is not path_box
        code = screen.query_one(CodeView)
        code.focus()
        await pilot.press("tab")
        assert app.focused is code and code.text.strip() == ""  # Tab indents inside the code box
        await pilot.press("escape")
        assert app.focused is not code
        # Clear empties the code box (and the findings) for the next paste.
        code.load_text("print('x')\n")
        await pilot.click("#clear")
        await pilot.pause()
        assert code.text == "" and screen.report is None and app.focused is code


async def test_enter_waits_for_the_keys_typed_before_it(bastion_home):
    """Enter is a priority binding (runs in the app's task); keys still queued in the box come first."""
    from textual import events

    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        box = app.chat_screen.chat_input
        for ch in "What":  # queued on the box, not processed yet
            box.post_message(events.Key(ch, ch))
        box.action_submit()  # what the Enter binding does, before the box has run its queue
        await pilot.pause(0.3)
        asked = [m.content for c in app.history.list() for m in app.history.messages(c.id) if m.role == "user"]
        assert asked == ["What"]


async def test_a_question_asked_while_the_bundle_opens_waits_for_it(bastion_home):
    """Asked before the bundle is open: not refused with "no model is loaded" but held until the bundle
    settles, with the automatic knowledge choice (the selector still shows its placeholder)."""
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        app.bundle_settled.clear()  # as while `open_bundle` runs
        await pilot.press(*"hello", "enter")
        await pilot.pause(0.5)
        chat = app.chat_screen
        user = [m for m in app.history.messages(chat.conversation_id) if m.role == "user"]
        assert [m.content for m in user] == ["hello"] and user[0].data == {"kb": None}
        assert chat.busy and chat.status.state == "thinking", "the question was refused instead of waiting"
        app.bundle_settled.set()  # the bundle failed to open: now, and only now, the turn says so
        await pilot.pause(0.5)
        assert not chat.busy and chat.status.state == "error"
