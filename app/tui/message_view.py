"""One chat message: Markdown that streams in, plus numbered source buttons under answers."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Label, Markdown

from app.source import Source

FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.S)


class SourceChosen(Message):
    """A citation button was pressed."""

    def __init__(self, sources: list[Source], n: int) -> None:
        super().__init__()
        self.sources = sources
        self.n = n


class MessageView(Vertical):
    DEFAULT_CSS = """
    MessageView { height: auto; margin: 0 0 1 0; padding: 0 1; }
    MessageView.user { border-left: thick $accent; background: $boost; }
    MessageView.assistant { border-left: thick $success; }
    MessageView.error { border-left: thick $error; }
    MessageView > Label.role { color: $text-muted; text-style: bold; }
    MessageView Markdown { margin: 0; padding: 0; }
    MessageView .citations { height: auto; layout: vertical; }
    MessageView .uncited { color: $text-muted; margin-right: 1; }
    MessageView .citations Button { min-width: 4; height: 1; border: none; margin: 0 1 0 0; }
    MessageView .answer-warning { color: $warning; }
    """

    def __init__(self, role: str, text: str = "", *, sources: list[Source] | None = None,
                 warnings: list[str] | None = None) -> None:
        super().__init__(classes=role)
        self.role = role
        self.text = text
        self.sources = list(sources or [])
        self.warnings = list(warnings or [])
        self._stream = None

    def compose(self) -> ComposeResult:
        yield Label("You" if self.role == "user" else "Bastion", classes="role")
        yield Markdown(self.text, open_links=False)  # links come from documents and models: ask first
        yield Horizontal(classes="citations")

    def on_mount(self) -> None:
        if self.sources:
            self.show_sources(self.sources)
        if self.warnings:
            self.show_warnings(self.warnings)

    def show_warnings(self, warnings: list[str]) -> None:
        """One line per answer warning ("extractive: …", "uncited: …"), above the sources."""
        self.warnings = list(warnings)
        for old in self.query(".answer-warning"):
            old.remove()
        if not self.warnings:
            return
        if any(w.startswith("extractive") for w in self.warnings):
            self.add_class("extractive")
        labels = [Label(f"\u26a0 {w}", classes="answer-warning", markup=False) for w in self.warnings]
        self.mount_all(labels, before=self.query_one(".citations", Horizontal))

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        """Show the full address and open it only when the user says yes."""
        from app.terminal_text import printable
        from app.tui.prompt_dialog import ConfirmDialog

        event.stop()
        href = printable(event.href)

        def opened(yes: bool | None) -> None:
            if yes:
                self.app.open_url(href)

        self.app.push_screen(ConfirmDialog(f"Open this link in your browser?\n\n{href[:400]}"), opened)

    @property
    def markdown(self) -> Markdown:
        return self.query_one(Markdown)

    async def append(self, piece: str) -> None:
        """Add streamed text; the first piece is drawn at once, later ones batched."""
        self.text += piece
        if self._stream is None:
            await self.markdown.append(piece)
            self._stream = Markdown.get_stream(self.markdown)
        else:
            await self._stream.write(piece)

    async def finish(self, text: str | None = None) -> None:
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        if text is not None and text != self.text:
            self.text = text
            await self.markdown.update(text)

    def show_sources(self, sources: list[Source]) -> None:
        self.sources = list(sources)
        row = self.query_one(".citations", Horizontal)
        row.remove_children()
        widgets = []
        if self.sources and not any(s.cited for s in self.sources):
            widgets.append(Label("Sources given (none cited):", classes="uncited"))
        widgets += [Button(f"[{s.n or i}] {s.line()}", id=f"source-{i}", classes="citation",
                           compact=True, tooltip=_tooltip(s, i))
                    for i, s in enumerate(self.sources, 1)]
        row.mount_all(widgets)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("source-"):
            event.stop()
            self.post_message(SourceChosen(self.sources, int(event.button.id.split("-")[1])))

    def code_blocks(self) -> list[str]:
        return [m.group(1).rstrip("\n") for m in FENCE.finditer(self.text)]


def _tooltip(source: Source, i: int) -> str:
    """What hovering a citation shows: the answer sentence(s) it supports, else how to open it."""
    if source.supports:
        return "Supports: " + " / ".join(source.supports[:3])
    if source.span:
        return "Quoted: " + source.span[:200]
    return f"Open source {source.n or i}"
