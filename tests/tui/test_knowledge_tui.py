"""Knowledge screen: ingest a folder with progress, see it listed and selectable in chat, remove it."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, ProgressBar

from app.tui.kb_select import KnowledgeSelect
from app.tui.knowledge_screen import KnowledgeScreen

pytestmark = pytest.mark.slow


async def test_ingest_progress_completes_then_remove(make_tui, waiter, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(3):
        (docs / f"note{i}.md").write_text(f"# Note {i}\n\nServer-side request forgery number {i} " * 3 + "\n")
    app = make_tui()
    progress_seen: list[tuple[int, int]] = []
    async with app.run_test(size=(120, 36)) as pilot:
        await waiter(pilot, lambda: app.chat_screen is not None and app.knowledge is not None)
        await pilot.press("f4")
        await waiter(pilot, lambda: isinstance(app.screen, KnowledgeScreen))
        screen: KnowledgeScreen = app.screen
        orig = KnowledgeScreen.on_knowledge_screen_progress

        def spy(self, msg):
            progress_seen.append((msg.p.files_done, msg.p.files_total))
            orig(self, msg)

        KnowledgeScreen.on_knowledge_screen_progress = spy
        try:
            screen.query_one("#kb-folder").value = str(docs)
            screen.query_one("#kb-name").value = "team"
            before = screen.last_report
            await pilot.press("ctrl+n")
            # On a quiet machine three small files can be ingested before the first poll.
            await waiter(pilot, lambda: screen.ingesting or screen.last_report is not before)
            await waiter(pilot, lambda: not screen.ingesting and screen.last_report is not before, timeout=300)
        finally:
            KnowledgeScreen.on_knowledge_screen_progress = orig
        report = screen.last_report
        assert report is not None and len(report.added) == 3 and report.chunks >= 3
        assert progress_seen and progress_seen[-1] == (3, 3)
        bar = screen.query_one(ProgressBar)
        assert bar.total == 3 and bar.progress == 3
        assert "chunks/s" in str(screen.query_one("#ingest-status").render()) or "chunks in" in str(
            screen.query_one("#ingest-status").render())
        table = screen.query_one(DataTable)
        await waiter(pilot, lambda: any(table.get_row_at(i)[0] == "team" for i in range(table.row_count)))
        row = [table.get_row_at(i) for i in range(table.row_count) if table.get_row_at(i)[0] == "team"][0]
        assert int(row[1]) == report.chunks and row[2] == "3"
        # Chat can now search it.
        select = app.chat_screen.query_one(KnowledgeSelect)
        await waiter(pilot, lambda: any(v == "kb:team" for _, v in select._options))
        # Re-sync: nothing changed.
        table.move_cursor(row=[table.get_row_at(i)[0] for i in range(table.row_count)].index("team"))
        before = screen.last_report
        await pilot.click("#kb-resync")
        await waiter(pilot, lambda: screen.last_report is not before and not screen.ingesting, timeout=300)
        assert screen.last_report.unchanged and not screen.last_report.changed
        # Remove it.
        await pilot.click("#kb-remove")
        await waiter(pilot, lambda: app.screen.__class__.__name__ == "ConfirmDialog")
        await pilot.click("#yes")
        await waiter(pilot, lambda: all(table.get_row_at(i)[0] != "team" for i in range(table.row_count)), timeout=300)
        await waiter(pilot, lambda: all(v != "kb:team" for _, v in select._options))
