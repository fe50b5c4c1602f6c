"""Does a patch keep what the code did apart from the fix? Reasons a patch cannot be "verified".

A patch can silence every rule by deleting the sink: `p = root / name` -> `10`, `return page` ->
`failsafe`. Those parse, and no rule fires on them, so re-running the rules cannot catch them. The
checks here can: a patch may not drop a `return`, add a statement with no effect, or leave a name
used that nothing defines (including a variable the removed line used to assign). Python gets the
AST checks; other languages get the textual ones (return kept, no bare-expression line).
"""

from __future__ import annotations

import ast
import builtins
import re

_BUILTINS = set(dir(builtins)) | {"__file__", "__name__", "__doc__", "__builtins__", "__spec__", "__package__"}


def _python_facts(code: str) -> tuple[set[str], int, list[str]] | None:
    """(names used but bound nowhere, number of returns, no-effect statements) or None if it does not parse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    bound: set[str] = set()
    used: set[str] = set()
    returns = 0
    no_effect: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bound.add(node.rest)
        elif isinstance(node, ast.Return):
            returns += 1
        elif isinstance(node, ast.Expr) and not isinstance(node.value, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom)):
            if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):  # docstrings
                if not (isinstance(node.value, ast.Constant) and node.value.value is Ellipsis):
                    no_effect.append(ast.get_source_segment(code, node) or ast.dump(node.value)[:40])
    return used - bound - _BUILTINS, returns, no_effect


_RETURN = re.compile(r"\breturn\b")
# a line that is only a name, a number or an arithmetic of them: `10`, `failsafe`, `f-defensive`
_BARE = re.compile(r"^\s*[\w.]+(\s*[-+*/%]\s*[\w.]+)*\s*;?\s*$")
_NOT_BARE = re.compile(r"^\s*(return|break|continue|pass|else|end|fi|done|esac|then|do|try|finally|default)\b\s*;?\s*$")


def problems(original: str, patched: str, lang: str, removed: str, added: str) -> list[str]:
    """Why the patch changes more than the fix needs ([] when none found)."""
    out: list[str] = []
    if lang == "python":
        before, after = _python_facts(original), _python_facts(patched)
        if before and after:
            new_free = sorted(after[0] - before[0])
            if new_free:
                out.append(f"the patched code uses name(s) nothing defines: {', '.join(new_free)}")
            if after[1] < before[1]:
                out.append("the patch drops a return statement")
            extra = [s for s in after[2] if s not in before[2]]
            if extra:
                out.append(f"the patch adds a statement with no effect: {extra[0]!r}")
        return out
    if len(_RETURN.findall(added)) < len(_RETURN.findall(removed)):
        out.append("the patch drops a return statement")
    for line in added.splitlines():
        if line.strip() and _BARE.match(line) and not _NOT_BARE.match(line):
            out.append(f"the patch adds a line with no effect: {line.strip()!r}")
            break
    return out
