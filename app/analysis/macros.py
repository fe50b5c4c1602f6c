"""Object-like C macros expanded in place, so that pattern rules see what the compiler sees.

Semgrep does not preprocess. Code that names its calls and arguments through `#define`
(`#define EXECLP execlp`, `#define COMMAND_ARG3 data`, as NIST's Juliet suite and many embedded
code bases do) hides a `system(data)` from every rule. Only object-like macros defined once in the
file are expanded (one defined twice, e.g. per platform under #ifdef, is left alone: which body the
build uses is unknown); function-like macros, string literals and directive lines are not touched,
and every line keeps its number.
"""

from __future__ import annotations

import re

_DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)\s+(\S[^\n]*?)\s*$")
_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'')
_DEPTH = 3
"""A macro defined through another one is expanded this many levels deep."""


def definitions(code: str) -> dict[str, str]:
    """name -> body of the object-like macros defined exactly once (a trailing // comment dropped)."""
    seen: dict[str, list[str]] = {}
    for ln in code.splitlines():
        m = _DEFINE.match(ln)
        if m:  # a function-like `#define F(x) ...` does not match: no space between the name and "("
            seen.setdefault(m.group(1), []).append(re.sub(r"\s*//.*$", "", m.group(2)))
    return {k: v[0] for k, v in seen.items() if len(v) == 1 and v[0]}


def expand_simple_macros(code: str) -> str:
    """`code` with the uses of its object-like macros replaced by their bodies, line numbers kept."""
    defs = definitions(code)
    if not defs:
        return code
    word = re.compile(r"\b(" + "|".join(map(re.escape, sorted(defs, key=len, reverse=True))) + r")\b")

    def expand(segment: str) -> str:
        for _ in range(_DEPTH):
            new = word.sub(lambda m: defs[m.group(1)], segment)
            if new == segment:
                break
            segment = new
        return segment

    out = []
    for ln in code.splitlines():
        if ln.lstrip().startswith("#") or not word.search(ln):
            out.append(ln)
            continue
        parts, pos = [], 0
        for s in _STRING.finditer(ln):  # a macro's name inside a string literal stays as it is
            parts.append(expand(ln[pos:s.start()]))
            parts.append(s.group(0))
            pos = s.end()
        parts.append(expand(ln[pos:]))
        out.append("".join(parts))
    return "\n".join(out) + ("\n" if code.endswith("\n") else "")
