"""Turn files into text: Markdown, plain text, HTML, PDF, source code, JSON/JSONL.

`load_file` returns a `Document` or raises `Skip` with a reason the ingest
report shows (unsupported type, binary, too large, corrupt PDF ...). It never
lets a bad file crash an ingest. HTML and PDF are converted to Markdown-like
text (headings kept, `# Page N` per PDF page), so line numbers refer to that text.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from app.knowledge.html_text import HtmlUnreadable, html_to_markdown

log = logging.getLogger(__name__)

MARKDOWN = {".md", ".markdown", ".mdx", ".rst"}
TEXT = {".txt", ".text", ".log", ".csv", ".ini", ".cfg", ".conf", ".toml", ".env.example"}
HTML = {".html", ".htm", ".xhtml"}
PDF = {".pdf"}
JSONS = {".json", ".jsonl", ".ndjson"}
CODE = {
    ".py", ".pyi", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".java", ".kt", ".kts", ".scala",
    ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".cs", ".go", ".rs", ".php", ".rb", ".swift",
    ".m", ".mm", ".sh", ".bash", ".zsh", ".ps1", ".sql", ".yaml", ".yml", ".xml", ".lua", ".pl",
    ".pm", ".r", ".dart", ".tf", ".hcl", ".gradle", ".groovy", ".vue", ".svelte",
}
CODE_NAMES = {"dockerfile", "makefile", "jenkinsfile", "vagrantfile", "gemfile", "rakefile"}
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".mypy_cache",
             ".pytest_cache", ".idea", ".vscode", "dist", "build", ".chroma"}

MAX_TEXT_BYTES = 10_000_000
MAX_PDF_BYTES = 100_000_000
PDF_BUDGET_S = 60.0


class Skip(Exception):
    """This file is not ingested; the message is the reason shown to the user."""


@dataclass
class Document:
    path: Path
    text: str
    kind: str
    """markdown | text | code | html | pdf | jsonl"""
    language: str = ""
    """File extension for code (py, js, ...)."""


def kind_of(path: Path) -> str | None:
    """The loader kind for a path, or None when the type is not supported."""
    suffix = path.suffix.lower()
    name = path.name.lower()
    if suffix in MARKDOWN:
        return "markdown"
    if suffix in HTML:
        return "html"
    if suffix in PDF:
        return "pdf"
    if suffix in JSONS:
        return "jsonl"
    if suffix in CODE or name in CODE_NAMES:
        return "code"
    if suffix in TEXT or name.endswith(".env.example") or (suffix == "" and not name.startswith(".")):
        return "text"
    return None


def load_file(path: Path, *, max_bytes: int | None = None) -> Document:
    """Read one file into a `Document`, or raise `Skip` saying why not."""
    path = Path(path)
    kind = kind_of(path)
    if kind is None:
        raise Skip(f"unsupported file type '{path.suffix or path.name}'")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise Skip(f"cannot read: {exc.strerror or exc}") from None
    limit = max_bytes or (MAX_PDF_BYTES if kind == "pdf" else MAX_TEXT_BYTES)
    if size > limit:
        raise Skip(f"too large ({size / 1e6:.3g} MB > {limit / 1e6:g} MB limit); split it, or raise the limit "
                   "with `bastion ingest --max-file-mb N` or `max_file_mb = N` under [retrieval] in config.toml")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Skip(f"cannot read: {exc.strerror or exc}") from None
    if kind == "pdf":
        return Document(path, _pdf_text(data), "pdf")
    text = decode_text(data)
    if kind == "html":
        try:
            return Document(path, html_to_markdown(text), "html")
        except HtmlUnreadable as exc:
            raise Skip(f"HTML {exc}") from None
    if kind == "jsonl":
        return Document(path, _json_text(text, path), "jsonl")
    if kind == "code":
        return Document(path, text, "code", language=path.suffix.lower().lstrip(".") or path.name.lower())
    return Document(path, text, kind)


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; anything else is binary."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise Skip("not valid UTF-16 text") from None
    if b"\x00" in data[:8192]:
        raise Skip("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Skip(f"not UTF-8 text (bad byte at offset {exc.start}); convert it to UTF-8") from None


def _pdf_text(data: bytes) -> str:
    import io

    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise Skip("encrypted PDF (needs a password)")
            except Skip:
                raise
            except Exception:
                raise Skip("encrypted PDF (needs a password)") from None
        pages = []
        deadline, chars = time.monotonic() + PDF_BUDGET_S, 0
        for i, page in enumerate(reader.pages, 1):
            if time.monotonic() > deadline:  # pypdf is pure Python: a hostile page list can take minutes
                raise Skip(f"PDF took over {PDF_BUDGET_S:g} s to read (stopped at page {i}); "
                           "convert it to text (e.g. `pdftotext`) and ingest that")
            text = (page.extract_text() or "").strip()
            chars += len(text)
            if chars > MAX_TEXT_BYTES:
                raise Skip(f"PDF text passes {MAX_TEXT_BYTES / 1e6:g} MB by page {i} (a decompression bomb, or a "
                           "book to split); split it and ingest the parts")
            if text:
                pages.append(f"# Page {i}\n\n{text}")
    except Skip:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files
        raise Skip(f"corrupt or unreadable PDF ({type(exc).__name__}: {str(exc)[:120]})") from None
    if not pages:
        raise Skip("PDF has no extractable text (scanned images need OCR first)")
    return "\n\n".join(pages) + "\n"


def _json_text(text: str, path: Path) -> str:
    """One record per line: the record's `text` field, else the whole record as JSON."""
    stripped = text.lstrip()
    if path.suffix.lower() == ".json" and stripped[:1] in ("[", "{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise Skip(f"invalid JSON at line {exc.lineno}: {exc.msg}") from None
        except RecursionError:
            raise Skip(_TOO_DEEP) from None
        except ValueError as exc:  # an integer of more than 4300 digits (Python's int-parsing limit)
            raise Skip(f"unreadable JSON: {str(exc)[:80]}") from None
        records = data if isinstance(data, list) else [data]
    else:
        records = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                records.append(None)
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise Skip(f"invalid JSON on line {n}: {exc.msg}") from None
            except RecursionError:
                raise Skip(f"line {n}: {_TOO_DEEP}") from None
            except ValueError as exc:  # an integer of more than 4300 digits
                raise Skip(f"unreadable JSON on line {n}: {str(exc)[:80]}") from None
    lines = []
    for rec in records:
        if rec is None:
            lines.append("")
        elif isinstance(rec, dict) and isinstance(rec.get("text"), str):
            lines.append(" ".join(rec["text"].split()))
        else:
            try:
                lines.append(json.dumps(rec, ensure_ascii=False))
            except RecursionError:
                raise Skip(_TOO_DEEP) from None
    # "\udfff" escapes decode to lone surrogates, which no UTF-8 store accepts: replace them
    return ("\n".join(lines) + "\n").encode("utf-8", "replace").decode("utf-8")


_TOO_DEEP = "JSON nested too deeply to index (hundreds of levels); flatten it"


def iter_files(root: Path, *, follow_links: bool = False):
    """Files under `root` (or root itself), skipping hidden and tool directories.

    A symlink whose target lies outside `root` is skipped unless `follow_links`:
    a folder of documents must not pull in /etc/passwd or ~/.ssh through a link.
    """
    root = Path(root)
    if root.is_file():
        yield root
        return
    real_root = root.resolve()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).parts
        if any(p in SKIP_DIRS or p.startswith(".") for p in rel[:-1]):
            continue
        if path.name.startswith(".") or not path.is_file():
            continue
        if not follow_links and path.is_symlink() and not path.resolve().is_relative_to(real_root):
            log.info("skipping %s: a link that leaves %s", path, root)
            continue
        yield path
