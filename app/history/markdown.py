"""Render a conversation as a Markdown document (for export)."""

from __future__ import annotations

import time

from app.history.records import Conversation, Message
from app.source import Source

ROLE_TITLES = {"user": "You", "assistant": "Bastion", "report": "Analysis", "code": "Code"}


def conversation_markdown(conv: Conversation, messages: list[Message]) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(conv.created))
    out = [f"# {conv.title}", "", f"*{conv.kind}, started {when}*", ""]
    for m in messages:
        out += [f"## {ROLE_TITLES.get(m.role, m.role.title())}", ""]
        out += [f"```\n{m.content}\n```" if m.role == "code" else m.content, ""]
        if m.sources:
            out += ["**Sources**", ""]
            out += [f"{i}. {source_line(s)}" for i, s in enumerate(m.sources, 1)]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def source_line(source: dict) -> str:
    """`file › heading (lines a-b)` from a stored citation record (older records' key names read too)."""
    return Source.from_record(source).line()
