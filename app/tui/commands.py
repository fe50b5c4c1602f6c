"""The command palette provider: every action of every screen, by name."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from app.tui.keys import ACTIONS

# Palette entries: (title, action id in keys.ACTIONS, screen kind that runs it or "app")
PALETTE = (
    ("Chat: new conversation", "new_chat", "chat"),
    ("Chat: stop the answer", "cancel", "chat"),
    ("Chat: regenerate the last answer", "regenerate", "chat"),
    ("Chat: copy the last answer", "copy_answer", "chat"),
    ("Chat: copy the last code block", "copy_code", "chat"),
    ("Chat: show or hide sources", "toggle_sources", "chat"),
    ("History: show or hide the sidebar", "toggle_sidebar", "chat"),
    ("History: search", "search_history", "chat"),
    ("History: rename the conversation", "rename_conversation", "chat"),
    ("History: delete the conversation", "delete_conversation", "chat"),
    ("History: export the conversation to Markdown", "export_conversation", "chat"),
    ("Analysis: analyse the code", "analyze", "analysis"),
    ("Analysis: copy the fix", "copy_fix", "analysis"),
    ("Analysis: save the report", "save_report", "analysis"),
    ("Knowledge: add a folder", "add_folder", "knowledge"),
    ("Knowledge: stop the ingest", "cancel_ingest", "knowledge"),
    ("Go to chat", "show_chat", "app"),
    ("Go to code analysis", "show_analysis", "app"),
    ("Go to knowledge bases", "show_knowledge", "app"),
    ("Settings", "show_settings", "app"),
    ("Keys and help", "show_help", "app"),
    ("Quit", "quit", "app"),
)


class BastionCommands(Provider):
    """Offers every Bastion action; screen actions switch to their screen first."""

    async def discover(self) -> Hits:
        for title, action_id, where in PALETTE:
            yield DiscoveryHit(title, partial(self._run, action_id, where), help=ACTIONS[action_id][2])

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action_id, where in PALETTE:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, action_id, where),
                          help=ACTIONS[action_id][2])

    async def _run(self, action_id: str, where: str) -> None:
        await self.app.run_palette_action(action_id, where)
