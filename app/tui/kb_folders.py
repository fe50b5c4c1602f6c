"""Which folders each user knowledge base was filled from (so the TUI can re-sync it)."""

from __future__ import annotations

import json

from app import paths
from app.atomic import write_text


def _file():
    return paths.home() / "kb_folders.json"


def load() -> dict[str, list[str]]:
    try:
        data = json.loads(_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: [str(p) for p in v] for k, v in data.items() if isinstance(v, list)} if isinstance(data, dict) else {}


def folders(name: str) -> list[str]:
    return load().get(name, [])


def remember(name: str, folder: str) -> None:
    data = load()
    if folder not in data.setdefault(name, []):
        data[name].append(folder)
    write_text(_file(), json.dumps(data, indent=2))


def forget(name: str) -> None:
    data = load()
    if data.pop(name, None) is not None:
        write_text(_file(), json.dumps(data, indent=2))
