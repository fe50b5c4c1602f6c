"""Source languages Bastion has no analyzer for: reported as "unsupported", never as safe.

A language registered in `languages` wins over these lists (registering one is how it becomes supported)."""

from __future__ import annotations

import re
from pathlib import PurePath

from app.analysis import languages

UNSUPPORTED_SUFFIXES: dict[str, str] = {
    ".rs": "Rust", ".rb": "Ruby", ".erb": "Ruby", ".kt": "Kotlin", ".kts": "Kotlin", ".swift": "Swift",
    ".scala": "Scala", ".cs": "C#", ".cshtml": "C#", ".fs": "F#", ".vb": "Visual Basic", ".lua": "Lua",
    ".pl": "Perl", ".pm": "Perl", ".r": "R", ".dart": "Dart", ".ex": "Elixir", ".exs": "Elixir",
    ".erl": "Erlang", ".hs": "Haskell", ".clj": "Clojure", ".groovy": "Groovy", ".ps1": "PowerShell",
    ".m": "Objective-C", ".mm": "Objective-C++", ".sol": "Solidity", ".zig": "Zig", ".jl": "Julia",
    ".vue": "Vue", ".svelte": "Svelte", ".jsp": "JSP", ".asp": "ASP", ".aspx": "ASP.NET", ".cfm": "ColdFusion",
    ".bat": "Batch", ".cmd": "Batch", ".tf": "Terraform", ".nim": "Nim", ".cr": "Crystal", ".v": "V",
}

_OTHER_SHEBANG = re.compile(r"^#!\s*\S*?(?:/env\s+)?(ruby|perl|lua|Rscript|pwsh|elixir|swift|kotlin|groovy)\b")
_SHEBANG_NAMES = {"ruby": "Ruby", "perl": "Perl", "lua": "Lua", "Rscript": "R", "pwsh": "PowerShell",
                  "elixir": "Elixir", "swift": "Swift", "kotlin": "Kotlin", "groovy": "Groovy"}

# Evidence for languages without an analyzer, weighed against the supported ones.
_OTHER_HINTS: list[tuple[str, re.Pattern, int]] = [
    ("Rust", re.compile(r"^\s*use\s+(std|crate|super|core)::", re.M), 8),
    ("Rust", re.compile(r"\bfn\s+\w+\s*(<[^>]*>)?\s*\("), 6),
    ("Rust", re.compile(r"\blet\s+mut\s"), 6),
    ("Rust", re.compile(r"\b(println|format|vec|panic|eprintln)!\s*[(\[]"), 5),
    ("Rust", re.compile(r"^\s*impl(\s*<[^>]*>)?\s+\w+", re.M), 5),
    ("Rust", re.compile(r"->\s*(Self|Result|Option|Vec|String|u8|u32|u64|i32|i64|usize|bool)\b"), 4),
    ("Ruby", re.compile(r"^\s*require\s+['\"]\w+['\"]\s*$", re.M), 4),
    ("Ruby", re.compile(r"^\s*(def\s+\w+[!?]?(\(.*\))?\s*$)", re.M), 3),
    ("Ruby", re.compile(r"^\s*end\s*$", re.M), 3),
    ("Ruby", re.compile(r"\bputs\s|\.each\s+do\s*\|"), 4),
    ("Perl", re.compile(r"^\s*use\s+strict;", re.M), 8),
    ("Perl", re.compile(r"^\s*my\s+[$@%]\w+", re.M), 6),
    ("C#", re.compile(r"^\s*using\s+System(\.\w+)*;", re.M), 10),
    ("C#", re.compile(r"\bConsole\.Write(Line)?\("), 6),
    ("Kotlin", re.compile(r"^\s*fun\s+\w+\s*\(", re.M), 6),
    ("Kotlin", re.compile(r"^\s*val\s+\w+\s*(:\s*\w+)?\s*=", re.M), 4),
]


def unsupported(code: str, *, filename: str | None = None) -> str | None:
    """The name of a language Bastion has no analyzer for, judged by suffix, then shebang, then content."""
    if languages.from_filename(filename):
        return None
    suffix = PurePath(filename).suffix.lower() if filename else ""
    if suffix in UNSUPPORTED_SUFFIXES:
        return UNSUPPORTED_SUFFIXES[suffix]
    head = code.lstrip()[:200]
    m = _OTHER_SHEBANG.match(head)
    name = _SHEBANG_NAMES.get(m.group(1), m.group(1)) if m else None
    if name and languages.get(name) is None:
        return name
    if languages.shebang_language(head):
        return None
    sample = code[:20000]
    other: dict[str, int] = {}
    for lang, pat, weight in _OTHER_HINTS:
        if languages.get(lang) is None and pat.search(sample):
            other[lang] = other.get(lang, 0) + weight
    if not other:
        return None
    best = max(other, key=lambda k: other[k])
    supported = languages.scores(sample)
    return best if other[best] >= 8 and other[best] > max(supported.values(), default=0) else None
