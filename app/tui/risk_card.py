"""One finding as a card coloured by its label: CWE, analysis, evidence, fix diff."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Label, Markdown, Static

LABEL_COLOURS = {"critical": "$error", "high": "$error-darken-1", "medium": "$warning", "low": "$primary", "safe": "$success"}


class RiskCard(Vertical):
    DEFAULT_CSS = """
    RiskCard { height: auto; border: round $panel-lighten-2; padding: 0 1; margin-bottom: 1; }
    RiskCard.critical { border: heavy $error; }
    RiskCard.high { border: round $error; }
    RiskCard.medium { border: round $warning; }
    RiskCard.low { border: round $primary; }
    RiskCard.safe { border: round $success; }
    RiskCard .badge { text-style: bold; }
    RiskCard.critical .badge, RiskCard.high .badge { color: $error; }
    RiskCard.medium .badge { color: $warning; }
    RiskCard .evidence { color: $text-muted; }
    RiskCard Horizontal { height: auto; }
    RiskCard Button { margin-right: 1; }
    """

    class Chosen(Message):
        """Show this card's evidence lines in the code view."""

        def __init__(self, card: "RiskCard") -> None:
            super().__init__()
            self.card = card

    class CopyFix(Message):
        def __init__(self, card: "RiskCard") -> None:
            super().__init__()
            self.card = card

    def __init__(self, finding, index: int) -> None:
        super().__init__(classes=f"risk {finding.label}", id=f"finding-{index}")
        self.finding = finding
        self.index = index

    def compose(self) -> ComposeResult:
        f = self.finding
        self.border_title = f"{f.label.upper()} · {f.risk.cwe_id}"
        yield Label(f"{f.label.upper()}  {f.risk.cwe_id} {f.risk.cwe_name}", classes="badge", markup=False)
        yield Static(f.analysis, markup=False)
        if f.risk.why:
            yield Static(f"Attack: {f.risk.why}", markup=False)
        for ev in f.evidence:
            lines = f"line {ev.line}" + (f"-{ev.end_line}" if ev.end_line and ev.end_line != ev.line else "")
            yield Label(f"Evidence: {ev.engine} {ev.rule_id}, {lines}" + (f": {ev.message}" if ev.message else ""),
                        classes="evidence", markup=False)
        if f.fix.hint:
            yield Static(f"Fix: {f.fix.hint}", markup=False)
        if f.fix.diff:
            state = "verified" if f.fix.verified else "not verified"
            yield Markdown(f"```diff\n{f.fix.diff.rstrip()}\n```", classes="diff")
            yield Label(f"Patch by {f.fix.author}, {state}.", classes="evidence")
        with Horizontal():
            yield Button("Show in code", id=f"show-{self.index}", compact=True)
            if self.fix_text():
                yield Button("Copy fix", id=f"copy-{self.index}", compact=True)

    def fix_text(self) -> str:
        """The patched code, else the diff, else the rule's fix advice."""
        fix = self.finding.fix
        return fix.code or fix.diff or fix.hint

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id.startswith("show-"):
            self.post_message(self.Chosen(self))
        else:
            self.post_message(self.CopyFix(self))
