"""Render a conversation as a Markdown document (for export)."""

from __future__ import annotations

import time

from app.history.store import Conversation, Message

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
    """`file › heading (lines a-b)` from a citation dict (missing keys are skipped)."""
    parts = [str(source.get("file") or source.get("source") or source.get("path") or "?")]
    if source.get("heading"):
        parts.append(f"› {source['heading']}")
    start, end = source.get("line_start"), source.get("line_end")
    if start:
        parts.append(f"(lines {start}-{end or start})")
    return " ".join(parts)
