"""The history sidebar: search box and the list of conversations and analyses."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, ListItem, ListView

from app.history import Conversation

ICONS = {"chat": "💬", "analysis": "🛡"}


class ConversationItem(ListItem):
    def __init__(self, conv: Conversation) -> None:
        super().__init__(Label(f"{ICONS.get(conv.kind, '·')} {conv.title}", markup=False))
        self.conversation = conv


class HistorySidebar(Vertical):
    DEFAULT_CSS = """
    HistorySidebar { width: 30; border-right: solid $primary; }
    HistorySidebar.hidden { display: none; }
    HistorySidebar > Label { text-style: bold; padding: 0 1; }
    HistorySidebar Input { margin: 0; }
    HistorySidebar ListView { height: 1fr; }
    """

    class Chosen(Message):
        """The user picked a conversation."""

        def __init__(self, conversation: Conversation) -> None:
            super().__init__()
            self.conversation = conversation

    def compose(self) -> ComposeResult:
        yield Label("History")
        yield Input(placeholder="search…", id="history-search")
        yield ListView(id="history-list")

    async def on_mount(self) -> None:
        await self.reload()

    async def reload(self, current: int | None = None) -> None:
        query = self.query_one("#history-search", Input).value
        convs = self.app.history.search(query)
        view = self.query_one("#history-list", ListView)
        await view.clear()
        await view.extend(ConversationItem(c) for c in convs)
        if current is not None:
            ids = [c.id for c in convs]
            if current in ids:
                view.index = ids.index(current)

    async def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "history-search":
            event.stop()
            await self.reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the search box opens the highlighted (else the first) match."""
        if event.input.id != "history-search":
            return
        event.stop()
        view = self.query_one("#history-list", ListView)
        items = [c for c in view.children if isinstance(c, ConversationItem)]
        if not items:
            self.notify("No conversation matches the search.", severity="warning")
            return
        index = view.index if view.index is not None and view.index < len(items) else 0
        self.post_message(self.Chosen(items[index].conversation))

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        event.stop()
        if isinstance(event.item, ConversationItem):
            self.post_message(self.Chosen(event.item.conversation))

    def focus_search(self) -> None:
        self.remove_class("hidden")
        self.query_one("#history-search", Input).focus()
