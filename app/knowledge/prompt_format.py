"""The RAG prompt format, defined once: numbered <source> blocks, citations as [n].

Everything that puts sources in front of a model (`bastion ask`, the TUI, `serve`)
and everything that trains a model on them (the builder's data factory) uses
these functions, so a model tuned on the format sees exactly what the app sends.

    system:  <persona>\n\n<CITE_RULES>\n\n<SOURCE_RULES>
    user:    <source n=1 from="path › heading (lines a-b)">\ntext\n</source>\n\n...\n\nQuestion: <question>
    answer:  sentences, each followed by the number(s) of its source: "... [1]." / "... [1][3]."
"""

from __future__ import annotations

import re
from typing import Protocol

from app.knowledge.guard import SOURCE_RULES, sanitize_label, sanitize_source

CITE = re.compile(r"\[(\d{1,2}(?:\s*[,;]\s*\d{1,2})*)\]")
"""A citation marker: [n], [n, m] or [n; m]."""

CITE_RULES = (
    "Answer the user's question from the numbered sources only. After each fact, put the number "
    "of the source it comes from in square brackets, like [1]. Copy the sources' own words where you can. "
    "If the sources do not answer the question, say that they do not."
)


class SourceLike(Protocol):
    text: str
    flags: tuple[str, ...]

    def label(self) -> str: ...


def source_block(n: int, text: str, where: str) -> str:
    """One numbered source block (text already sanitised)."""
    where = sanitize_label(where)  # file names and headings are document text too
    return f'<source n={n} from="{where}">\n{text.strip()}\n</source>'


def format_sources(hits: list) -> tuple[str, list]:
    """The numbered source blocks for the prompt; flags hits whose text was sanitised."""
    blocks = []
    for n, hit in enumerate(hits, 1):
        text, removed = sanitize_source(hit.text)
        if removed and "instruction-removed" not in hit.flags:
            hit.flags = hit.flags + ("instruction-removed",)
        blocks.append(source_block(n, text, hit.label()))
    return "\n\n".join(blocks), hits


def system_prompt(system: str) -> str:
    """The system turn of a RAG prompt: persona, citation rules, sources-are-data rules."""
    return f"{system.strip()}\n\n{CITE_RULES}\n\n{SOURCE_RULES}"


def user_turn(sources: str, question: str) -> str:
    return f"{sources}\n\nQuestion: {question.strip()}"


def build_rag_messages(question: str, hits: list, *, system: str, history: list[dict] | None = None) -> list[dict]:
    """System rules (persona, citations, sources-are-data), the conversation, then sources + question."""
    sources, _ = format_sources(hits)
    msgs = [{"role": "system", "content": system_prompt(system)}]
    msgs.extend(history or [])
    msgs.append({"role": "user", "content": user_turn(sources, question)})
    return msgs


def cite(numbers: list[int]) -> str:
    """The marker text for `numbers`: [1][3]."""
    return "".join(f"[{n}]" for n in numbers)


def cited_numbers(text: str) -> list[int]:
    """Source numbers cited as [n], [n, m] or [n][m], in order of first citation.

    A citation counts only on a line that also says something: a bare list of
    markers ("1. [1]") is not a claim backed by a source.
    """
    seen: list[int] = []
    for line in text.splitlines():
        if len(re.findall(r"[^\W\d_]", CITE.sub("", line))) < 3:
            continue
        for m in CITE.finditer(line):
            for part in re.split(r"[,;]", m.group(1)):
                n = int(part)
                if n not in seen:
                    seen.append(n)
    return seen
