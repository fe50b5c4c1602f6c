"""Model prose is checked like a citation before it may replace or accompany a rule's text.

An explanation, a dispute reason or a confirmation reason is shown only when it

- names what is on the flagged line: the call (or a part of its dotted name) or one of its arguments;
- denies nothing that is on the line ("does not use pickle" beside `pickle.loads`, "no shell=True"
  beside `shell=True`);
- names no call as the flagged one that is absent from the line and the lines around it ("uses
  subprocess.run" where the line calls `check_output`). A call named as the fix ("use
  subprocess.run with a list instead") is not a claim about the line and is allowed.

Otherwise the rule's text stays and the reject is counted in the report (`models.ModelChecks`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

RejectKind = Literal["denies-the-line", "wrong-call", "names-nothing-on-the-line"]

NEARBY = 3  # lines either side where a named call may sit (a multi-line call, the assignment above)

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOTTED = re.compile(r"(?<![\w.])([A-Za-z_]\w*(?:(?:\.|->|::)[A-Za-z_]\w*)+)(\s*\()?")
_BARE_CALL = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\s*\(")
_TICKED = re.compile(r"`([^`]{1,80})`")
_CALLEE = re.compile(r"([A-Za-z_][\w]*(?:(?:\.|->|::)[A-Za-z_]\w*)*)\s*\(")
_KWARG = re.compile(r"\b([A-Za-z_]\w*)\s*=\s*([A-Za-z_]\w*|\d+|'[^']*'|\"[^\"]*\")")
# "does not use X", "doesn't call X", "no X", "without X", "never X", "is not X", "there is no X"
_DENIAL = re.compile(
    r"\b(?:(?:does|do|did|is|are|was|were)\s*(?:not|n't)|doesn't|don't|isn't|aren't|never|there\s+is\s+no|"
    r"there\s+are\s+no|no|without|not)\s+"
    r"(?:(?:use|uses|using|used|call|calls|calling|called|contain|contains|include|includes|invoke|invokes|pass|"
    r"passes|have|has|set|sets|rely|relies|on|any|the|a|an|of)\s+)*"
    r"([`'\"]?[A-Za-z_][\w.]*(?:\s*=\s*\w+)?[`'\"]?(?:\s+(?:or|and|nor)\s+[`'\"]?[A-Za-z_][\w.]*[`'\"]?)*)",
    re.I,
)
# A call named after these words is a proposed fix, not a claim about the line.
_FIX_CONTEXT = re.compile(r"\b(instead|replace|replaced|replacing|rather|prefer|should|switch|safer|recommend\w*|"
                          r"consider|e\.g|such as|like|use a|use an|use the|fix|by using|with a list)\b[^.;]*$", re.I)
_IMPERATIVE_USE = re.compile(r"(?:^|[.;:!?]\s*|\b(?:should|could|must|to|please|and)\s+)use\s+[`'\"]?$", re.I)
_NEG_BEFORE = re.compile(r"\b(without|no|not|never|missing|lacks?|lacking|absent|neither|nor)\b[^.;,]*$", re.I)
_NEG_AFTER = re.compile(r"^[`'\"]?[\w.]+(?:\(\))?[`'\"]?\s+(?:is|are|was|were)\s+(?:not|never)\b", re.I)
_FIX_AFTER = re.compile(r"\b(instead|rather than)\b", re.I)
_GENERIC = {"the", "a", "an", "this", "that", "code", "line", "function", "user", "input", "data", "value", "it",
            "any", "check", "checks", "validation", "sanitization", "sanitisation", "escaping", "vulnerability",
            "issue", "problem", "risk", "such", "way", "need", "longer", "one", "other", "more", "less", "only",
            "string", "strings", "call", "calls", "variable", "argument", "arguments", "parameter", "parameters"}
_KEYWORDS = {"return", "def", "class", "self", "true", "false", "none", "null", "and", "not", "for", "while", "else",
             "elif", "int", "char", "void", "const", "static", "unsigned", "struct", "long", "short", "double", "float"}
_NOT_CALLS = {"if", "for", "while", "switch", "return", "sizeof", "print", "e.g", "i.e"}


def _sink_names() -> frozenset[str]:
    from app.analysis.sinks import FAMILIES

    return frozenset(n.split(".")[-1].lower() for fam in FAMILIES for names in fam.calls.values() for n in names)


_SINK_NAMES = _sink_names()


@dataclass(frozen=True)
class ProseVerdict:
    ok: bool
    kind: RejectKind | None = None
    why: str = ""


def _parts(name: str) -> list[str]:
    return [p for p in re.split(r"\.|->|::", name) if p]


def line_terms(line_text: str) -> tuple[set[str], set[str], set[str]]:
    """(callee names and their parts, argument identifiers, `kw=value` constructs) of a line of code."""
    calls: set[str] = set()
    for c in _CALLEE.findall(line_text):
        if c.split(".")[-1] in _NOT_CALLS:
            continue
        calls.add(c.lower())
        calls.update(p.lower() for p in _parts(c))
    args: set[str] = set()
    for m in re.finditer(r"\(([^()]*(?:\([^()]*\)[^()]*)*)\)", line_text):
        args.update(w.lower() for w in _IDENT.findall(m.group(1)) if len(w) > 1)
        args.update(d.lower() for d, _ in _DOTTED.findall(m.group(1)))
    kw = {f"{k}={v}".lower().replace(" ", "") for k, v in _KWARG.findall(line_text)}
    return calls, args - {"true", "false", "none", "null"}, kw


def _mentioned_calls(text: str) -> list[tuple[str, int]]:
    """Names the prose uses as calls: dotted names, `name(`, and backticked identifiers, with their offsets."""
    out: list[tuple[str, int]] = []
    for m in _DOTTED.finditer(text):
        name = m.group(1)
        parts = _parts(name)
        if all(len(p) >= 2 for p in parts) and not name.lower().startswith(("e.g", "i.e")):
            out.append((name, m.start()))
    for m in _BARE_CALL.finditer(text):
        if m.group(1).lower() not in _NOT_CALLS:
            out.append((m.group(1), m.start()))
    for m in _TICKED.finditer(text):
        inner = m.group(1).strip()
        callee = _CALLEE.match(inner)
        name = callee.group(1) if callee else inner
        if re.fullmatch(r"[A-Za-z_][\w.]*", name):
            out.append((name, m.start()))
    return out


def check(text: str, *, line_text: str, nearby_text: str = "", code: str = "") -> ProseVerdict:
    """Whether `text` (model prose about the finding on `line_text`) may be shown.

    `nearby_text`: the lines around the flagged one; `code`: the whole file (a dotted attribute named as
    data, like `request.args`, must exist somewhere in it).
    """
    t = " ".join(text.split())
    if not t:
        return ProseVerdict(False, "names-nothing-on-the-line", "empty")
    low = t.lower()
    calls, args, kw = line_terms(line_text)
    line_low = line_text.lower()
    line_ids = {w.lower() for w in _IDENT.findall(line_text)}
    # 1. a denial of something on the line
    for m in _DENIAL.finditer(t):
        for raw in re.split(r"\s+(?:or|and|nor)\s+", m.group(1)):
            term = raw.strip("`'\" .,").lower().replace(" ", "")
            if not term or term in _GENERIC or len(term) < 3:
                continue
            if "=" in term:
                hit = term in kw or term in line_low.replace(" ", "")
            else:
                hit = term in calls or term in line_ids or any(term == p for p in _parts(term) if p in line_ids) \
                    or (term.endswith("s") and term[:-1] in calls)
            if hit:
                return ProseVerdict(False, "denies-the-line", f"says {m.group(0).strip()!r} while line has it")
    # 2. a call named that is not on or near the line (unless it is named as the fix)
    near_low = (nearby_text or line_text).lower()
    near_ids = {w.lower() for w in _IDENT.findall(near_low)}
    code_low = (code or nearby_text or line_text).lower()
    code_ids = {w.lower() for w in _IDENT.findall(code_low)}
    line_words = {w.lower() for w in re.findall(r"[A-Za-z_]\w*", line_text)}  # identifiers and string contents
    for name, pos in _mentioned_calls(t):
        before, after = t[max(0, pos - 60):pos], re.split(r"[.;!?](?:\s|$)", t[pos:], maxsplit=1)[0]
        if _FIX_CONTEXT.search(before) or _IMPERATIVE_USE.search(before) or _FIX_AFTER.search(after):
            continue
        if _NEG_BEFORE.search(before[-40:]) or _NEG_AFTER.search(after):
            continue  # "without html.escape", "html.escape is not applied": an absence, not a claim about the line
        nl = name.lower()
        parts = [p.lower() for p in _parts(name)]
        if nl in near_low or all(p in near_ids for p in parts) or all(p in line_words for p in parts):
            continue  # on the line or beside it (hashlib.sha1 for hashlib.new('sha1') names what is there)
        if not (nl in code_low or all(p in code_ids for p in parts)):
            return ProseVerdict(False, "wrong-call", f"names {name}, which is not in the code")
        if calls and parts[-1] in _SINK_NAMES and parts[-1] not in calls:
            # another sink of the file, far from the line, named where the line's own call is meant
            return ProseVerdict(False, "wrong-call", f"names {name} as the call; the line calls "
                                                     f"{', '.join(sorted(c for c in calls if '.' in c or c))[:60]}")
    # 3. names the call or an argument of the line
    named = calls | args | {k.split("=")[0] for k in kw}
    if not calls:  # an assignment or a return without a call: any identifier of the line outside its strings
        bare = re.sub(r"('[^']*'|\"[^\"]*\")", " ", line_text)
        named |= {w.lower() for w in _IDENT.findall(bare) if len(w) > 2 and w.lower() not in _KEYWORDS}
    if named and not any(re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", low) for n in named if len(n) >= 2):
        return ProseVerdict(False, "names-nothing-on-the-line", "names neither the call nor an argument of the line")
    return ProseVerdict(True)


def window(code: str, line: int, end_line: int = 0, around: int = NEARBY) -> tuple[str, str]:
    """(the flagged line(s), the lines around them) of `code`, 1-based."""
    lines = code.splitlines()
    if not 1 <= line <= len(lines):
        return "", ""
    end = max(line, min(end_line or line, len(lines)))
    flagged = "\n".join(lines[line - 1:end])
    near = "\n".join(lines[max(0, line - 1 - around):min(len(lines), end + around)])
    return flagged, near
