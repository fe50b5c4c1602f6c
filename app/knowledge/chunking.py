"""Structure-aware chunking, sized in the embedder's tokens.

Markdown: split at headings; every chunk keeps its heading path ("Title > Section");
fenced code blocks stay whole when they fit. Source code: split at top-level
function/class boundaries (leading comments and decorators stay with their
definition). Text without spaces (Chinese, Japanese) is split at sentence
punctuation, then by size. Each chunk records its line range and a content hash.

`chunk_document` needs only a `count_tokens` function, so the builder can use it
with any tokenizer (`approx_tokens` when there is none).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Callable

from app.knowledge.loaders import Document

CountFn = Callable[[str], int]

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SENTENCE = re.compile(r"(?<=[.!?。！？；;])\s+|(?<=[。！？；])")
_DEF = re.compile(
    r"^(?:@|(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:def|class|function|func|fn|interface|struct|enum|"
    r"impl|trait|module|sub|procedure|create|public|private|protected|internal|static|abstract|final|"
    r"template|namespace|type|object)\b)",
    re.IGNORECASE,
)
_MAX_HEADING = 1000
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class ChunkOptions:
    max_tokens: int = 200
    """Most embedder tokens in one chunk, heading prefix included (keep below the embedder's limit)."""
    overlap_tokens: int = 32
    """Tokens of the previous chunk repeated at the start of the next one in the same section."""


@dataclass
class Chunk:
    text: str
    """The chunk body as shown to users and the model."""
    heading: str
    """Heading path ("Title > Section"), a code unit's signature, or '' ."""
    start_line: int
    end_line: int
    index: int = 0
    hash: str = field(default="")

    @property
    def embed_text(self) -> str:
        """What the embedder and BM25 see: heading path then body."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


@dataclass
class _Block:
    text: str
    start: int
    end: int
    heading: str
    atomic: bool = False  # a code fence or a code unit: split only if it cannot fit


def approx_tokens(text: str) -> int:
    """A tokenizer-free estimate: ~4 characters a token, one a CJK character."""
    cjk = len(_CJK.findall(text))
    return cjk + (len(text) - cjk) // 4 + 1


def chunk_document(doc: Document, *, count_tokens: CountFn = approx_tokens, options: ChunkOptions | None = None) -> list[Chunk]:
    """Split a loaded document into chunks that fit the embedder."""
    opts = options or ChunkOptions()
    if doc.kind == "code":
        blocks = _code_blocks(doc.text)
    elif doc.kind == "jsonl":
        blocks = _line_blocks(doc.text)
    else:
        blocks = _markdown_blocks(doc.text, title=doc.path.stem if doc.kind == "text" else "")
    chunks = _pack(blocks, count_tokens, opts)
    for i, c in enumerate(chunks):
        c.index = i
        c.hash = hashlib.sha256(c.embed_text.encode("utf-8")).hexdigest()[:16]
    return chunks


def drop_repeats(chunks: list[Chunk]) -> tuple[list[Chunk], int]:
    """Keep the first of chunks with the same embedded text; returns (kept, dropped).

    A repeated chunk adds nothing a search could find, and generated or hostile files
    (a 4 MB line of one letter, a text of one word 1.2 million times) are mostly repeats:
    indexing them cost minutes of embedding for one distinct vector.
    """
    seen: set[str] = set()
    kept = []
    for c in chunks:
        if c.hash not in seen:
            seen.add(c.hash)
            kept.append(c)
    for i, c in enumerate(kept):
        c.index = i
    return kept, len(chunks) - len(kept)


# -- blocks -------------------------------------------------------------------------
def _markdown_blocks(text: str, *, title: str = "") -> list[_Block]:
    lines = text.splitlines()
    path: list[tuple[int, str]] = []
    blocks: list[_Block] = []
    buf: list[str] = []
    start = 0
    fence: str | None = None

    def heading() -> str:
        return " > ".join(h for _, h in path) or title

    def flush(end: int, *, atomic: bool = False) -> None:
        nonlocal buf
        body = "\n".join(buf).strip("\n")
        if body.strip():
            blocks.append(_Block(body, start, end, heading(), atomic))
        buf = []

    for n, line in enumerate(lines, 1):
        if fence:
            buf.append(line)
            if line.strip().startswith(fence):
                flush(n, atomic=True)
                fence = None
            continue
        m_fence = _FENCE.match(line)
        if m_fence:
            flush(n - 1)
            fence, start, buf = m_fence.group(1), n, [line]
            continue
        m = _HEADING.match(line) if len(line) <= _MAX_HEADING else None  # a long line is text (and the regex stays linear)
        if m:
            flush(n - 1)
            level = len(m.group(1))
            path = [(lv, h) for lv, h in path if lv < level] + [(level, m.group(2).strip())]
            continue
        if not line.strip():
            flush(n - 1)
            continue
        if not buf:
            start = n
        buf.append(line)
    flush(len(lines), atomic=bool(fence))
    return blocks


def _code_blocks(text: str) -> list[_Block]:
    """Top-level units: a definition with its leading comments/decorators, or the code between."""
    lines = text.splitlines()
    starts = [0]
    run = 0  # first line of the run of comment/decorator lines just above line i (linear, not a walk back per def)
    for i, line in enumerate(lines):
        if i and not _lead_in(lines[i - 1]):
            run = i
        if i and line and not line[0].isspace() and _DEF.match(line):
            j = run
            if j > starts[-1]:
                starts.append(j)
    starts.append(len(lines))
    blocks = []
    for a, b in zip(starts, starts[1:]):
        body = "\n".join(lines[a:b]).strip("\n")
        if not body.strip():
            continue
        sig = next((ln.strip() for ln in lines[a:b] if _DEF.match(ln) and not ln.startswith("@")), "")
        first = a + next(i for i, ln in enumerate(lines[a:b]) if ln.strip())
        last = a + max(i for i, ln in enumerate(lines[a:b]) if ln.strip())
        blocks.append(_Block(body, first + 1, last + 1, sig[:120], atomic=True))
    return blocks


def _lead_in(line: str) -> bool:
    """A top-level comment or decorator line, which stays with the definition below it."""
    return line.strip().startswith(("#", "//", "/*", "*", "@", "--")) and not line[:1].isspace()


def _line_blocks(text: str) -> list[_Block]:
    return [_Block(ln, n, n, "") for n, ln in enumerate(text.splitlines(), 1) if ln.strip()]


# -- packing -------------------------------------------------------------------------
def _pack(blocks: list[_Block], count: CountFn, opts: ChunkOptions) -> list[Chunk]:
    chunks: list[Chunk] = []
    cur: list[_Block] = []
    cur_tokens = 0

    def emit() -> None:
        nonlocal cur, cur_tokens
        if cur:
            sep = "\n" if cur[0].atomic and all(b.atomic for b in cur) and not cur[0].text.startswith(("```", "~~~")) else "\n\n"
            chunks.append(Chunk(sep.join(b.text for b in cur), cur[0].heading, cur[0].start, cur[-1].end))
        cur, cur_tokens = [], 0

    for block in blocks:
        budget = opts.max_tokens - count(block.heading) - 1 if block.heading else opts.max_tokens
        budget = max(budget, 16)
        size = count(block.text)
        if cur and (block.heading != cur[0].heading or cur_tokens + size > budget):
            prev = cur
            emit()
            tail = prev[-1]
            tail_size = count(tail.text)
            if (block.heading == tail.heading and not tail.atomic and tail_size <= opts.overlap_tokens
                    and tail_size + size <= budget and len(prev) > 1):
                cur, cur_tokens = [tail], tail_size
        if size > budget:
            emit()
            for piece in _split_block(block, count, budget):
                chunks.append(Chunk(piece.text, piece.heading, piece.start, piece.end))
            continue
        cur.append(block)
        cur_tokens += size
    emit()
    return chunks


def _split_block(block: _Block, count: CountFn, budget: int) -> list[_Block]:
    """Split an oversized block: code by lines, prose by sentences, then by characters."""
    if block.atomic or "\n" in block.text.strip():
        units = [(ln, block.start + i, block.start + i) for i, ln in enumerate(block.text.split("\n"))]
        joiner = "\n"
    else:
        units = [(s, block.start, block.end) for s in _SENTENCE.split(block.text) if s]
        joiner = "" if _CJK.search(block.text) else " "
    out: list[_Block] = []
    buf: list[tuple[str, int, int]] = []
    size = 0
    for text, a, b in units:
        t = count(text)
        if t > budget:  # one enormous line or sentence: cut by characters
            for piece in _split_chars(text, count, budget):
                out.append(_Block(piece, a, b, block.heading))
            continue
        if buf and size + t > budget:
            out.append(_Block(joiner.join(u[0] for u in buf), buf[0][1], buf[-1][2], block.heading))
            buf, size = [], 0
        buf.append((text, a, b))
        size += t
    if buf:
        out.append(_Block(joiner.join(u[0] for u in buf), buf[0][1], buf[-1][2], block.heading))
    return [b for b in out if b.text.strip()]


_MAX_CHARS_PER_TOKEN = 16
"""Cut windows hold at most budget*16 characters, so each cut tokenizes a bounded slice (linear overall)."""


def _split_chars(text: str, count: CountFn, budget: int) -> list[str]:
    out = []
    pos = 0
    while pos < len(text):
        n = min(len(text) - pos, budget * _MAX_CHARS_PER_TOKEN)
        while n > 1 and (c := count(text[pos:pos + n])) > budget:
            n = max(1, min(n - 1, int(n * budget / max(c, 1) * 0.95)))
        out.append(text[pos:pos + n])
        pos += n
    return out
