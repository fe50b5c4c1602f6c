"""The chat screen: history sidebar, streamed answers with citations, sources panel, status."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Select

from app.errors import BastionError
from app.llm.engine import GenStats
from app.source import Source
from app.tui import drafts
from app.tui.chat_input import ChatInput, clock
from app.tui.history_sidebar import HistorySidebar
from app.tui.kb_select import KnowledgeSelect
from app.tui.keys import binding
from app.tui.message_view import MessageView, SourceChosen
from app.tui.sources_panel import SourcesPanel
from app.tui.status_line import StatusLine
from app.tui.turn import start_turn

CHAT_ACTIONS = ("cancel", "regenerate", "new_chat", "toggle_sidebar", "toggle_sources", "copy_answer",
                "copy_code", "search_history", "rename_conversation", "delete_conversation",
                "export_conversation")


class ChatScreen(Screen):
    AUTO_FOCUS = "#input"
    # Below 120 columns the history gives its room to an open sources panel (else the chat is a sliver).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    DEFAULT_CSS = """
    ChatScreen.-narrow.sources-open HistorySidebar { display: none; }
    """
    BINDINGS = [binding(a, show=a in ("cancel", "regenerate", "new_chat", "toggle_sources")) for a in CHAT_ACTIONS]

    class Started(Message):
        def __init__(self, sources: list[Source]) -> None:
            super().__init__()
            self.sources = sources

    class Piece(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Finished(Message):
        def __init__(self, text: str, stats: GenStats, sources: list[Source]) -> None:
            super().__init__()
            self.text = text
            self.stats = stats
            self.sources = sources

    class Failed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.conversation_id: int | None = None
        self.busy = False
        self._answer: MessageView | None = None
        self._sources: list[Source] = []
        self._generation = None
        self._cancel = threading.Event()
        self.timing: dict[str, float] = {}
        self.turn_done = threading.Event()
        self.chat_input: ChatInput | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="chat-body"):
            yield HistorySidebar(id="sidebar")
            with Vertical(id="chat-main"):
                yield KnowledgeSelect(id="kb")
                yield VerticalScroll(id="messages")
                self.chat_input = ChatInput(id="input", text=drafts.load())
                yield self.chat_input
            yield SourcesPanel(id="sources")
        yield StatusLine(id="status")
        yield Footer()

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    async def on_mount(self) -> None:
        # Focus the message box now, synchronously: keys typed while the app starts are queued
        # and reach whatever has focus when they are processed, which must be this box.
        box = self.query_one(ChatInput)
        box.cursor_blink = self.app.cursor_blink  # before the focus starts a blink (snapshots want none)
        self.set_focus(box)
        box.move_cursor(box.document.end)
        self.app.chat_screen = self
        self.app.refresh_status()
        self.refresh_knowledge()
        chats = self.app.history.list(kind="chat", limit=1)
        if chats:  # resume where the user left off
            await self.load_conversation(chats[0].id)
        box.ready_at = clock()

    @work(thread=True, exclusive=True, group="kb-list")
    def refresh_knowledge(self) -> None:
        """Re-read the list of knowledge bases (a worker: it opens chroma)."""
        names = self.app.user_knowledge_bases()
        self.app.call_from_thread(self.query_one(KnowledgeSelect).refresh_options, self.app.bundle, names)

    def kb_choice(self) -> str:
        value = self.query_one(KnowledgeSelect).value
        return value if isinstance(value, str) else "none"

    # -- conversations -----------------------------------------------------------
    async def load_conversation(self, conversation_id: int) -> None:
        if self.busy:
            self.notify("Wait for the answer or press Esc first.", severity="warning")
            return
        conv = self.app.history.get(conversation_id)
        if conv.kind != "chat":
            self.app.open_analysis(conv.id)
            return
        self.conversation_id = conv.id
        box = self.query_one("#messages", VerticalScroll)
        await box.remove_children()
        await box.mount_all(MessageView(m.role, m.content, sources=[Source.from_record(d, i) for i, d in enumerate(m.sources, 1)], warnings=(m.stats or {}).get("warnings"))
                            for m in self.app.history.messages(conv.id) if m.role in ("user", "assistant"))
        box.scroll_end(animate=False)
        self.sub_title = conv.title
        kb = last_kb_choice(self.app.history.messages(conv.id))
        if kb:
            self.query_one(KnowledgeSelect).choose(kb)
        await self.query_one(HistorySidebar).reload(current=conv.id)

    async def on_history_sidebar_chosen(self, event: HistorySidebar.Chosen) -> None:
        await self.load_conversation(event.conversation.id)
        self.query_one(ChatInput).focus()

    async def action_new_chat(self) -> None:
        if self.busy:
            self.notify("Wait for the answer or press Esc first.", severity="warning")
            return
        self.conversation_id = None
        await self.query_one("#messages", VerticalScroll).remove_children()
        await self.query_one(HistorySidebar).reload()
        self.query_one(ChatInput).focus()

    # -- asking ----------------------------------------------------------------------
    async def on_chat_input_submitted(self, event: ChatInput.Submitted) -> None:
        self.timing = {"enter": event.sent_at}
        if self.busy:
            self.notify("Still answering: press Esc to stop it first.", severity="warning")
            return
        self.query_one(ChatInput).clear()
        await self.ask(event.text)

    async def ask(self, question: str, *, regenerate: bool = False) -> None:
        history = self.app.history
        if self.conversation_id is None:
            self.conversation_id = history.create(question.splitlines()[0], kind="chat").id
        turns = history.chat_turns(self.conversation_id)
        if regenerate and turns and turns[-1]["role"] == "user":
            turns = turns[:-1]
        box = self.query_one("#messages", VerticalScroll)
        # None while Bastion is still starting and nobody chose: the automatic choice, made in the worker
        # once the bundle is open (the selector only shows its placeholder until then).
        kb = self.query_one(KnowledgeSelect).current_choice(self.app.bundle, self.app.bundle_settled.is_set())
        if not regenerate:
            history.add_message(self.conversation_id, "user", question, data={"kb": kb})
            await box.mount(MessageView("user", question))
        self._answer = MessageView("assistant")
        await box.mount(self._answer)
        box.scroll_end(animate=False)
        await self.query_one(HistorySidebar).reload(current=self.conversation_id)
        self.busy = True
        self.turn_done.clear()
        self._cancel.clear()
        self._sources = []
        self.status.state = "thinking"
        self._run_turn(question, turns, kb)

    @work(thread=True, exclusive=True, group="chat")
    def _run_turn(self, question: str, turns: list[dict], kb: str | None) -> None:
        app = self.app
        try:
            engine = app.chat_engine()  # waits for the bundle and the model when asked while starting
            if kb is None:
                kb = app.automatic_kb()
            turn = start_turn(question, settings=app.settings, engine=engine, bundle=app.bundle,
                              history=turns, kb=kb, knowledge=app.knowledge_context())
            self._generation = turn.reply
            self.post_message(self.Started(turn.sources))
            if self._cancel.is_set():
                turn.reply.cancel()
            for piece in turn.reply:
                self.post_message(self.Piece(piece))
            self.post_message(self.Finished(turn.reply.text, turn.reply.stats, turn.cited()))
        except BastionError as exc:
            self.post_message(self.Failed(str(exc)))
        except Exception as exc:  # keep the UI alive; the log has the traceback
            import logging

            logging.getLogger(__name__).exception("chat turn failed")
            self.post_message(self.Failed(f"unexpected error: {exc}"))

    def on_chat_screen_started(self, msg: Started) -> None:
        self._sources = msg.sources
        self.status.state = "writing"

    async def on_chat_screen_piece(self, msg: Piece) -> None:
        if self._answer is None:
            return
        first = not self._answer.text
        await self._answer.append(msg.text)
        if first:
            self.timing["first_piece"] = time.perf_counter()
            self.call_after_refresh(self._first_visible)
        box = self.query_one("#messages", VerticalScroll)
        if box.max_scroll_y - box.scroll_y < 4:
            box.scroll_end(animate=False)

    def _first_visible(self) -> None:
        self.timing.setdefault("first_visible", time.perf_counter())

    async def on_chat_screen_finished(self, msg: Finished) -> None:
        view, self._answer = self._answer, None
        self._sources = msg.sources
        stats = msg.stats
        text = msg.text
        if stats.cancelled:
            text = (text + "\n\n*(stopped)*") if text.strip() else "*(stopped before the first word)*"
        if view is not None:
            await view.finish(text)
            view.show_sources(self._sources)
            view.show_warnings(list(stats.warnings))  # kept in history with the stats
        self.status.show_stats(stats)
        self.app.history.add_message(self.conversation_id, "assistant", text, sources=[s.to_record() for s in self._sources],
                                     stats=asdict(stats))
        self.timing["engine_ttft"] = stats.ttft_s or 0.0
        await self._end_turn("stopped" if stats.cancelled else "ready")

    async def on_chat_screen_failed(self, msg: Failed) -> None:
        self.notify(msg.error, title="Could not answer", severity="error", timeout=10)
        if self._answer is not None:
            await self._answer.finish()
            await self._answer.remove()
            self._answer = None
        await self._end_turn("error")

    async def _end_turn(self, state: str) -> None:
        self.busy = False
        self._generation = None
        self.status.state = state
        self.turn_done.set()
        await self.query_one(HistorySidebar).reload(current=self.conversation_id)

    def action_cancel(self) -> None:
        if not self.busy:
            self.close_sources()
            return
        self._cancel.set()
        if self._generation is not None:
            self._generation.cancel()
        self.status.state = "stopping"

    async def action_regenerate(self) -> None:
        if self.busy or self.conversation_id is None:
            return
        msgs = self.app.history.messages(self.conversation_id)
        users = [m for m in msgs if m.role == "user"]
        if not users:
            return
        if msgs[-1].role == "assistant":
            self.app.history.delete_message(msgs[-1].id)
            views = self.query(MessageView)
            if views and views.last().role == "assistant":
                await views.last().remove()
        await self.ask(users[-1].content, regenerate=True)

    # -- sources ----------------------------------------------------------------------
    async def on_source_chosen(self, msg: SourceChosen) -> None:
        await self.open_sources(msg.sources, msg.n)

    async def open_sources(self, sources: list[Source], n: int | None) -> None:
        await self.query_one(SourcesPanel).show(sources, n)
        self.add_class("sources-open")

    def close_sources(self) -> None:
        self.query_one(SourcesPanel).remove_class("open")
        self.remove_class("sources-open")

    async def action_toggle_sources(self) -> None:
        if self.query_one(SourcesPanel).has_class("open"):
            self.close_sources()
            return
        answers = [v for v in self.query(MessageView) if v.role == "assistant"]
        await self.open_sources(answers[-1].sources if answers else [], 1 if answers and answers[-1].sources else None)

    # -- clipboard, sidebar, knowledge ------------------------------------------------
    def _last_answer(self) -> MessageView | None:
        answers = [v for v in self.query(MessageView) if v.role == "assistant" and v.text]
        return answers[-1] if answers else None

    def action_copy_answer(self) -> None:
        view = self._last_answer()
        if view is None:
            self.notify("No answer to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(view.text)
        self.notify("Answer copied to the clipboard.")

    def action_copy_code(self) -> None:
        for view in reversed([v for v in self.query(MessageView) if v.role == "assistant"]):
            blocks = view.code_blocks()
            if blocks:
                self.app.copy_to_clipboard(blocks[-1])
                self.notify("Code block copied to the clipboard.")
                return
        self.notify("No code block in the answers.", severity="warning")

    def action_toggle_sidebar(self) -> None:
        self.query_one(HistorySidebar).toggle_class("hidden")

    def action_search_history(self) -> None:
        self.query_one(HistorySidebar).focus_search()

    def action_rename_conversation(self) -> None:
        if self.conversation_id is None:
            return
        from app.tui.prompt_dialog import PromptDialog

        conv = self.app.history.get(self.conversation_id)

        async def done(title: str | None) -> None:
            if title:
                self.app.history.rename(conv.id, title)
                await self.query_one(HistorySidebar).reload(current=conv.id)

        self.app.push_screen(PromptDialog("Rename conversation", conv.title), done)

    def action_delete_conversation(self) -> None:
        if self.conversation_id is None or self.busy:
            return
        from app.tui.prompt_dialog import ConfirmDialog

        conv = self.app.history.get(self.conversation_id)

        async def done(yes: bool | None) -> None:
            if yes:
                self.app.history.delete(conv.id)
                await self.action_new_chat()
                self.notify(f"Deleted “{conv.title}”.")

        self.app.push_screen(ConfirmDialog(f"Delete “{conv.title}”?"), done)

    def action_export_conversation(self) -> None:
        if self.conversation_id is None:
            self.notify("Nothing to export yet.", severity="warning")
            return
        self.app.export_conversation(self.conversation_id)

    @on(Select.Changed, "#kb")
    def _kb_changed(self, event: Select.Changed) -> None:
        self.query_one(KnowledgeSelect).note_change(event.value)
        self.app.warm_knowledge(self.kb_choice())


def last_kb_choice(messages) -> str | None:
    """The knowledge choice the conversation's last question was asked with (None if not recorded)."""
    for m in reversed(messages):
        if m.role == "user" and isinstance(m.data, dict) and isinstance(m.data.get("kb"), str):
            return m.data["kb"]
    return None
