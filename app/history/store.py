"""Conversations and analyses, kept in one SQLite file under BASTION_HOME.

No UI here: the TUI sidebar, `bastion` commands and tests all use `History`.
Each call opens a short-lived connection, so worker threads can write safely.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterator

from app import paths
from app.errors import BastionError
from app.history.markdown import conversation_markdown
from app.history.records import Conversation, Message

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL DEFAULT 'chat',
    title TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    sources TEXT,
    stats TEXT,
    data TEXT,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_conv ON messages(conversation_id, id);
"""

KINDS = ("chat", "analysis")


def default_path() -> Path:
    return paths.home() / "history.sqlite3"


class History:
    """The history database. `History()` uses BASTION_HOME/history.sqlite3."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(SCHEMA)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=10)
        except sqlite3.Error as exc:
            raise BastionError(f"{self.path}: cannot open history ({exc})",
                               hint="check the file's permissions or move it aside") from None
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        try:
            with db:
                yield db
        except sqlite3.DatabaseError as exc:
            raise BastionError(f"{self.path}: history database error ({exc})",
                               hint=f"move {self.path} aside; Bastion starts a new one") from None
        finally:
            db.close()

    # -- conversations ---------------------------------------------------------
    def create(self, title: str, *, kind: str = "chat") -> Conversation:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        now = time.time()
        title = _clean_title(title)
        with self._db() as db:
            cur = db.execute("INSERT INTO conversations(kind, title, created, updated) VALUES (?,?,?,?)",
                             (kind, title, now, now))
            return Conversation(cur.lastrowid, kind, title, now, now)

    def get(self, conversation_id: int) -> Conversation:
        with self._db() as db:
            row = db.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        if row is None:
            raise BastionError(f"conversation {conversation_id} not found", hint="pick one from the history list")
        return _conv(row)

    def list(self, *, kind: str | None = None, limit: int = 500) -> list[Conversation]:
        """Newest first."""
        sql, args = "SELECT * FROM conversations", []
        if kind:
            sql, args = sql + " WHERE kind = ?", [kind]
        with self._db() as db:
            rows = db.execute(sql + " ORDER BY updated DESC, id DESC LIMIT ?", (*args, limit)).fetchall()
        return [_conv(r) for r in rows]

    def search(self, text: str, *, kind: str | None = None) -> list[Conversation]:
        """Conversations whose title or any message contains `text` (case-insensitive), newest first."""
        if not text.strip():
            return self.list(kind=kind)
        like = "%" + text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        sql = ("SELECT * FROM conversations c WHERE (c.title LIKE ? ESCAPE '\\' OR EXISTS ("
               "SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.content LIKE ? ESCAPE '\\'))")
        args: list[Any] = [like, like]
        if kind:
            sql += " AND c.kind = ?"
            args.append(kind)
        with self._db() as db:
            rows = db.execute(sql + " ORDER BY c.updated DESC, c.id DESC", args).fetchall()
        return [_conv(r) for r in rows]

    def rename(self, conversation_id: int, title: str) -> Conversation:
        title = _clean_title(title)
        with self._db() as db:
            cur = db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))
        if cur.rowcount == 0:
            raise BastionError(f"conversation {conversation_id} not found", hint="pick one from the history list")
        return self.get(conversation_id)

    def delete(self, conversation_id: int) -> None:
        with self._db() as db:
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # -- messages --------------------------------------------------------------
    def add_message(self, conversation_id: int, role: str, content: str, *,
                    sources: list[dict] | None = None, stats: dict | None = None, data: Any = None) -> Message:
        now = time.time()
        with self._db() as db:
            cur = db.execute(
                "INSERT INTO messages(conversation_id, role, content, sources, stats, data, created) "
                "VALUES (?,?,?,?,?,?,?)",
                (conversation_id, role, content, _dump(sources), _dump(stats), _dump(data), now))
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id))
        return Message(cur.lastrowid, conversation_id, role, content, now, sources or [], stats or {}, data)

    def delete_message(self, message_id: int) -> None:
        with self._db() as db:
            db.execute("DELETE FROM messages WHERE id = ?", (message_id,))

    def messages(self, conversation_id: int) -> list[Message]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM messages WHERE conversation_id = ? ORDER BY id",
                              (conversation_id,)).fetchall()
        return [_msg(r) for r in rows]

    def chat_turns(self, conversation_id: int) -> list[dict]:
        """The user/assistant turns as chat messages, ready to send to a model."""
        return [{"role": m.role, "content": m.content} for m in self.messages(conversation_id)
                if m.role in ("user", "assistant")]

    def export_markdown(self, conversation_id: int, target: Path | None = None) -> str | Path:
        """The conversation as Markdown; with `target`, written there atomically and the path returned."""
        text = conversation_markdown(self.get(conversation_id), self.messages(conversation_id))
        if target is None:
            return text
        from app.atomic import write_text

        target = Path(target).expanduser()
        write_text(target, text)
        return target


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    return (title[:77] + "…") if len(title) > 78 else (title or "Untitled")


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _load(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        log.warning("history: unreadable JSON column ignored")
        return default


def _conv(row: sqlite3.Row) -> Conversation:
    return Conversation(row["id"], row["kind"], row["title"], row["created"], row["updated"])


def _msg(row: sqlite3.Row) -> Message:
    return Message(row["id"], row["conversation_id"], row["role"], row["content"], row["created"],
                   _load(row["sources"], []), _load(row["stats"], {}), _load(row["data"], None))
