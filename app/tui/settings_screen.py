"""The settings screen: bundle path, engine threads / GPU layers / context, retrieval k, temperature."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from app.errors import ConfigError

# (input id, label, dotted settings path)
FIELDS = (
    ("bundle", "Bundle path (empty = starter bundle)", "bundle"),
    ("n_threads", "Model threads (empty = auto)", "engine.n_threads"),
    ("n_gpu_layers", "GPU layers (-1 = all)", "engine.n_gpu_layers"),
    ("n_ctx", "Context size (tokens)", "engine.n_ctx"),
    ("temperature", "Temperature", "engine.temperature"),
    ("k", "Sources per question (k)", "retrieval.k"),
)


def read_field(data: dict, dotted: str):
    for part in dotted.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def apply_fields(settings, values: dict[str, str]):
    """A validated copy of `settings` with the form's values; raises ConfigError naming the field."""
    from pydantic import ValidationError

    data = settings.model_dump(mode="json")
    for fid, _, dotted in FIELDS:
        raw = values.get(fid, "").strip()
        *parents, leaf = dotted.split(".")
        target = data
        for p in parents:
            target = target.setdefault(p, {})
        target[leaf] = raw or None if fid in ("bundle", "n_threads") else raw
    try:
        return type(settings).model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{where}: {err['msg']} (got {err.get('input')!r})", hint="correct the field and save again") from None


class SettingsScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    SettingsScreen { align: center middle; }
    SettingsScreen > Vertical { width: 80; height: auto; border: thick $primary; background: $surface; padding: 1 2; }
    SettingsScreen Grid { grid-size: 2; grid-columns: 38 1fr; grid-rows: 3; height: auto; }
    SettingsScreen Grid Label { padding-top: 1; }
    SettingsScreen Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    SettingsScreen Button { margin-left: 1; }
    SettingsScreen .note { color: $text-muted; }
    """
    BINDINGS = [("escape", "dismiss(False)", "Close"), ("ctrl+s", "save", "Save")]

    def compose(self) -> ComposeResult:
        data = self.app.settings.model_dump(mode="json")
        with Vertical():
            yield Label("Settings", classes="title")
            with Grid():
                for fid, label, dotted in FIELDS:
                    value = read_field(data, dotted)
                    yield Label(label)
                    yield Input("" if value is None else str(value), id=f"set-{fid}")
            yield Label("Saved to the settings file; model changes reload the model.", classes="note")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(False)

    def action_save(self) -> None:
        values = {fid: self.query_one(f"#set-{fid}", Input).value for fid, _, _ in FIELDS}
        try:
            new = apply_fields(self.app.settings, values)
            path = self.app.apply_settings(new)
        except ConfigError as exc:
            self.notify(str(exc), title="Settings not saved", severity="error", timeout=10)
            return
        self.notify(f"Settings saved to {path.name}.")
        self.dismiss(True)
