"""The sources panel: the cited chunk, its file, heading and lines.

`show(sources, n)` takes an answer's typed `app.source.Source`s (a stored conversation's are read back
with `Source.from_record`).
"""

from __future__ import annotations

import os

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, Markdown, Static

from app.source import Source


def short_path(path: str, width: int = 56) -> str:
    """`path` with the home folder as ~ and, if still longer than `width`, its head cut to `…/`."""
    home = os.path.expanduser("~")
    if home not in ("", "/", "~") and (path == home or path.startswith(home + os.sep)):
        path = "~" + path[len(home):]
    if len(path) <= width:
        return path
    parts = path.split("/")
    tail = parts[-1]
    for part in reversed(parts[:-1]):
        if len(part) + len(tail) + 3 > width:
            break
        tail = f"{part}/{tail}"
    return f"…/{tail}" if len(tail) + 2 <= width else "…" + tail[-(width - 1):]


class SourcesPanel(VerticalScroll):
    DEFAULT_CSS = """
    SourcesPanel { width: 45%; max-width: 70; border-left: solid $primary; padding: 0 1; display: none; }
    SourcesPanel.open { display: block; }
    SourcesPanel .title { text-style: bold; color: $accent; }
    SourcesPanel .meta { color: $text-muted; width: 1fr; }
    SourcesPanel .chunk { border: round $panel-lighten-2; padding: 0 1; margin-bottom: 1; }
    SourcesPanel .chunk.selected { border: round $accent; }
    """

    def compose(self) -> ComposeResult:
        yield Label("Sources", classes="title")
        yield Static("Press a numbered source under an answer to see it here.", id="sources-empty", classes="meta")

    async def show(self, sources: list[Source], n: int | None = None) -> None:
        """Show every source of an answer, the n-th one highlighted and scrolled to."""
        await self.remove_children()
        widgets = [Label(f"Sources ({len(sources)})", classes="title")]
        if not sources:
            widgets.append(Static("This answer used no sources.", classes="meta"))
        for i, s in enumerate(sources, 1):
            where = short_path(s.path or "?")
            meta = [f"[{s.n or i}] {where}"]
            if s.heading:
                meta.append(f"heading: {s.heading}")
            if s.start_line:
                meta.append(f"lines {s.start_line}–{s.end_line or s.start_line}")
            if s.kb:
                meta.append(f"knowledge base: {s.kb}")
            for sentence in s.supports[:3]:  # which answer sentence this citation backs
                meta.append(f"supports: \u201c{sentence}\u201d")
            if s.span:
                meta.append(f"passage: \u201c{' '.join(s.span.split())[:300]}\u201d")
            chunk = Markdown(s.text, id=f"chunk-{i}", classes="chunk")
            chunk.border_title = meta[0]
            if i == n:
                chunk.add_class("selected")
            widgets += [Static("\n".join(meta), classes="meta", markup=False), chunk]
        await self.mount_all(widgets)
        self.add_class("open")
        if n:
            self.call_after_refresh(self.scroll_to_source, n)

    def scroll_to_source(self, n: int) -> None:
        """Scroll the n-th source's chunk to the top (our own name: Textual's `_scroll_to` is private)."""
        target = self.query(f"#chunk-{n}")
        if target:
            self.scroll_to_widget(target.first(), animate=False, top=True)
