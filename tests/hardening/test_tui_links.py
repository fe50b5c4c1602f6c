"""A link in an answer opens the browser only after the user confirms the full address."""

from __future__ import annotations

import pytest

pytest.importorskip("textual")

from textual.app import App  # noqa: E402
from textual.widgets import Markdown  # noqa: E402

from app.tui.message_view import MessageView  # noqa: E402
from app.tui.prompt_dialog import ConfirmDialog  # noqa: E402


class Harness(App):
    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    def compose(self):
        yield MessageView("assistant", "See [the fix](https://attacker.example/\x1b]52;c;eA==\x07x).")

    def open_url(self, url: str, *, new_tab: bool = True) -> None:
        self.opened.append(url)


@pytest.mark.parametrize("answer,opens", [("no", False), ("yes", True)])
async def test_link_needs_confirmation(answer, opens):
    app = Harness()
    async with app.run_test() as pilot:
        md = app.query_one(Markdown)
        md.post_message(Markdown.LinkClicked(md, "https://attacker.example/\x1b]52;c;eA==\x07x"))
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog) and app.opened == []
        assert "\x1b" not in app.screen.question and "attacker.example" in app.screen.question
        await pilot.click(f"#{answer}")
        await pilot.pause()
        assert app.opened == (["https://attacker.example/x"] if opens else [])
