"""The knowledge-base selector: everything, the bundle's index, one user base, or none."""

from __future__ import annotations

from textual.widgets import Select

from app.tui.knowledge_context import ALL_KNOWLEDGE, BUNDLE_INDEX, NO_KNOWLEDGE


def kb_options(bundle, user_bases: list[str]) -> list[tuple[str, str]]:
    """(label, value) pairs, the broadest first."""
    has_index = bundle is not None and getattr(bundle, "index_path", None) is not None
    opts = []
    if has_index and user_bases:
        opts.append(("All knowledge", ALL_KNOWLEDGE))
    if has_index:
        opts.append(("Bundle knowledge", BUNDLE_INDEX))
    opts += [(f"KB: {name}", f"kb:{name}") for name in user_bases]
    opts.append(("No knowledge (model only)", NO_KNOWLEDGE))
    return opts


class KnowledgeSelect(Select[str]):
    DEFAULT_CSS = """
    KnowledgeSelect { width: 40; }
    """

    def __init__(self, **kw) -> None:
        super().__init__([("No knowledge (model only)", NO_KNOWLEDGE)], value=NO_KNOWLEDGE,
                         allow_blank=False, prompt="Knowledge", **kw)

    def refresh_options(self, bundle, user_bases: list[str]) -> None:
        opts = kb_options(bundle, user_bases)
        keep = self.value
        self.set_options(opts)
        values = [v for _, v in opts]
        self.value = keep if keep in values and keep != NO_KNOWLEDGE else values[0]
