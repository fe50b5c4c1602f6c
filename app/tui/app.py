"""The Bastion Textual app and its factory `make_app` (tests call the same factory)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App

from app.errors import BastionError, BundleError, EngineError
from app.history import History
from app.settings import Settings
from app.tui.bundle_commands import BundleCommands
from app.tui.commands import BastionCommands
from app.tui.keys import binding, keymap

if TYPE_CHECKING:
    from app.bundle.loader import Bundle
    from app.llm.engine import ChatEngine
    from app.tui.chat_screen import ChatScreen
    from app.tui.knowledge_context import KnowledgeContext

log = logging.getLogger(__name__)

APP_ACTIONS = ("show_chat", "show_analysis", "show_knowledge", "show_settings", "show_help", "command_palette", "quit")


class BastionApp(App[None]):
    """State lives here (settings, bundle, engine, history); screens read it through `self.app`."""

    TITLE = "Bastion"
    SUB_TITLE = "offline security assistant"
    CSS_PATH = "bastion.tcss"
    COMMANDS = App.COMMANDS | {BastionCommands, BundleCommands}
    BINDINGS = [binding(a, show=a in ("show_help", "show_analysis", "show_knowledge", "show_settings"))
                for a in APP_ACTIONS]
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, settings: Settings, *, bundle: "Bundle | None" = None, engine: "ChatEngine | None" = None,
                 history: History | None = None, embedder: Any = None, open_bundle: bool = True,
                 cursor_blink: bool = True) -> None:
        super().__init__()
        self.cursor_blink = cursor_blink
        self.settings = settings
        self.bundle = bundle
        self.engine: "ChatEngine | None" = engine
        self.embedder = embedder
        self.history = history or History()
        self.engine_state = "starting"
        self.engine_ready = threading.Event()
        self.bundle_settled = threading.Event()
        """Set once the bundle has opened (engine made) or failed; a question asked earlier waits for it."""
        self.bundle_error: BastionError | None = None
        self.chat_screen: "ChatScreen | None" = None
        self.knowledge: "KnowledgeContext | None" = None
        self._open_bundle_on_mount = open_bundle
        from app.tui.analysis_screen import AnalysisScreen
        from app.tui.chat_screen import ChatScreen
        from app.tui.knowledge_screen import KnowledgeScreen

        self.add_mode("chat", ChatScreen)
        self.add_mode("analysis", AnalysisScreen)
        self.add_mode("knowledge", KnowledgeScreen)

    # -- start-up ------------------------------------------------------------------
    async def on_mount(self) -> None:
        self.set_keymap(keymap(self.settings.keys))
        self.screen_change_signal.subscribe(self, lambda screen: self.call_after_refresh(self._apply_blink))
        await self.switch_mode("chat")
        if self.engine is not None:
            if self.bundle is not None:
                from app.tui.knowledge_context import KnowledgeContext

                self.knowledge = KnowledgeContext(self.settings, self.bundle, embedder=self.embedder)
                self.chat_screen.refresh_knowledge()
            self._engine_loaded_or_load()
        elif self.bundle is not None:
            self._bundle_ready(self.bundle)
        elif self._open_bundle_on_mount:  # after the first paint: the worker's hashing and imports slowed it ~3x
            self.call_after_refresh(self.open_bundle)
            return
        self.bundle_settled.set()  # nothing (more) to open: a question never waits for a bundle

    @work(thread=True, exclusive=True, group="bundle")
    def open_bundle(self) -> None:
        """Open and verify the configured bundle off the event loop."""
        from app.runtime import open_bundle

        self.call_from_thread(self.set_engine_state, "opening bundle")
        try:
            bundle = open_bundle(self.settings)
        except BundleError as exc:
            self.call_from_thread(self._bundle_failed, exc)
            return
        except BaseException:  # the worker's error ends the app: nothing may go on waiting for the bundle
            self.bundle_settled.set()
            raise
        self.call_from_thread(self._bundle_ready, bundle)

    def _bundle_ready(self, bundle: Any) -> None:
        try:
            self._use_bundle(bundle)
        finally:
            self.bundle_settled.set()

    def _use_bundle(self, bundle: Any) -> None:
        from app.runtime import make_engine

        from app.tui.knowledge_context import KnowledgeContext

        self.bundle = bundle
        self.bundle_error = None
        if self.knowledge is not None:
            self.knowledge.close()
        self.knowledge = KnowledgeContext(self.settings, bundle, embedder=self.embedder)
        try:
            self.engine = make_engine(self.settings, bundle)
        except BastionError as exc:
            self.notify(str(exc), title="Model", severity="error", timeout=10)
            self.set_engine_state("no model")
            return
        if self.chat_screen is not None:
            self.chat_screen.refresh_knowledge()
        self._engine_loaded_or_load()

    def _bundle_failed(self, exc: BundleError) -> None:
        from app.tui.bundle_error_screen import BundleErrorScreen
        from app.tui.first_run_screen import FirstRunScreen

        self.bundle_error = exc
        self.bundle_settled.set()
        self.set_engine_state("no bundle")
        path = self.settings.bundle_path()
        if self.settings.bundle is None and not path.exists():
            self.push_screen(FirstRunScreen(str(path)))
        else:
            self.push_screen(BundleErrorScreen(exc, str(path)))

    def _engine_loaded_or_load(self) -> None:
        if self.engine is None or self.engine.loaded:
            self.engine_ready.set()
            self.set_engine_state("ready")
        else:
            self.load_engine(self.engine, self.engine_ready)

    @work(thread=True, exclusive=True, group="engine")
    def load_engine(self, engine: "ChatEngine", ready: threading.Event) -> None:
        """Load the model in a thread; the UI stays live and shows the state.

        Takes the engine it was started for: a bundle switch (`apply_settings`) may replace
        `self.engine` while this one loads, and then this one is closed, not announced."""
        self.call_from_thread(self.set_engine_state, "loading model")
        try:
            engine.load()
        except BastionError as exc:
            if self.engine is engine:
                self.call_from_thread(self.notify, str(exc), title="Model", severity="error", timeout=10)
                self.call_from_thread(self.set_engine_state, "model failed")
            return
        if self.engine is not engine:  # switched away while loading
            engine.close()
            return
        ready.set()
        self.call_from_thread(self.set_engine_state, "ready")

    @work(thread=True, exclusive=True, group="kb-warm")
    def warm_knowledge(self, choice: str) -> None:
        """Open a retriever (and the embedder) ahead of the first question that needs it."""
        if self.knowledge is None or choice == "none":
            return
        try:
            self.knowledge.retriever(choice)
        except BastionError as exc:
            log.info("knowledge not ready: %s", exc)

    def set_engine_state(self, state: str) -> None:
        self.engine_state = state
        self.refresh_status()

    def refresh_status(self) -> None:
        chat = self.chat_screen
        if chat is None or not chat.is_mounted:
            return
        status = chat.status
        status.model = self.engine.name if self.engine is not None else "no model"
        from app.tui.status_line import bundle_label

        status.bundle = bundle_label(self.bundle)  # name and signer
        if not chat.busy:
            status.state = self.engine_state

    def _apply_blink(self, screen=None) -> None:
        if self.cursor_blink:
            return
        for widget in self.screen.query("Input, TextArea"):
            widget.cursor_blink = False

    # -- services for screens --------------------------------------------------------
    def chat_engine(self) -> ChatEngine:
        """The engine, once loaded (call from a worker thread: it waits for the bundle to open and the model
        to load, so a question typed while Bastion starts is answered, not refused)."""
        self.bundle_settled.wait()
        if self.engine is None:
            raise EngineError("no model is loaded", hint="open a bundle: see the bundle screen or Settings (F5)")
        self.engine.load()
        return self.engine

    def automatic_kb(self) -> str:
        """The knowledge choice the selector starts on, the broadest available (call from a worker thread)."""
        from app.tui.kb_select import kb_options

        return kb_options(self.bundle, self.user_knowledge_bases())[0][1]

    def user_knowledge_bases(self) -> list[str]:
        """Names of the user's knowledge bases (opens chroma: call from a worker thread)."""
        from app.knowledge import list_knowledge_bases
        from app.tui.knowledge_context import CHROMA_LOCK

        try:
            with CHROMA_LOCK:
                return [kb.name for kb in list_knowledge_bases(url=self.settings.retrieval.chroma_url)]
        except BastionError as exc:
            log.warning("knowledge bases: %s", exc)
            return []

    def knowledge_changed(self) -> None:
        """A knowledge base was added, re-synced or removed: reopen retrievers, refresh selectors."""
        if self.knowledge is not None:
            self.knowledge.invalidate()
        if self.chat_screen is not None:
            self.chat_screen.refresh_knowledge()

    def knowledge_context(self) -> "KnowledgeContext | None":
        return self.knowledge

    def unsent_draft(self) -> str:
        """The text in the chat box, not sent yet (kept across quits and crashes by `app.tui.crash`)."""
        chat = self.chat_screen
        return chat.chat_input.text if chat is not None and chat.chat_input is not None else ""

    def apply_settings(self, new: Settings) -> Path:
        """Save settings; reopen the bundle and engine if what they depend on changed."""
        from app.settings import save_settings

        path = save_settings(new)
        old, self.settings = self.settings, new
        self.set_keymap(keymap(new.keys))
        if old.bundle_path() != new.bundle_path() or old.engine != new.engine:
            if self.engine is not None and not (self.chat_screen and self.chat_screen.busy):
                self.engine.close()
            self.engine, self.engine_ready = None, threading.Event()
            self.bundle_settled.clear()
            self.open_bundle()
        return path

    def export_conversation(self, conversation_id: int) -> None:
        from app import paths
        from app.tui.prompt_dialog import PromptDialog

        conv = self.history.get(conversation_id)
        slug = "".join(c if c.isalnum() else "-" for c in conv.title.lower()).strip("-")[:40] or "conversation"
        default = paths.home() / "exports" / f"{conv.id}-{slug}.md"

        def done(target: str | None) -> None:
            if not target:
                return
            try:
                out = self.history.export_markdown(conv.id, Path(target))
            except (OSError, BastionError) as exc:
                self.notify(f"Could not export: {exc}", severity="error")
                return
            self.notify(f"Exported to {out}")

        self.push_screen(PromptDialog("Export to Markdown file", str(default)), done)

    def open_analysis(self, conversation_id: int) -> None:
        async def go() -> None:
            await self.switch_mode("analysis")
            await self.screen.load_analysis(conversation_id)

        self.call_later(go)

    async def run_palette_action(self, action_id: str, where: str) -> None:
        from app.tui.keys import ACTIONS

        action = ACTIONS[action_id][1]
        if where == "app":
            await self.run_action(action)
            return
        if self.current_mode != where:
            await self.switch_mode(where)
        await self.run_action(action, self.screen)

    # -- navigation --------------------------------------------------------------------
    async def action_show_chat(self) -> None:
        await self.switch_mode("chat")

    async def action_show_analysis(self) -> None:
        await self.switch_mode("analysis")

    async def action_show_knowledge(self) -> None:
        await self.switch_mode("knowledge")

    def action_show_settings(self) -> None:
        from app.tui.settings_screen import SettingsScreen

        self.push_screen(SettingsScreen())

    def action_show_help(self) -> None:
        from app.tui.help_screen import HelpScreen

        self.push_screen(HelpScreen())

    def on_unmount(self) -> None:
        if self.knowledge is not None:
            self.knowledge.invalidate()
        if self.engine is not None and self._own_engine:
            self.engine.close()

    _own_engine = False


def make_app(settings: Settings, bundle: Any = None, engine: Any = None, *, history: History | None = None,
             embedder: Any = None, open_bundle: bool = True, cursor_blink: bool = True) -> BastionApp:
    """Build the app. Pass a loaded `bundle`/`engine`/`embedder` to reuse them (tests); else they open in workers.

    `cursor_blink=False` keeps snapshots deterministic.
    """
    app = BastionApp(settings, bundle=bundle, engine=engine, history=history, embedder=embedder,
                     open_bundle=open_bundle, cursor_blink=cursor_blink)
    app._own_engine = engine is None
    return app
