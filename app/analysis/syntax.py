"""Syntax checks with the tools available offline: Python's ast, bash -n, node --check, php -l, gcc/g++."""

from __future__ import annotations

import ast
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.analysis.languages import LANGUAGES


@dataclass
class SyntaxResult:
    ok: bool | None  # None: no checker available for this language
    checker: str
    message: str = ""


def check(code: str, language: str, *, timeout: float = 20) -> SyntaxResult:
    if language == "python":
        try:
            ast.parse(code)
            return SyntaxResult(True, "python-ast")
        except SyntaxError as exc:
            return SyntaxResult(False, "python-ast", f"line {exc.lineno}: {exc.msg}")
        except ValueError as exc:  # NUL bytes
            return SyntaxResult(False, "python-ast", str(exc))
        except (RecursionError, MemoryError) as exc:  # valid but too deeply nested for the parser
            return SyntaxResult(None, "python-ast", f"too deeply nested for Python's parser ({type(exc).__name__})")
    tool = _tool(language)
    if tool is None:
        return SyntaxResult(None, "none", f"no syntax checker for {language} on this machine")
    name, argv = tool
    with tempfile.TemporaryDirectory(prefix="bastion-syntax-") as tmp:
        f = Path(tmp) / f"check{LANGUAGES.get(language, '.txt')}"
        f.write_text(code, encoding="utf-8")
        try:
            proc = subprocess.run(argv + [str(f)], capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL, cwd=tmp)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return SyntaxResult(None, name, f"{name} could not run: {exc}")
    if proc.returncode == 0:
        return SyntaxResult(True, name)
    msg = (proc.stderr or proc.stdout).strip().replace(str(f), "<code>")
    return SyntaxResult(False, name, msg.splitlines()[0][:300] if msg else f"{name} exit {proc.returncode}")


def _tool(language: str) -> tuple[str, list[str]] | None:
    if language == "bash":
        b = shutil.which("bash")
        return ("bash -n", [b, "-n"]) if b else None
    if language == "javascript":
        n = shutil.which("node")
        return ("node --check", [n, "--check"]) if n else None
    if language == "php":
        p = shutil.which("php")
        return ("php -l", [p, "-l"]) if p else None
    if language == "java":
        j = shutil.which("javac")
        return ("javac (parse only)", [j, "--should-stop=ifNoError=PARSE", "--should-stop=ifError=PARSE", "-d", "."]) if j else None
    if language in ("c", "cpp"):
        cc = shutil.which("gcc" if language == "c" else "g++")
        return (f"{Path(cc).name} -fsyntax-only", [cc, "-fsyntax-only", "-w"]) if cc else None
    return None  # typescript, go: no offline checker assumed
