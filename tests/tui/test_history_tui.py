"""History in the TUI: survives a restart, switch, rename, search, export, delete."""

from __future__ import annotations

import pytest

from app.history import History
from app.tui.chat_input import ChatInput
from app.tui.history_sidebar import ConversationItem, HistorySidebar
from app.tui.message_view import MessageView

pytestmark = pytest.mark.slow


async def test_history_survives_restart_and_sidebar_actions(make_tui, waiter, bastion_home):
    app = make_tui(max_tokens=12)
    async with app.run_test(size=(120, 36)) as pilot:
        await waiter(pilot, lambda: app.chat_screen is not None and app.engine_state == "ready")
        chat = app.chat_screen
        chat.query_one("#kb").value = "none"
        chat.query_one(ChatInput).text = "Name one OWASP risk."
        await pilot.press("enter")
        await waiter(pilot, lambda: chat.turn_done.is_set() and not chat.busy, timeout=300)
        first_id = chat.conversation_id
        answer = app.history.messages(first_id)[-1].content
    # A new app process over the same BASTION_HOME: the conversation is back.
    other = History().create("XSS notes")
    History().add_message(other.id, "user", "what about cross-site scripting?")
    app2 = make_tui()
    async with app2.run_test(size=(120, 36)) as pilot:
        await waiter(pilot, lambda: app2.chat_screen is not None and app2.chat_screen.query(ConversationItem))
        chat = app2.chat_screen
        sidebar = chat.query_one(HistorySidebar)
        titles = [i.conversation.title for i in sidebar.query(ConversationItem)]
        assert titles == ["XSS notes", "Name one OWASP risk."]
        # Resumes the newest conversation; switch to the first one from the sidebar.
        assert chat.conversation_id == other.id
        items = list(sidebar.query(ConversationItem))
        await pilot.click(items[1])
        await waiter(pilot, lambda: chat.conversation_id == first_id)
        texts = [v.text for v in chat.query(MessageView)]
        assert texts == ["Name one OWASP risk.", answer]
        # Search narrows the list (message content counts too).
        await pilot.press("ctrl+f")
        await pilot.press(*"cross-site")
        await waiter(pilot, lambda: len(sidebar.query(ConversationItem)) == 1)
        assert sidebar.query_one(ConversationItem).conversation.id == other.id
        sidebar.query_one("#history-search").value = ""
        await waiter(pilot, lambda: len(sidebar.query(ConversationItem)) == 2)
        # Rename (F9) through the dialog.
        chat.query_one(ChatInput).focus()
        await pilot.press("f9")
        await waiter(pilot, lambda: app2.screen.__class__.__name__ == "PromptDialog")
        app2.screen.query_one("#prompt-input").value = "OWASP chat"
        await pilot.press("enter")
        await waiter(pilot, lambda: History().get(first_id).title == "OWASP chat")
        # Export (Ctrl+E) to a Markdown file.
        target = bastion_home / "out.md"
        await pilot.press("ctrl+s")
        await waiter(pilot, lambda: app2.screen.__class__.__name__ == "PromptDialog")
        app2.screen.query_one("#prompt-input").value = str(target)
        await pilot.press("enter")
        await waiter(pilot, lambda: target.exists())
        assert target.read_text().startswith("# OWASP chat\n") and answer.strip()[:20] in target.read_text()
        # Delete (F8) after confirming.
        await pilot.press("f8")
        await waiter(pilot, lambda: app2.screen.__class__.__name__ == "ConfirmDialog")
        await pilot.click("#yes")
        await waiter(pilot, lambda: len(sidebar.query(ConversationItem)) == 1)
        assert [c.id for c in History().list()] == [other.id]
        assert chat.conversation_id is None and not chat.query(MessageView)
