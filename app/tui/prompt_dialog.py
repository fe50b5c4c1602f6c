"""Small modal dialogs: ask for one line of text, or a yes/no."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from app.tui.path_suggester import PathInput

DIALOG_CSS = """
{cls} {{ align: center middle; }}
{cls} > Vertical {{ width: 70; height: auto; border: thick $primary; background: $surface; padding: 1 2; }}
{cls} Horizontal {{ height: auto; align-horizontal: right; margin-top: 1; }}
{cls} Button {{ margin-left: 1; }}
"""


class PromptDialog(ModalScreen[str | None]):
    DEFAULT_CSS = DIALOG_CSS.format(cls="PromptDialog")
    BINDINGS = [("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str, value: str = "", *, suggester=None) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.suggester = suggester

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text)
            yield PathInput(self.value, id="prompt-input", suggester=self.suggester)
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("OK", id="ok", variant="primary")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.query_one(Input).value.strip() or None if event.button.id == "ok" else None)


class ConfirmDialog(ModalScreen[bool]):
    DEFAULT_CSS = DIALOG_CSS.format(cls="ConfirmDialog")
    BINDINGS = [("escape", "dismiss(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            with Horizontal():
                yield Button("No", id="no")
                yield Button("Yes", id="yes", variant="error")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
