"""Completion for path inputs: suggests the first entry in the folder that starts with what was typed."""

from __future__ import annotations

import os
from pathlib import Path

from textual.suggester import Suggester


class PathSuggester(Suggester):
    def __init__(self, *, dirs_only: bool = False) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.dirs_only = dirs_only

    async def get_suggestion(self, value: str) -> str | None:
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
