"""Prompt-injection guard: find text in the code that addresses the reviewer, and fence code as data."""

from __future__ import annotations

import re
import secrets

_ADDRESSING = re.compile(
    r"(ignore\s+(all\s+|any\s+|the\s+|previous\s+|prior\s+)*(instructions|findings|warnings|rules|issues)"
    r"|(this|the)\s+(code|file|function)\s+is\s+(safe|secure|not\s+vulnerable|audited)"
    r"|no\s+(vulnerabilit(y|ies)|security\s+issues?)\s+(here|in\s+this)"
    r"|(label|mark|classify|report)\s+(it|this|the\s+code)?\s*(as\s+)?[\"']?safe"
    r"|you\s+are\s+now|disregard\s+(the\s+)?(above|previous)|system\s+prompt|as\s+an\s+ai)",
    re.I,
)


def addressing_lines(code: str) -> list[int]:
    """1-based lines whose text tries to instruct a reviewer (or a model)."""
    return [i for i, line in enumerate(code.splitlines(), 1) if _ADDRESSING.search(line)]


# Chat-template control tokens (ChatML, Llama, Mistral, Gemma, Phi ...). Code under review is data: a
# `<|im_start|>` in a string literal must not reach the model as a real turn boundary.
_CONTROL = re.compile(r"<\|[A-Za-z0-9_:.\-]{1,40}\|>|\[/?INST\]|<</?SYS>>|</?s>|<(start|end)_of_turn>|<\|?(bos|eos)\|?>")


def defang(text: str) -> str:
    """Break chat control tokens apart with a visible middle dot so no tokenizer reads them as control."""
    return _CONTROL.sub(lambda m: m.group(0)[0] + "\u00b7" + m.group(0)[1:], text)


def fence(code: str, *, first_line: int = 1) -> tuple[str, str]:
    """Number the lines (control tokens defanged) and wrap them in a random, unguessable fence; returns (text, tag)."""
    tag = f"CODE-{secrets.token_hex(4)}"
    numbered = "\n".join(f"{n:4d}| {defang(line)}" for n, line in enumerate(code.splitlines(), first_line))
    return f"<<<{tag}\n{numbered}\n{tag}>>>", tag
