"""The knowledge-base selector: everything, the bundle's index, one user base, or none."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Select

from app.tui.knowledge_context import ALL_KNOWLEDGE, BUNDLE_INDEX, NO_KNOWLEDGE

if TYPE_CHECKING:
    from app.bundle.loader import Bundle


def kb_options(bundle: "Bundle | None", user_bases: list[str]) -> list[tuple[str, str]]:
    """(label, value) pairs, the broadest first."""
    has_index = bundle is not None and bundle.index_path is not None
    opts = []
    if has_index and user_bases:
        opts.append(("All knowledge", ALL_KNOWLEDGE))
    if has_index:
        opts.append(("Bundle knowledge", BUNDLE_INDEX))
    opts += [(f"KB: {name}", f"kb:{name}") for name in user_bases]
    opts.append(("No knowledge (model only)", NO_KNOWLEDGE))
    return opts


class KnowledgeSelect(Select[str]):
    """Starts on the broadest choice available; an explicit choice (the user's, or the one a resumed
    conversation used) is kept across refreshes, and applied as soon as it becomes available."""

    DEFAULT_CSS = """
    KnowledgeSelect { width: 40; }
    """

    def __init__(self, **kw) -> None:
        super().__init__([("No knowledge (model only)", NO_KNOWLEDGE)], value=NO_KNOWLEDGE,
                         allow_blank=False, prompt="Knowledge", **kw)
        self.wanted: str | None = None
        self.auto_value: str = NO_KNOWLEDGE
        self.kb_values: list[str] = [NO_KNOWLEDGE]
        self.options_bundle = None
        self.loaded = False
        """False until the choices are first listed; `options_bundle` is the bundle they were listed for."""

    def current_choice(self, bundle, settled: bool) -> str | None:
        """The choice a question asked now uses. None = the automatic one, not known yet: the bundle is still
        opening (`settled` False) or the choices shown were listed before it opened."""
        if settled and self.loaded and self.options_bundle is bundle:
            return self.value if isinstance(self.value, str) else NO_KNOWLEDGE
        return self.wanted

    def refresh_options(self, bundle, user_bases: list[str]) -> None:
        opts = kb_options(bundle, user_bases)
        self.options_bundle = bundle
        self.kb_values = [v for _, v in opts]
        self.set_options(opts)
        value = self.wanted if self.wanted in self.kb_values else self.kb_values[0]
        self.auto_value = value
        self.value = value
        self.loaded = True

    def choose(self, value: str) -> None:
        """Make `value` the explicit choice (applied now if available, else when it appears)."""
        self.wanted = value
        if value in self.kb_values:
            self.value = value

    def note_change(self, value) -> None:
        """Called on Select.Changed: a value other than the automatic one was picked by the user."""
        if isinstance(value, str) and value != self.auto_value:
            self.wanted = value
