"""Code analysis: paste code or open a file, risk cards, evidence in the code view, fix diff."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Label


class AnalysisScreen(Screen):
    def compose(self) -> ComposeResult:
        yield Label("Code analysis", classes="title")
        yield Footer()

    async def load_analysis(self, conversation_id: int) -> None:
        pass
