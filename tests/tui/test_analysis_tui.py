"""Analysis screen: a vulnerable snippet gives a high/critical card with CWE, evidence and a fix."""

from __future__ import annotations

import json

import pytest

from app.history import History
from app.tui.analysis_screen import AnalysisScreen
from app.tui.code_view import CodeView
from app.tui.risk_card import RiskCard

pytestmark = pytest.mark.slow

VULNERABLE = '''\
import sqlite3


def find_user(db, name):
    cur = db.cursor()
    cur.execute("SELECT * FROM users WHERE name = '%s'" % name)
    return cur.fetchall()
'''


async def test_analyze_open_file_cards_fix_save_and_history(make_tui, waiter, tmp_path):
    src = tmp_path / "users.py"
    src.write_text(VULNERABLE)
    app = make_tui()
    async with app.run_test(size=(140, 44)) as pilot:
        await waiter(pilot, lambda: app.chat_screen is not None)
        await pilot.press("f3")
        await waiter(pilot, lambda: isinstance(app.screen, AnalysisScreen))
        screen: AnalysisScreen = app.screen
        path_input = screen.query_one("#code-path")
        path_input.value = str(src)
        await pilot.click("#open")
        await waiter(pilot, lambda: screen.query_one(CodeView).text == VULNERABLE)
        app.settings.analysis.use_model = True  # the user's default; the bundle's measured evidence decides
        await pilot.press("ctrl+g")
        await waiter(pilot, lambda: screen.report is not None and not screen.busy, timeout=300)
        cards = list(screen.query(RiskCard))
        assert cards, screen.report.notes
        # The starter records no held-out analysis eval: like `bastion analyze`, the screen runs static only and says why.
        assert app.engine is not None and app.bundle is not None
        assert any("static analysis only" in n for n in screen.report.notes), screen.report.notes
        assert all(not f.model_verdict for f in screen.report.findings)
        top = cards[0]
        assert top.finding.label in ("high", "critical")
        assert top.finding.risk.cwe_id == "CWE-89"
        assert "critical" in top.classes or "high" in top.classes
        fix = top.finding.fix
        assert fix.hint or fix.diff, "the card offers a fix"
        assert top.fix_text() in (fix.code, fix.diff, fix.hint)
        # The evidence line is selected in the code view.
        view = screen.query_one(CodeView)
        line = top.finding.evidence[0].line
        assert view.selection.start[0] == line - 1 and "execute" in view.document.get_line(line - 1)
        # Copy fix.
        await pilot.press("ctrl+t")
        assert app.clipboard == top.fix_text()
        # Save JSON, SARIF and Markdown.
        for suffix in (".json", ".sarif", ".md"):
            assert screen.save_report(tmp_path / f"report{suffix}") is not None
        saved = json.loads((tmp_path / "report.json").read_text())  # slim JSON: flat findings with CWE at top level
        assert any(f["cwe"] == "CWE-89" for f in saved["findings"])
        assert json.loads((tmp_path / "report.sarif").read_text())["version"] == "2.1.0"
        assert "CWE-89" in (tmp_path / "report.md").read_text()
        # The analysis is in the history and reopens from it.
        [conv] = History().list(kind="analysis")
        assert conv.title.startswith(top.finding.label.upper()) and "users.py" in conv.title
        await pilot.press("f2")
        await app.chat_screen.query_one("#sidebar").reload()
        await pilot.pause()
        items = app.chat_screen.query("ConversationItem")
        await pilot.click(items.first())
        await waiter(pilot, lambda: isinstance(app.screen, AnalysisScreen))
        await waiter(pilot, lambda: len(app.screen.query(RiskCard)) == len(cards))
