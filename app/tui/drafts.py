"""The message typed in the chat box but not sent, kept across quits and crashes."""

from __future__ import annotations

from pathlib import Path

from app import paths


def draft_file() -> Path:
    return paths.home() / "drafts" / "chat.txt"


def load() -> str:
    """The kept draft ('' when there is none or it cannot be read)."""
    try:
        return draft_file().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def save(text: str) -> None:
    """Keep `text` for the next start; an empty draft removes the file."""
    from app.atomic import write_text

    path = draft_file()
    if text.strip():
        write_text(path, text)
    elif path.exists():
        path.unlink()
