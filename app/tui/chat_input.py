"""The message box: multi-line; Enter sends, Shift+Enter or Ctrl+J starts a new line."""

from __future__ import annotations

import time

from textual.message import Message
from textual.widgets import TextArea

from app.tui.keys import binding


class ChatInput(TextArea):
    """A TextArea that sends on Enter (both keys remappable: `send`, `newline`)."""

    BINDINGS = [binding("send", show=False, priority=True), binding("newline", show=False, priority=True)]

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text
            self.sent_at = time.perf_counter()

    def __init__(self, **kw) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kw)

    def action_submit(self) -> None:
        text = self.text.strip()
        if text:
            self.post_message(self.Submitted(text))

    def action_newline(self) -> None:
        start, end = self.selection
        self.replace("\n", start, end, maintain_selection_offset=False)
