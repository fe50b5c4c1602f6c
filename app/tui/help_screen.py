"""The help screen: every key binding (as remapped by settings) and where it applies."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Markdown

from app.tui.keys import ACTIONS

INTRO = """\
**Bastion** answers security questions from its knowledge, citing numbered sources,
and reviews code for vulnerabilities — all offline.
Every action is also in the command palette (**Ctrl+P**). Remap keys in the settings file under `[keys]`,
e.g. `cancel = "ctrl+c"`.
"""


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 90; height: 90%; border: thick $primary; background: $surface; padding: 0 1; }
    HelpScreen DataTable { height: 1fr; }
    """
    BINDINGS = [("escape", "dismiss", "Close"), ("f1", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Keys and help", classes="title")
            yield Markdown(INTRO)
            yield DataTable(id="keys", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Action", "Where", "Name in [keys]")
        keymap = getattr(self.app, "_keymap", {})
        for name, (keys, _, description, where) in ACTIONS.items():
            shown = ",".join(keymap.get(name, keys.split(","))) if isinstance(keymap.get(name), list) else keymap.get(name, keys)
            table.add_row(shown, description, where, name)
        table.focus()
