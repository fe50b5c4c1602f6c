"""The message box: multi-line; Enter sends, Shift+Enter or Ctrl+J starts a new line."""

from __future__ import annotations

import sys
import time

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from app.tui.keys import binding

# The clock Textual stamps events with (`Message.time`).
clock = time.perf_counter if sys.platform == "win32" else time.monotonic


class ChatInput(TextArea):
    """A TextArea that sends on Enter (both keys remappable: `send`, `newline`).

    `send` is a priority binding (TextArea would insert a line break for Enter first); `newline`
    is not, so `on_key` sees Ctrl+J first: one read before the chat was ready was an Enter
    the terminal turned into a line feed before the app took the keyboard, and it sends.
    """

    BINDINGS = [binding("send", show=False, priority=True), binding("newline", show=False)]

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text
            self.sent_at = time.perf_counter()

    def __init__(self, **kw) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kw)
        self.ready_at: float | None = None
        """When the chat screen finished starting (`clock()`); keys stamped earlier were typed while it loaded."""

    def on_key(self, event: events.Key) -> None:
        if event.key == "ctrl+j" and (self.ready_at is None or event.time <= self.ready_at):
            event.stop()
            event.prevent_default()
            self.action_submit()

    def action_submit(self) -> None:
        # `send` is a priority binding, so it runs in the app's task while keys typed just before it may
        # still wait in this widget's queue (only "W" of "What is…" was sent under load). Read the text
        # after them: a callback on this widget's own queue runs after every key already queued there.
        self.call_later(self.submit_now)

    def submit_now(self) -> None:
        text = self.text.strip()
        if text:
            self.post_message(self.Submitted(text))

    def action_newline(self) -> None:
        start, end = self.selection
        self.replace("\n", start, end, maintain_selection_offset=False)
