"""The analysis languages, registered once, and detection from a file name or the code itself.

Everything that lists or branches on a language reads this registry: detection, the scanners'
file suffixes, the optional engines (`engines.SPECS`), syntax checks, the sink tables, the CLI's
`--lang` help and the TUI's language list and highlighting. A new language is one `register_language`
entry below plus its rules (`app/analysis/rules/<name>.yaml`).
"""

from __future__ import annotations

import ast
import re
from pathlib import PurePath

from app.analysis.language import Language, ParseCheck, ToolCheck, hint
from app.errors import BastionError

LANGUAGES: dict[str, Language] = {}
"""Canonical name -> Language, in registration order (the order lists are shown in)."""
_BY_ALIAS: dict[str, Language] = {}
_BY_SUFFIX: dict[str, Language] = {}
_SHEBANG_PREFIX = r"^#!\s*\S*?(?:/env\s+)?"
_shebang: re.Pattern | None = None


def register_language(lang: Language) -> Language:
    """Add `lang` to the registry; a name, alias or suffix another language already has is refused."""
    taken = [k for k in (lang.name, *lang.aliases) if k in LANGUAGES or k in _BY_ALIAS]
    taken += [s for s in lang.extensions if s in _BY_SUFFIX]
    if taken:
        raise ValueError(f"language {lang.name!r}: already registered: {', '.join(taken)}")
    global _shebang
    LANGUAGES[lang.name] = lang
    _BY_ALIAS.update({a: lang for a in lang.aliases})
    _BY_SUFFIX.update({s: lang for s in lang.extensions})
    _shebang = None
    return lang


def unregister_language(name: str) -> None:
    """Remove a language (tests register throwaway ones)."""
    global _shebang
    lang = LANGUAGES.pop(name)
    for table, keys in ((_BY_ALIAS, lang.aliases), (_BY_SUFFIX, lang.extensions)):
        for k in keys:
            table.pop(k, None)
    _shebang = None


def names() -> list[str]:
    return list(LANGUAGES)


def get(name: str | None) -> Language | None:
    """The language called `name` or one of its aliases (any case), else None."""
    key = (name or "").strip().lower()
    return LANGUAGES.get(key) or _BY_ALIAS.get(key)


def by_suffix(file_suffix: str) -> Language | None:
    """The language of files ending in `file_suffix` (".py"; any case), else None."""
    return _BY_SUFFIX.get(file_suffix.lower())


def suffix(name: str, default: str = ".txt") -> str:
    """The file suffix a snippet of `name` is written with."""
    lang = LANGUAGES.get(name)
    return lang.suffix if lang else default


def using(engine: str) -> tuple[str, ...]:
    """The languages an analyser (bandit, cppcheck, ...) covers."""
    return tuple(lang.name for lang in LANGUAGES.values() if engine in lang.engines)


def sinks_as(name: str) -> str:
    """The language whose sink tables `name` uses (cpp -> c); unknown names stand for themselves."""
    lang = get(name)
    return lang.sinks_as if lang else name


def _python_parse(code: str) -> tuple[bool | None, str]:
    try:
        ast.parse(code)
        return True, ""
    except SyntaxError as exc:
        return False, f"line {exc.lineno}: {exc.msg}"
    except ValueError as exc:  # NUL bytes
        return False, str(exc)
    except (RecursionError, MemoryError) as exc:  # valid but too deeply nested for the parser
        return None, f"too deeply nested for Python's parser ({type(exc).__name__})"


_M = re.M
# Registration order is the order the CLI help and the TUI list show. tie_rank keeps the tie-breaks
# of content detection: go, php, java, cpp, c, python, typescript, javascript, bash.
register_language(Language(
    "python", (".py", ".pyw"), aliases=("py", "python3"), shebang=r"python[0-9.]*", tie_rank=6,
    hints=(hint(r"^\s*(def|class)\s+\w+.*:\s*$", 5, _M), hint(r"^\s*(import\s+\w+|from\s+[\w.]+\s+import\b)", 4, _M),
           hint(r"\bself\.|\bNone\b|\bTrue\b|\belif\b", 2), hint(r"^\s*print\(.*\)\s*$", 3, _M)),
    engines=("bandit",), syntax=ParseCheck("python-ast", _python_parse), highlight="python"))
register_language(Language(
    "javascript", (".js", ".mjs", ".cjs", ".jsx"), aliases=("js", "node", "jsx"), shebang="node", tie_rank=8,
    hints=(hint(r"\b(const|let|var)\s+\w+\s*=|=>|\bfunction\s*\w*\s*\(", 3),
           hint(r"\brequire\(['\"]|\bmodule\.exports\b|\bdocument\.|\bconsole\.log\b", 4)),
    syntax=ToolCheck("node --check", "node", ("--check",)), highlight="javascript"))
register_language(Language(
    "typescript", (".ts", ".tsx", ".mts", ".cts"), aliases=("ts", "tsx"), includes="javascript", tie_rank=7,
    hints=(hint(r"^\s*(interface|type)\s+\w+\s*[={<]", 5, _M), hint(r"\w\s*:\s*(string|number|boolean|any)\b", 4)),
    highlight="typescript"))
register_language(Language(
    "php", (".php", ".phtml"), shebang="php", tie_rank=2,
    hints=(hint(r"<\?php", 10), hint(r"\$_(GET|POST|REQUEST|COOKIE|SERVER)\b", 6), hint(r"^\s*\$\w+\s*=", 2, _M)),
    syntax=ToolCheck("php -l", "php", ("-l",))))
register_language(Language(
    "java", (".java",), tie_rank=3,
    hints=(hint(r"\b(public|private|protected)\s+(static\s+)?(final\s+)?(class|void|String|int)\b", 5),
           hint(r"^\s*import\s+java[x]?\.", 8, _M), hint(r"\bSystem\.out\.print", 5)),
    syntax=ToolCheck("javac (parse only)", "javac",
                     ("--should-stop=ifNoError=PARSE", "--should-stop=ifError=PARSE", "-d", ".")),
    highlight="java"))
register_language(Language(
    "c", (".c", ".h"), aliases=("h",), tie_rank=5,
    hints=(hint(r"#include\s*[<\"][\w/]+\.h[>\"]", 5), hint(r"\b(int|void|char)\s+\w+\s*\([^)]*\)\s*\{", 2),
           hint(r"\b(printf|malloc|strcpy|sprintf|memcpy|free)\s*\(", 2)),
    engines=("cppcheck", "clang", "flawfinder"), syntax=ToolCheck("gcc -fsyntax-only", "gcc", ("-fsyntax-only", "-w"))))
register_language(Language(
    "cpp", (".cpp", ".cc", ".cxx", ".hpp", ".hh", ".hxx"), aliases=("c++", "cxx", "cc"), includes="c", tie_rank=4,
    hints=(hint(r"#include\s*<(iostream|string|vector|memory|map)>", 8),
           hint(r"\bstd::|\bnamespace\s+\w+|\bcout\s*<<", 5)),
    engines=("cppcheck", "clang", "flawfinder"), family="c",
    syntax=ToolCheck("g++ -fsyntax-only", "g++", ("-fsyntax-only", "-w"))))
register_language(Language(
    "bash", (".sh", ".bash", ".ksh", ".zsh"), aliases=("sh", "shell", "zsh", "ksh"), shebang="bash|sh|zsh|ksh",
    tie_rank=9,
    hints=(hint(r"^\s*(if\s+\[|fi\s*$|then\s*$|done\s*$|esac\s*$|echo\s|export\s+\w+=)", 4, _M),
           hint(r"\$\{?\w+\}?|\$\(\s*\w+", 1)),
    engines=("shellcheck",), syntax=ToolCheck("bash -n", "bash", ("-n",), cheap=True), highlight="bash"))
register_language(Language(
    "go", (".go",), aliases=("golang",), tie_rank=1,
    hints=(hint(r"^package\s+\w+\s*$", 8, _M), hint(r"\bfunc\s+(\(\w+\s+\*?\w+\)\s*)?\w+\(|:=\s", 3)),
    highlight="go"))


def normalise(language: str) -> str:
    """The canonical name for a user-given language, or a BastionError listing the choices."""
    lang = get(language)
    if lang is None:
        raise BastionError(
            f"unsupported language {language!r}",
            hint=f"pass one of: {', '.join(sorted(LANGUAGES))}",
        )
    return lang.name


def from_filename(filename: str | None) -> str | None:
    if not filename:
        return None
    lang = by_suffix(PurePath(filename).suffix)
    return lang.name if lang else None


def shebang_language(head: str) -> str | None:
    """The language a `#!` line at the start of `head` names, else None."""
    global _shebang
    if _shebang is None:
        words = "|".join(lang.shebang for lang in LANGUAGES.values() if lang.shebang)
        _shebang = re.compile(_SHEBANG_PREFIX + f"({words})\\b")
    m = _shebang.match(head)
    if not m:
        return None
    return next(lang.name for lang in LANGUAGES.values() if lang.shebang and re.fullmatch(lang.shebang, m.group(1)))


def scores(sample: str) -> dict[str, int]:
    """Each language's evidence in `sample`, in tie-break order (a language that includes another gets its points
    on top of its own)."""
    out: dict[str, int] = {}
    for lang in sorted(LANGUAGES.values(), key=lambda lg: lg.tie_rank):
        for h in lang.hints:
            if h.pattern.search(sample):
                out[lang.name] = out.get(lang.name, 0) + h.weight
    return out


def from_content(code: str) -> str | None:
    """Guess from a shebang, then from weighted textual hints; None when nothing stands out."""
    found = shebang_language(code.lstrip()[:200])
    if found:
        return found
    points = scores(code[:20000])
    for lang in LANGUAGES.values():
        if lang.includes and points.get(lang.name) and points.get(lang.includes):
            points[lang.name] += points[lang.includes]
    if not points:
        return None
    best = max(points, key=lambda k: points[k])
    return best if points[best] >= 3 else None


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
