"""Code analysis: paste code or open a file, risk cards, evidence in the code view, fix diff, save."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select

from app.errors import BastionError
from app.tui.code_view import CodeView
from app.tui.keys import binding
from app.tui.path_suggester import PathInput, PathSuggester
from app.tui.risk_card import RiskCard

AUTO = "auto"
FORMATS = {".json": "json", ".sarif": "sarif", ".md": "markdown"}


class AnalysisScreen(Screen):
    DEFAULT_CSS = """
    AnalysisScreen .row { height: auto; padding: 0 1; }
    AnalysisScreen #code-path { width: 1fr; }
    AnalysisScreen #language { width: 22; }
    AnalysisScreen .row Button { margin-left: 1; }
    AnalysisScreen #analysis-body { height: 1fr; }
    AnalysisScreen #findings { width: 1fr; padding: 0 1; }
    AnalysisScreen #summary { text-style: bold; margin-bottom: 1; }
    """
    BINDINGS = [binding("analyze"), binding("copy_fix"), binding("save_report")]

    class Done(Message):
        def __init__(self, report=None, error: str | None = None) -> None:
            super().__init__()
            self.report = report
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.report = None
        self.filename: str | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        from app.analysis import languages  # loaded when the screen is first shown, not at start-up

        with Horizontal(classes="row"):
            yield PathInput(placeholder="open a file: path/to/code.py (Tab completes)", id="code-path",
                            suggester=PathSuggester())
            yield Select([(name, name) for name in languages.names()], prompt="language: auto", id="language")
            yield Button("Open", id="open")
            yield Button("Analyse", id="analyze", variant="primary")
            yield Button("Clear", id="clear", tooltip="Clear the code and the findings")
        with Horizontal(id="analysis-body"):
            yield CodeView(id="code")
            with VerticalScroll(id="findings"):
                yield Label("Paste code on the left (or open a file) and press Analyse.", id="summary")
        with Horizontal(classes="row"):
            yield Button("Save JSON", id="save-json")
            yield Button("Save SARIF", id="save-sarif")
            yield Button("Save Markdown", id="save-md")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(CodeView).focus()

    # -- input ---------------------------------------------------------------------
    def open_file(self, path_text: str) -> None:
        path = Path(path_text).expanduser()
        limit = self.app.settings.analysis.max_file_bytes
        try:
            if path.stat().st_size > limit:
                raise BastionError(f"{path} is larger than analysis.max_file_bytes ({limit} bytes)",
                                   hint="raise analysis.max_file_bytes in settings")
            code = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.notify(f"Cannot open {path}: {exc}", severity="error")
            return
        except BastionError as exc:
            self.notify(str(exc), severity="error")
            return
        self.filename = str(path)
        view = self.query_one(CodeView)
        view.load_text(code)
        view.set_language(self._language(code))

    def _language(self, code: str) -> str | None:
        from app.analysis import languages

        chosen = self.query_one("#language", Select).value
        try:
            return languages.detect(code, filename=self.filename, language=chosen if isinstance(chosen, str) else None)
        except BastionError:
            return None

    async def clear(self) -> None:
        """Empty the code box and the findings, ready for the next paste."""
        if self.busy:
            self.notify("Wait for the analysis to finish first.", severity="warning")
            return
        self.report, self.filename = None, None
        view = self.query_one(CodeView)
        view.load_text("")
        await self.query_one("#findings", VerticalScroll).remove_children(RiskCard)
        self.query_one("#summary", Label).update("Paste code on the left (or open a file) and press Analyse.")
        view.focus()

    # -- analysing -------------------------------------------------------------------
    def action_analyze(self) -> None:
        code = self.query_one(CodeView).text
        if not code.strip():
            self.notify("Paste some code or open a file first.", severity="warning")
            return
        if self.busy:
            return
        self.busy = True
        self.query_one("#summary", Label).update("Analysing… (static rules, then the model)")
        self.query_one("#analyze", Button).disabled = True
        chosen = self.query_one("#language", Select).value
        self._analyze(code, chosen if isinstance(chosen, str) else None, self.filename)

    @work(thread=True, exclusive=True, group="analysis")
    def _analyze(self, code: str, language: str | None, filename: str | None) -> None:
        from app.analysis import analyze_code

        from app.analysis.policy import decide

        app = self.app
        use_model = app.settings.analysis.use_model and app.engine is not None
        why_static = ""
        if use_model:  # the same per-bundle decision as `bastion analyze`: the model runs only on measured evidence
            bundle = app.bundle
            policy = decide(bundle.manifest.metrics if bundle is not None else {},
                            bundle_name=f"bundle '{bundle.manifest.name}'" if bundle is not None else "the remote engine")
            use_model, why_static = policy.use_model, ("" if policy.use_model else policy.reason)
        try:
            report = analyze_code(code, language=language, filename=filename,
                                  engine=app.chat_engine() if use_model else None, use_model=use_model)
        except BastionError as exc:
            self.post_message(self.Done(error=str(exc)))
            return
        if why_static:
            report.notes.append(why_static)
            self.app.call_from_thread(self.notify, why_static, title="Static analysis only", timeout=8)
        self.post_message(self.Done(report))

    async def on_analysis_screen_done(self, msg: Done) -> None:
        self.busy = False
        self.query_one("#analyze", Button).disabled = False
        if msg.error:
            self.query_one("#summary", Label).update("Analysis failed.")
            self.notify(msg.error, title="Analysis failed", severity="error", timeout=10)
            return
        await self.show_report(msg.report)
        self._remember(msg.report)

    async def show_report(self, report) -> None:
        self.report = report
        box = self.query_one("#findings", VerticalScroll)
        await box.remove_children(RiskCard)
        if report.status != "analysed":  # skipped, unsupported (never a safe verdict) or error
            summary = f"{report.status.capitalize()}: " + "; ".join(report.errors or report.notes)
        elif report.label == "safe":
            summary = f"SAFE — {report.safe_reason or 'no finding'}"
        else:
            summary = f"{(report.label or '?').upper()} — {len(report.findings)} finding(s) in {report.language}"
        self.query_one("#summary", Label).update(summary)
        await box.mount_all(RiskCard(f, i) for i, f in enumerate(report.findings, 1))
        self.query_one(CodeView).set_language(report.language)
        if report.findings:
            self._show_evidence(report.findings[0])

    def _remember(self, report) -> None:
        history = self.app.history
        title = Path(report.filename).name if report.filename else (report.code.strip().splitlines() or ["code"])[0]
        conv = history.create(f"{(report.label or 'skipped').upper()}: {title}", kind="analysis")
        history.add_message(conv.id, "code", report.code, data={"language": report.language, "filename": report.filename})
        from app.analysis import to_markdown

        history.add_message(conv.id, "report", to_markdown(report), data=report.model_dump(mode="json"))

    async def load_analysis(self, conversation_id: int) -> None:
        """Show an analysis from the history."""
        from app.analysis.models import Report

        msgs = {m.role: m for m in self.app.history.messages(conversation_id)}
        if "report" not in msgs or not isinstance(msgs["report"].data, dict):
            self.notify("That analysis has no saved report.", severity="warning")
            return
        report = Report.model_validate(msgs["report"].data)
        self.filename = report.filename
        self.query_one(CodeView).load_text(report.code)
        await self.show_report(report)

    # -- cards -------------------------------------------------------------------------
    def _show_evidence(self, finding) -> None:
        if finding.evidence:
            ev = finding.evidence[0]
            self.query_one(CodeView).show_lines(ev.line, ev.end_line or ev.line)

    def on_risk_card_chosen(self, msg: RiskCard.Chosen) -> None:
        self._show_evidence(msg.card.finding)

    def on_risk_card_copy_fix(self, msg: RiskCard.CopyFix) -> None:
        self.app.copy_to_clipboard(msg.card.fix_text())
        self.notify("Fix copied to the clipboard.")

    def action_copy_fix(self) -> None:
        cards = [c for c in self.query(RiskCard) if c.fix_text()]
        if not cards:
            self.notify("No fix to copy.", severity="warning")
            return
        self.app.copy_to_clipboard(cards[0].fix_text())
        self.notify("Fix copied to the clipboard.")

    # -- saving ------------------------------------------------------------------------
    def action_save_report(self, suffix: str = ".json") -> None:
        if self.report is None:
            self.notify("Analyse some code first.", severity="warning")
            return
        from app import paths
        from app.tui.prompt_dialog import PromptDialog

        stem = Path(self.report.filename).stem if self.report.filename else "snippet"
        default = paths.home() / "reports" / f"{stem}-report{suffix}"

        def done(target: str | None) -> None:
            if target:
                self.save_report(Path(target))

        self.app.push_screen(PromptDialog("Save the report as (.json, .sarif or .md)", str(default),
                                          suggester=PathSuggester()), done)

    def save_report(self, target: Path) -> Path | None:
        from app import analysis
        from app.atomic import write_text

        fmt = FORMATS.get(target.suffix.lower())
        if fmt is None:
            self.notify(f"{target.name}: use .json, .sarif or .md", severity="error")
            return None
        render = {"json": analysis.to_json, "sarif": analysis.to_sarif, "markdown": analysis.to_markdown}[fmt]
        text = render([self.report])
        try:
            write_text(target.expanduser(), text)
        except OSError as exc:
            self.notify(f"Cannot write {target}: {exc}", severity="error")
            return None
        self.notify(f"Report saved to {target}")
        return target

    @on(Button.Pressed)
    async def _button(self, event: Button.Pressed) -> None:
        bid = event.button.id
        if bid == "open":
            self.open_file(self.query_one("#code-path", Input).value)
        elif bid == "analyze":
            self.action_analyze()
        elif bid == "clear":
            await self.clear()
        elif bid in ("save-json", "save-sarif", "save-md"):
            self.action_save_report({"save-json": ".json", "save-sarif": ".sarif", "save-md": ".md"}[bid])

    @on(Input.Submitted, "#code-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        self.open_file(event.value)
