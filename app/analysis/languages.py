"""Language detection from a file name or from the code itself; the user can override it."""

from __future__ import annotations

import re
from pathlib import PurePath

from app.errors import BastionError

# Canonical language names -> file suffix used when a snippet is written for the scanners.
LANGUAGES: dict[str, str] = {
    "python": ".py",
    "javascript": ".js",
    "typescript": ".ts",
    "php": ".php",
    "java": ".java",
    "c": ".c",
    "cpp": ".cpp",
    "bash": ".sh",
    "go": ".go",
}

ALIASES: dict[str, str] = {
    "py": "python", "python3": "python", "js": "javascript", "node": "javascript", "jsx": "javascript",
    "ts": "typescript", "tsx": "typescript", "c++": "cpp", "cxx": "cpp", "cc": "cpp", "h": "c",
    "sh": "bash", "shell": "bash", "zsh": "bash", "ksh": "bash", "golang": "go",
}

SUFFIXES: dict[str, str] = {
    ".py": "python", ".pyw": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".tsx": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".php": "php", ".phtml": "php",
    ".java": "java",
    ".c": "c", ".h": "c",
    ".cpp": "cpp", ".cc": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp", ".hxx": "cpp",
    ".sh": "bash", ".bash": "bash", ".ksh": "bash", ".zsh": "bash",
    ".go": "go",
}

# Source languages Bastion has no analyzer for: reported as "unsupported", never as safe.
UNSUPPORTED_SUFFIXES: dict[str, str] = {
    ".rs": "Rust", ".rb": "Ruby", ".erb": "Ruby", ".kt": "Kotlin", ".kts": "Kotlin", ".swift": "Swift",
    ".scala": "Scala", ".cs": "C#", ".cshtml": "C#", ".fs": "F#", ".vb": "Visual Basic", ".lua": "Lua",
    ".pl": "Perl", ".pm": "Perl", ".r": "R", ".dart": "Dart", ".ex": "Elixir", ".exs": "Elixir",
    ".erl": "Erlang", ".hs": "Haskell", ".clj": "Clojure", ".groovy": "Groovy", ".ps1": "PowerShell",
    ".m": "Objective-C", ".mm": "Objective-C++", ".sol": "Solidity", ".zig": "Zig", ".jl": "Julia",
    ".vue": "Vue", ".svelte": "Svelte", ".jsp": "JSP", ".asp": "ASP", ".aspx": "ASP.NET", ".cfm": "ColdFusion",
    ".bat": "Batch", ".cmd": "Batch", ".tf": "Terraform", ".nim": "Nim", ".cr": "Crystal", ".v": "V",
}

_SHEBANG = re.compile(r"^#!\s*\S*?(?:/env\s+)?(python[0-9.]*|node|bash|sh|zsh|ksh|php)\b")
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

# (language, pattern, weight): crude but cheap evidence from the text.
_HINTS: list[tuple[str, re.Pattern, int]] = [
    ("php", re.compile(r"<\?php"), 10),
    ("go", re.compile(r"^package\s+\w+\s*$", re.M), 8),
    ("go", re.compile(r"\bfunc\s+(\(\w+\s+\*?\w+\)\s*)?\w+\(|:=\s"), 3),
    ("php", re.compile(r"\$_(GET|POST|REQUEST|COOKIE|SERVER)\b"), 6),
    ("php", re.compile(r"^\s*\$\w+\s*=", re.M), 2),
    ("java", re.compile(r"\b(public|private|protected)\s+(static\s+)?(final\s+)?(class|void|String|int)\b"), 5),
    ("java", re.compile(r"^\s*import\s+java[x]?\.", re.M), 8),
    ("java", re.compile(r"\bSystem\.out\.print"), 5),
    ("cpp", re.compile(r"#include\s*<(iostream|string|vector|memory|map)>"), 8),
    ("cpp", re.compile(r"\bstd::|\bnamespace\s+\w+|\bcout\s*<<"), 5),
    ("c", re.compile(r"#include\s*[<\"][\w/]+\.h[>\"]"), 5),
    ("c", re.compile(r"\b(int|void|char)\s+\w+\s*\([^)]*\)\s*\{"), 2),
    ("c", re.compile(r"\b(printf|malloc|strcpy|sprintf|memcpy|free)\s*\("), 2),
    ("python", re.compile(r"^\s*(def|class)\s+\w+.*:\s*$", re.M), 5),
    ("python", re.compile(r"^\s*(import\s+\w+|from\s+[\w.]+\s+import\b)", re.M), 4),
    ("python", re.compile(r"\bself\.|\bNone\b|\bTrue\b|\belif\b"), 2),
    ("python", re.compile(r"^\s*print\(.*\)\s*$", re.M), 3),
    ("typescript", re.compile(r"^\s*(interface|type)\s+\w+\s*[={<]", re.M), 5),
    ("typescript", re.compile(r"\w\s*:\s*(string|number|boolean|any)\b"), 4),
    ("javascript", re.compile(r"\b(const|let|var)\s+\w+\s*=|=>|\bfunction\s*\w*\s*\("), 3),
    ("javascript", re.compile(r"\brequire\(['\"]|\bmodule\.exports\b|\bdocument\.|\bconsole\.log\b"), 4),
    ("bash", re.compile(r"^\s*(if\s+\[|fi\s*$|then\s*$|done\s*$|esac\s*$|echo\s|export\s+\w+=)", re.M), 4),
    ("bash", re.compile(r"\$\{?\w+\}?|\$\(\s*\w+"), 1),
]


def normalise(language: str) -> str:
    """The canonical name for a user-given language, or a BastionError listing the choices."""
    key = language.strip().lower()
    key = ALIASES.get(key, key)
    if key not in LANGUAGES:
        raise BastionError(
            f"unsupported language {language!r}",
            hint=f"pass one of: {', '.join(sorted(LANGUAGES))}",
        )
    return key


def from_filename(filename: str | None) -> str | None:
    if not filename:
        return None
    return SUFFIXES.get(PurePath(filename).suffix.lower())


def from_content(code: str) -> str | None:
    """Guess from a shebang, then from weighted textual hints; None when nothing stands out."""
    head = code.lstrip()[:200]
    m = _SHEBANG.match(head)
    if m:
        word = m.group(1)
        return "python" if word.startswith("python") else "javascript" if word == "node" else "php" if word == "php" else "bash"
    sample = code[:20000]
    scores: dict[str, int] = {}
    for lang, pat, weight in _HINTS:
        if pat.search(sample):
            scores[lang] = scores.get(lang, 0) + weight
    if scores.get("typescript") and scores.get("javascript"):
        scores["typescript"] += scores["javascript"]
    if scores.get("cpp") and scores.get("c"):
        scores["cpp"] += scores["c"]
    if not scores:
        return None
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] >= 3 else None


def unsupported(code: str, *, filename: str | None = None) -> str | None:
    """The name of a language Bastion has no analyzer for, judged by suffix, then shebang, then content."""
    suffix = PurePath(filename).suffix.lower() if filename else ""
    if suffix in UNSUPPORTED_SUFFIXES:
        return UNSUPPORTED_SUFFIXES[suffix]
    if suffix in SUFFIXES:
        return None
    head = code.lstrip()[:200]
    m = _OTHER_SHEBANG.match(head)
    if m:
        return _SHEBANG_NAMES.get(m.group(1), m.group(1))
    if _SHEBANG.match(head):
        return None
    sample = code[:20000]
    other: dict[str, int] = {}
    for lang, pat, weight in _OTHER_HINTS:
        if pat.search(sample):
            other[lang] = other.get(lang, 0) + weight
    if not other:
        return None
    best = max(other, key=lambda k: other[k])
    supported = _scores(sample)
    return best if other[best] >= 8 and other[best] > max(supported.values(), default=0) else None


def _scores(sample: str) -> dict[str, int]:
    scores: dict[str, int] = {}
    for lang, pat, weight in _HINTS:
        if pat.search(sample):
            scores[lang] = scores.get(lang, 0) + weight
    return scores


def detect(code: str, *, filename: str | None = None, language: str | None = None) -> str:
    """The language to analyse `code` as: the override, else the file suffix, else the content."""
    if language:
        return normalise(language)
    found = from_filename(filename) or from_content(code)
    if found is None:
        where = f"{filename}: " if filename else ""
        raise BastionError(
            f"{where}cannot tell which language this code is in",
            hint=f"pass --lang (one of: {', '.join(sorted(LANGUAGES))})",
        )
    return found
