"""HTML to Markdown-like text in one linear pass, with a time budget.

Why not BeautifulSoup: it builds a tree, and hostile pages made it the slowest
part of an ingest (120 000 unclosed tags or 100 000 `<!--` took over 20 s each,
found by the red-team round of issue 29). This converter streams the stdlib
tokenizer's events, keeps no tree (nesting depth costs nothing), strips
comments in a linear pre-pass (the tokenizer re-scans an unterminated comment
once per `<`), escapes a trailing run of unterminated `<` constructs, and feeds
the tokenizer in slices so a page that is still slow is refused with a reason
instead of stalling the ingest.
"""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
BLOCKS = HEADINGS | {"p", "pre", "li", "td", "th", "blockquote", "dt", "dd", "div", "section", "article",
                     "main", "header", "aside", "tr", "table", "ul", "ol", "dl", "br", "hr", "figure",
                     "figcaption", "caption", "details", "summary", "form", "fieldset", "address"}
HIDDEN = {"script", "style", "noscript", "template", "svg", "nav", "footer", "title", "iframe",
          "object", "math"}
VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"}
SLICE = 65_536
BUDGET_S = 10.0


class HtmlUnreadable(Exception):
    """The page did not convert within the budget, or the tokenizer gave up on it."""


def strip_comments(html: str) -> str:
    """Remove `<!-- ... -->`; an unterminated comment runs to the end (as in browsers)."""
    out: list[str] = []
    pos = 0
    while True:
        start = html.find("<!--", pos)
        if start < 0:
            out.append(html[pos:])
            break
        out.append(html[pos:start])
        end = html.find("-->", start + 4)
        if end < 0:
            break
        pos = end + 3
    return "".join(out)


_TAIL_LT = re.compile(r"<(?=[^>]*$)")


def escape_unterminated(html: str) -> str:
    """After the last `>` no `<` can open a complete construct: make them text."""
    cut = html.rfind(">") + 1
    tail = html[cut:]
    return html[:cut] + tail.replace("<", "&lt;") if "<" in tail else html


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.buf: list[str] = []
        self.prefix = ""
        self.hidden = 0
        self.pre = 0

    def _flush(self) -> None:
        if self.pre:
            return
        text = " ".join("".join(self.buf).split())
        self.buf = []
        if text:
            self.blocks.append(self.prefix + text)
            self.prefix = ""

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in HIDDEN:
            self.hidden += 1
            return
        if self.hidden:
            return
        if tag == "pre":
            self._flush()
            self.pre += 1
            return
        if tag in BLOCKS:
            self._flush()
            if tag in HEADINGS:
                self.prefix = "#" * int(tag[1]) + " "
            elif tag == "li":
                self.prefix = "- "

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in BLOCKS and not self.hidden:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN:
            self.hidden = max(0, self.hidden - 1)
            return
        if self.hidden:
            return
        if tag == "pre" and self.pre:
            self.pre -= 1
            if not self.pre:
                code = "".join(self.buf).strip("\n")
                self.buf = []
                if code.strip():
                    self.blocks.append("```\n" + code + "\n```")
            return
        if tag in BLOCKS:
            self._flush()
            if tag in HEADINGS:
                self.prefix = ""

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.buf.append(data)


def html_to_markdown(html: str, *, budget_s: float = BUDGET_S) -> str:
    """Headings become `#` lines, <pre> fenced code, list items `- `, other blocks paragraphs.

    Raises `HtmlUnreadable` when the page takes longer than `budget_s` to convert.
    """
    html = escape_unterminated(strip_comments(html))
    deadline = time.monotonic() + budget_s
    try:
        return _convert(html, deadline, budget_s)
    except (AssertionError, ValueError):
        # Python 3.11's tokenizer asserts on some malformed `<!` declarations (`<![<![`);
        # read every `<!` other than a doctype as text instead.
        return _convert(_BANG.sub("&lt;!", html), deadline, budget_s)


_BANG = re.compile(r"<!(?!doctype)", re.IGNORECASE)


def _convert(html: str, deadline: float, budget_s: float) -> str:
    conv = _Converter()
    for start in range(0, len(html), SLICE):
        conv.feed(html[start:start + SLICE])
        if time.monotonic() > deadline:
            raise HtmlUnreadable(f"took over {budget_s:g} s to convert ({len(html):,} characters); "
                                 "save it as text or Markdown and ingest that")
    conv.close()
    conv.pre = 0
    conv._flush()
    return "\n\n".join(conv.blocks) + "\n" if conv.blocks else ""
