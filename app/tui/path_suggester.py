"""Path completion: a suggester that proposes the first matching entry, and an Input where Tab takes it."""

from __future__ import annotations

import os
from pathlib import Path

from textual.binding import Binding
from textual.suggester import Suggester
from textual.widgets import Input


class PathSuggester(Suggester):
    def __init__(self, *, dirs_only: bool = False) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.dirs_only = dirs_only

    async def get_suggestion(self, value: str) -> str | None:
        return self.suggest(value)

    def suggest(self, value: str) -> str | None:
        """`value` completed to the first entry of its folder that starts with what was typed."""
        if not value:
            return None
        expanded = os.path.expanduser(value)
        folder, prefix = os.path.split(expanded)
        try:
            names = sorted(os.listdir(folder or "."))
        except OSError:
            return None
        for name in names:
            if not name.startswith(prefix) or name == prefix or (name.startswith(".") and not prefix.startswith(".")):
                continue
            full = Path(folder or ".") / name
            if self.dirs_only and not full.is_dir():
                continue
            tail = name[len(prefix):] + ("/" if full.is_dir() else "")
            return value + tail
        return None


class PathInput(Input):
    """An Input where Tab takes the path suggestion (→ does too); with nothing to complete, Tab moves on."""

    BINDINGS = [Binding("tab", "complete_path", "Complete", show=False)]

    def action_complete_path(self) -> None:
        suggestion = self.suggester.suggest(self.value) if isinstance(self.suggester, PathSuggester) else None
        if suggestion and suggestion != self.value:
            self.value = suggestion
            self.cursor_position = len(self.value)
        else:
            self.screen.focus_next()
