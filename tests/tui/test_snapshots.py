"""Snapshots of each screen with fixed content (no model, no timings, no temporary paths).

Update after an intended UI change with `pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path


from app.errors import BundleError
from app.history import History
from app.settings import Settings

SIZE = (110, 34)
FIXED_BUNDLE = Path("/srv/bastion/bundles/starter")


def _app():
    from app.tui.app import make_app

    return make_app(Settings(bundle=FIXED_BUNDLE), open_bundle=False, cursor_blink=False)


def _seed_history():
    h = History()
    h.create("XSS in templates")
    c = h.create("How do I stop SQL injection?")
    h.add_message(c.id, "user", "How do I stop SQL injection?")
    h.add_message(c.id, "assistant",
                  "Use **parameterised queries** [1]; never build SQL with string formatting [2].\n\n"
                  "```python\ncur.execute(\"SELECT * FROM users WHERE name = ?\", (name,))\n```",
                  sources=[{"n": 1, "file": "notes/cwe-089-sql-injection.md", "heading": "Prevention",
                            "line_start": 12, "line_end": 30, "text": "Bind every value as a parameter.", "cited": True},
                           {"n": 2, "file": "notes/owasp-a03-injection.md", "heading": "Why it happens",
                            "line_start": 3, "line_end": 11, "text": "Queries built by concatenation.", "cited": True}])


def test_chat_screen(snap_compare):
    _seed_history()

    async def run_before(pilot):
        await pilot.pause(0.3)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)


def test_chat_sources_panel(snap_compare):
    _seed_history()

    async def run_before(pilot):
        await pilot.pause(0.3)
        await pilot.click("#source-1")
        await pilot.pause(0.3)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare):
    assert snap_compare(_app(), terminal_size=SIZE, press=["f1"])


def test_settings_screen(snap_compare):
    assert snap_compare(_app(), terminal_size=(110, 40), press=["f5"])


def test_bundle_error_screen(snap_compare):
    async def run_before(pilot):
        from app.tui.bundle_error_screen import BundleErrorScreen

        err = BundleError(f"bundle {FIXED_BUNDLE} failed verification: {FIXED_BUNDLE}/llm.gguf: size 4096 bytes, "
                          "manifest says 98362432", hint="run `bastion bundle verify` for details")
        await pilot.app.push_screen(BundleErrorScreen(err, str(FIXED_BUNDLE)))
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=(110, 40), run_before=run_before)


def test_first_run_screen(snap_compare, monkeypatch):
    from app.tui import first_run_screen

    monkeypatch.setattr(first_run_screen, "builder_available", lambda: True)
    monkeypatch.setattr(first_run_screen, "discover_models", lambda: [])  # this machine's models vary

    async def run_before(pilot):
        await pilot.app.push_screen(first_run_screen.FirstRunScreen(str(FIXED_BUNDLE)))
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=(110, 40), run_before=run_before)


def test_knowledge_screen(snap_compare):
    async def run_before(pilot):
        await pilot.pause(0.3)

    assert snap_compare(_app(), terminal_size=SIZE, press=["f4"], run_before=run_before)


def test_analysis_screen_with_report(snap_compare):
    from app.analysis.models import Evidence, Finding, Fix, Report, Risk

    code = 'import os\n\ndef run(user):\n    os.system("ping " + user)\n'
    report = Report(code=code, language="python", filename="ping.py", findings=[Finding(
        analysis="User input reaches a shell command.", label="critical",
        risk=Risk(cwe_id="CWE-78", cwe_name="OS Command Injection", why="`; rm -rf ~` runs as the app user"),
        fix=Fix(hint="Pass an argument list without a shell.", author="rule", verified=True,
                diff='--- a/ping.py\n+++ b/ping.py\n@@ -4 +4 @@\n-    os.system("ping " + user)\n'
                     '+    subprocess.run(["ping", user], check=True)\n'),
        evidence=[Evidence(engine="bandit", rule_id="B605", line=4, end_line=4)], confidence=0.9)]).settle()

    async def run_before(pilot):
        await pilot.press("f3")
        await pilot.pause()
        screen = pilot.app.screen
        screen.query_one("#code").load_text(code)
        await screen.show_report(report)
        await pilot.pause(0.2)

    assert snap_compare(_app(), terminal_size=(130, 40), run_before=run_before)
