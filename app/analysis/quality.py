"""Quality checks on what the model says, before it may replace or add to rule evidence.

- `explanation_ok`: a model explanation replaces the rule's only when it names the flaw's
  mechanism (words of the weakness family), mentions an identifier from the flagged lines, is
  not boilerplate and not a degenerate loop.
- `sink_on_line`: a model-only finding must point at a concrete line holding a call or a
  dangerous construct (not a `def`, a comment, a blank line or an import); returns the sink.
"""

from __future__ import annotations

import re

from app.analysis.cwe import FAMILIES, normalise

# Words that show an explanation talks about the mechanism of the weakness (per CWE family).
MECHANISM: dict[str, tuple[str, ...]] = {
    "CWE-89": ("sql", "query", "inject", "parameter", "placeholder", "concatenat", "interpolat"),
    "CWE-78": ("shell", "command", "inject", "argument", "execut"),
    "CWE-79": ("html", "script", "escap", "xss", "markup", "browser", "render"),
    "CWE-22": ("path", "travers", "directory", "../", "file"),
    "CWE-502": ("deserial", "pickle", "unpickl", "object", "yaml", "marshal", "load"),
    "CWE-918": ("request", "url", "server", "internal", "host", "fetch"),
    "CWE-601": ("redirect", "url", "location"),
    "CWE-798": ("hard-coded", "hardcoded", "credential", "secret", "password", "key", "token", "embedded"),
    "CWE-328": ("hash", "md5", "sha1", "sha-1", "collision", "brute", "crack", "weak"),
    "CWE-338": ("random", "predict", "prng", "seed", "guess"),
    "CWE-295": ("certificate", "tls", "ssl", "verif", "man-in-the-middle", "mitm"),
    "CWE-611": ("xml", "entit", "dtd", "external"),
    "CWE-95": ("eval", "exec", "code", "execut", "expression"),
    "CWE-347": ("signature", "token", "jwt", "verif", "forge"),
    "CWE-90": ("ldap", "filter", "inject"),
    "CWE-643": ("xpath", "query", "inject"),
    "CWE-120": ("buffer", "overflow", "bound", "length", "size", "copy"),
    "CWE-134": ("format", "printf", "string"),
    "CWE-352": ("csrf", "forgery", "token", "cross-site"),
    "CWE-614": ("cookie", "secure", "https"),
    "CWE-1004": ("cookie", "httponly", "script"),
    "CWE-377": ("temp", "race", "predictable", "file"),
    "CWE-732": ("permission", "world", "writable", "chmod", "mode"),
    "CWE-501": ("session", "trust", "boundary", "untrusted"),
}

BOILERPLATE = re.compile(
    r"(fails? to provide|solution to the (issue|problem)|as an ai|i cannot|i can't|it is important to|"
    r"best practices?\b|the (issue|problem) (is|was) (found|detected)|this code (is|may be) vulnerable\.?$|"
    r"security (issue|vulnerability) (exists|is present)\.?$|lorem ipsum|\bn/a\b|todo)",
    re.I,
)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_STOP = {"def", "class", "return", "self", "import", "from", "function", "const", "let", "var", "public", "private",
         "static", "void", "string", "int", "new", "the", "and", "for", "not", "with", "this", "None", "True", "False",
         "null", "true", "false", "else", "elif", "while", "try", "except", "catch"}
_CALL = re.compile(r"([A-Za-z_][\w.]*(?:->\w+)*)\s*\(")
_NOT_A_SINK = re.compile(r"^\s*(def |class |async def |function\s+\w+\s*\(|import |from \S+ import |#|//|/\*|\*|@)")
_CONSTRUCT = re.compile(r"(innerHTML|outerHTML|\bverify\s*=\s*False|InsecureSkipVerify|\bshell\s*=\s*True|"
                        r"\$_(GET|POST|REQUEST|COOKIE)|`[^`]*\$\{|\bpassword\s*=\s*['\"]|\bsecret\w*\s*=\s*['\"]|"
                        r"\bkey\s*=\s*['\"]|\btoken\s*=\s*['\"])", re.I)


def degenerate(text: str) -> bool:
    """Text a small model produced in a loop (few distinct words) or with no words at all."""
    words = text.lower().split()
    if len(words) < 3:
        return len(text.strip()) < 8
    return len(set(words)) / len(words) < 0.35


def _mechanism_words(cwe: str) -> tuple[str, ...]:
    cwe = normalise(cwe)
    words = MECHANISM.get(cwe)
    if words:
        return words
    for fam in FAMILIES:
        if cwe in fam:
            for other in fam:
                if other in MECHANISM:
                    return MECHANISM[other]
    return ()


def identifiers(text: str) -> set[str]:
    return {w for w in _IDENT.findall(text) if w not in _STOP}


def explanation_ok(text: str, *, cwe: str, snippet: str) -> tuple[bool, str]:
    """(passes, why not). Passes when it names the mechanism and an identifier of the line, without boilerplate."""
    t = text.strip()
    if len(t.split()) < 6:
        return False, "too short"
    if degenerate(t):
        return False, "repetitive text"
    if BOILERPLATE.search(t):
        return False, "boilerplate"
    low = t.lower()
    words = _mechanism_words(cwe)
    if words and not any(w in low for w in words):
        return False, f"does not describe the {normalise(cwe)} mechanism"
    ids = identifiers(snippet)
    if ids and not any(re.search(rf"\b{re.escape(i)}\b", t) for i in ids):
        return False, "names no identifier from the flagged line"
    return True, ""


def sink_on_line(code: str, line: int) -> str | None:
    """The call or dangerous construct on `line` (1-based), or None when the line holds none."""
    lines = code.splitlines()
    if not 1 <= line <= len(lines):
        return None
    text = lines[line - 1]
    if not text.strip() or _NOT_A_SINK.match(text):
        return None
    m = _CONSTRUCT.search(text)
    if m:
        return m.group(0)
    calls = [c for c in _CALL.findall(text) if c.split(".")[-1] not in {"if", "for", "while", "switch", "return", "print"}]
    return calls[-1] if calls else None
