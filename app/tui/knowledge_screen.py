"""Knowledge bases: list with counts, add a folder (ingest with progress, cancellable), re-sync, remove."""

from __future__ import annotations

import threading
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, ProgressBar

from app.errors import BastionError
from app.tui import kb_folders
from app.tui.keys import binding
from app.tui.knowledge_context import CHROMA_LOCK
from app.tui.path_suggester import PathInput, PathSuggester


class KnowledgeScreen(Screen):
    DEFAULT_CSS = """
    KnowledgeScreen > Vertical { padding: 0 1; }
    KnowledgeScreen DataTable { height: 1fr; min-height: 5; }
    KnowledgeScreen .row { height: auto; }
    KnowledgeScreen .row Input { width: 1fr; }
    KnowledgeScreen #kb-name { width: 24; }
    KnowledgeScreen .row Button { margin-left: 1; }
    KnowledgeScreen #ingest-status { color: $text-muted; height: 1; }
    KnowledgeScreen ProgressBar { margin: 1 0 0 0; }
    """
    BINDINGS = [binding("add_folder"), binding("cancel_ingest")]

    class Progress(Message):
        def __init__(self, p) -> None:
            super().__init__()
            self.p = p

    class Done(Message):
        def __init__(self, name: str, report=None, error: str | None = None) -> None:
            super().__init__()
            self.name = name
            self.report = report
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self._cancel = threading.Event()
        self.ingesting = False
        self.last_report = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Knowledge bases", classes="title")
            yield DataTable(id="kb-table", cursor_type="row", zebra_stripes=True)
            with Horizontal(classes="row"):
                yield PathInput(placeholder="folder to add, e.g. ~/docs/security", id="kb-folder",
                                suggester=PathSuggester(dirs_only=True))
                yield Input("docs", placeholder="knowledge base name", id="kb-name")
                yield Button("Add folder", id="kb-add", variant="primary")
            yield ProgressBar(total=1, id="ingest-bar", show_eta=False)
            yield Label("Idle.", id="ingest-status")
            with Horizontal(classes="row"):
                yield Button("Stop ingest", id="kb-cancel", variant="warning", disabled=True)
                yield Button("Re-sync selected", id="kb-resync")
                yield Button("Remove selected", id="kb-remove", variant="error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Name", "Chunks", "Files", "Where")
        self.reload()

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.reload()

    # -- listing -------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="kb-table")
    def reload(self) -> None:
        from app.knowledge import list_knowledge_bases

        rows = []
        bundle = self.app.bundle
        if bundle is not None and bundle.index_path is not None:
            chunks = bundle.manifest.metrics.get("index.chunks", "?")
            files = bundle.manifest.metrics.get("index.files", "?")
            rows.append(("bundle", str(chunks), str(files), "bundle (read-only)"))
        try:
            with CHROMA_LOCK:
                infos = list_knowledge_bases(url=self.app.settings.retrieval.chroma_url)
        except BastionError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            infos = []
        rows += [(i.name, str(i.chunks), str(i.files), "yours") for i in infos]
        self.app.call_from_thread(self._fill, rows)

    def _fill(self, rows) -> None:
        table = self.query_one(DataTable)
        keep = self.selected_name()
        table.clear()
        for row in rows:
            table.add_row(*row, key=row[0])
        names = [r[0] for r in rows]
        if keep in names:
            table.move_cursor(row=names.index(keep))

    def selected_name(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return table.get_row_at(table.cursor_row)[0]

    # -- actions -------------------------------------------------------------------
    def action_add_folder(self) -> None:
        folder = self.query_one("#kb-folder", Input).value.strip()
        name = self.query_one("#kb-name", Input).value.strip() or "docs"
        if not folder:
            self.notify("Type the folder to add first.", severity="warning")
            self.query_one("#kb-folder", Input).focus()
            return
        path = Path(folder).expanduser()
        if not path.exists():
            self.notify(f"{path} does not exist.", severity="error")
            return
        self.start_ingest(name, [str(path.resolve())])

    def action_cancel_ingest(self) -> None:
        if self.ingesting:
            self._cancel.set()
            self.query_one("#ingest-status", Label).update("Stopping after this batch…")

    def start_ingest(self, name: str, folders: list[str]) -> None:
        if self.ingesting:
            self.notify("An ingest is already running.", severity="warning")
            return
        self.ingesting = True
        self._cancel.clear()
        self.query_one("#kb-cancel", Button).disabled = False
        self.query_one("#kb-add", Button).disabled = True
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.query_one("#ingest-status", Label).update(f"Scanning {', '.join(folders)}…")
        self._ingest(name, folders)

    @work(thread=True, exclusive=True, group="ingest")
    def _ingest(self, name: str, folders: list[str]) -> None:
        from app.knowledge import KnowledgeBase, ingest

        try:
            if self.app.knowledge is None:
                raise BastionError("no bundle is open, so there is no embedder to index with",
                                   hint="open a bundle first (see Settings, F5)")
            emb = self.app.knowledge.embedder()
            with CHROMA_LOCK:
                kb = KnowledgeBase.open_user(name, fingerprint=emb.fingerprint, dim=emb.dim,
                                             url=self.app.settings.retrieval.chroma_url)
            for f in folders:
                kb_folders.remember(name, f)
            try:
                limit_mb = self.app.settings.retrieval.max_file_mb
                report = ingest(folders, kb=kb, embedder=emb, cancel=self._cancel,
                                progress=lambda p: self.post_message(self.Progress(p)),
                                max_file_bytes=int(limit_mb * 1_000_000) if limit_mb else None)
            finally:
                with CHROMA_LOCK:
                    kb.close()
        except BastionError as exc:
            self.post_message(self.Done(name, error=str(exc)))
            return
        self.post_message(self.Done(name, report))

    def on_knowledge_screen_progress(self, msg: Progress) -> None:
        p = msg.p
        self.query_one(ProgressBar).update(total=max(p.files_total, 1), progress=p.files_done)
        current = Path(p.current).name if p.current else ""
        self.query_one("#ingest-status", Label).update(
            f"{p.files_done}/{p.files_total} files · {p.chunks} chunks · {p.chunks_per_s:.1f} chunks/s  {current}")

    def on_knowledge_screen_done(self, msg: Done) -> None:
        self.ingesting = False
        self.query_one("#kb-cancel", Button).disabled = True
        self.query_one("#kb-add", Button).disabled = False
        status = self.query_one("#ingest-status", Label)
        if msg.error:
            status.update("Failed.")
            self.notify(msg.error, title="Ingest failed", severity="error", timeout=10)
        else:
            self.last_report = msg.report
            bar = self.query_one(ProgressBar)
            if not msg.report.cancelled:
                bar.update(total=bar.total or 1, progress=bar.total or 1)
            r = msg.report
            nothing = not (r.added or r.updated or r.unchanged or r.removed)
            text = f"{msg.name}: {'nothing was ingested; ' if nothing else ''}{r.summary()}"
            if nothing and r.skipped:
                text += f" (first: {Path(r.skipped[0][0]).name}: {r.skipped[0][1]})"
            status.update(text)
            self.notify(text, severity="warning" if r.cancelled or nothing else "information")
        self.reload()
        self.app.knowledge_changed()

    def action_resync(self) -> None:
        name = self.selected_name()
        if name is None or name == "bundle":
            self.notify("Pick one of your knowledge bases (the bundle's index is read-only).", severity="warning")
            return
        folders = kb_folders.folders(name)
        if not folders:
            self.notify(f"Bastion does not know which folders {name!r} came from; add a folder to it instead.",
                        severity="warning")
            return
        self.start_ingest(name, folders)

    def action_remove(self) -> None:
        name = self.selected_name()
        if name is None or name == "bundle":
            self.notify("Pick one of your knowledge bases (the bundle's index is read-only).", severity="warning")
            return
        from app.tui.prompt_dialog import ConfirmDialog

        def done(yes: bool | None) -> None:
            if yes:
                self._remove(name)

        self.app.push_screen(ConfirmDialog(f"Remove knowledge base “{name}” and its index?"), done)

    @work(thread=True, group="kb-remove")
    def _remove(self, name: str) -> None:
        from app.knowledge import remove_knowledge_base

        if self.app.knowledge is not None:
            self.app.knowledge.invalidate()
        try:
            with CHROMA_LOCK:
                remove_knowledge_base(name, url=self.app.settings.retrieval.chroma_url)
        except BastionError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        kb_folders.forget(name)
        self.app.call_from_thread(self.notify, f"Removed {name}.")
        self.app.call_from_thread(self.app.knowledge_changed)
        self.app.call_from_thread(self.reload)

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        actions = {"kb-add": self.action_add_folder, "kb-cancel": self.action_cancel_ingest,
                   "kb-resync": self.action_resync, "kb-remove": self.action_remove}
        if event.button.id in actions:
            actions[event.button.id]()

    @on(Input.Submitted, "#kb-folder")
    def _submitted(self) -> None:
        self.action_add_folder()
