"""Knowledge bases: list with counts, add a folder (ingest with progress), re-sync, remove."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Label


class KnowledgeScreen(Screen):
    def compose(self) -> ComposeResult:
        yield Label("Knowledge bases", classes="title")
        yield Footer()
