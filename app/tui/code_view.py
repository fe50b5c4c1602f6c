"""The code under analysis, with syntax highlighting; evidence lines are selected."""

from __future__ import annotations

from textual.widgets import TextArea
from textual.widgets.text_area import Selection

# TextArea grammars (Textual ships them) for what Bastion does not analyse: an unsupported file is still
# shown highlighted. An analysis language's grammar is its registry entry's `highlight`.
OTHER_GRAMMARS = {"rust", "json", "sql", "html", "css", "yaml", "toml", "markdown", "xml", "regex"}


def grammar(language: str | None) -> str | None:
    """The TextArea grammar for a language name or alias, or None for plain text."""
    from app.analysis import languages  # the analysis package loads when the screen is used, not at start-up

    registered = languages.get(language)
    if registered is not None:
        return registered.highlight
    lang = (language or "").lower()
    return lang if lang in OTHER_GRAMMARS else None


class CodeView(TextArea):
    """An editable code box (paste here); `show_lines` selects evidence lines.

    Tab indents, so Esc is the way out (TextArea moves focus on Esc with tab_behavior="indent");
    the border says so.
    """

    DEFAULT_CSS = """
    CodeView { height: 1fr; border: round $primary; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(show_line_numbers=True, tab_behavior="indent", soft_wrap=False, **kw)
        self.border_subtitle = "Tab indents · Esc leaves"

    def set_language(self, language: str | None) -> None:
        lang = grammar(language)
        try:
            self.language = lang if lang in self.available_languages else None
        except Exception:  # a grammar that is not installed: plain text is fine
            self.language = None

    def show_lines(self, first: int, last: int | None = None) -> None:
        """Select lines first..last (1-based) and scroll them into view."""
        if first <= 0:
            return
        last = max(last or first, first)
        end_row = min(last, self.document.line_count) - 1
        start_row = min(first, self.document.line_count) - 1
        self.selection = Selection((start_row, 0), (end_row, len(self.document.get_line(end_row))))
        self.scroll_cursor_visible(center=True)
