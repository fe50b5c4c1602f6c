"""The sources panel: the cited chunk, its file, heading and lines."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, Markdown, Static


class SourcesPanel(VerticalScroll):
    DEFAULT_CSS = """
    SourcesPanel { width: 45%; max-width: 70; border-left: solid $primary; padding: 0 1; display: none; }
    SourcesPanel.open { display: block; }
    SourcesPanel .title { text-style: bold; color: $accent; }
    SourcesPanel .meta { color: $text-muted; }
    SourcesPanel .chunk { border: round $panel-lighten-2; padding: 0 1; margin-bottom: 1; }
    SourcesPanel .chunk.selected { border: round $accent; }
    """

    def compose(self) -> ComposeResult:
        yield Label("Sources", classes="title")
        yield Static("Press a numbered source under an answer to see it here.", id="sources-empty", classes="meta")

    async def show(self, sources: list[dict], n: int | None = None) -> None:
        """Show every source of an answer, the n-th one highlighted and scrolled to."""
        await self.remove_children()
        widgets = [Label(f"Sources ({len(sources)})", classes="title")]
        if not sources:
            widgets.append(Static("This answer used no sources.", classes="meta"))
        for i, s in enumerate(sources, 1):
            meta = [f"[{s.get('n', i)}] {s.get('file') or s.get('source') or '?'}"]
            if s.get("heading"):
                meta.append(f"heading: {s['heading']}")
            if s.get("line_start"):
                meta.append(f"lines {s['line_start']}–{s.get('line_end') or s['line_start']}")
            if s.get("kb"):
                meta.append(f"knowledge base: {s['kb']}")
            chunk = Markdown(str(s.get("text") or ""), id=f"chunk-{i}", classes="chunk")
            chunk.border_title = "\n".join(meta[:1])
            if i == n:
                chunk.add_class("selected")
            widgets += [Label("\n".join(meta), classes="meta"), chunk]
        await self.mount_all(widgets)
        self.add_class("open")
        if n:
            self.call_after_refresh(self._scroll_to, n)

    def _scroll_to(self, n: int) -> None:
        target = self.query(f"#chunk-{n}")
        if target:
            self.scroll_to_widget(target.first(), animate=False, top=True)
