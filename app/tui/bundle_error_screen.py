"""Shown when the bundle is missing or corrupt: what is wrong and the exact fix."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Markdown

from app.errors import BastionError


def explain(error: BastionError, bundle_path: str) -> str:
    hint = error.hint if isinstance(error, BastionError) else None
    message = str(error).split("\n  Fix:")[0]
    return f"""\
# The knowledge bundle could not be opened

**What is wrong:** {message}

**How to fix it:** {hint or "rebuild or copy the bundle again"}

Bastion needs a *bundle* (a chat model, an embedder and a knowledge index) to answer.

To create the small starter bundle, which works offline, run:

```
builder starter --force
```

To check a bundle and list every problem, run:

```
bastion bundle verify {bundle_path}
```

Or point Bastion at another bundle: open **Settings** (F5) and set the bundle path, then **Retry**.
"""


class BundleErrorScreen(Screen[None]):
    DEFAULT_CSS = """
    BundleErrorScreen VerticalScroll { padding: 1 2; }
    BundleErrorScreen Horizontal { height: auto; dock: bottom; padding: 0 2 1 2; }
    BundleErrorScreen Button { margin-right: 2; }
    """
    BINDINGS = [("r", "retry", "Retry"), ("f5", "app.show_settings", "Settings"), ("q", "app.quit", "Quit")]

    def __init__(self, error: BastionError, bundle_path: str) -> None:
        super().__init__()
        self.error = error
        self.bundle_path = bundle_path

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(explain(self.error, self.bundle_path), id="bundle-error")
        with Horizontal():
            yield Button("Retry", id="retry", variant="primary")
            yield Button("Settings", id="settings")
            yield Button("Quit", id="quit", variant="error")
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"retry": self.action_retry, "settings": self.app.action_show_settings,
         "quit": self.app.exit}[event.button.id]()

    def action_retry(self) -> None:
        self.dismiss(None)
        self.app.open_bundle()
