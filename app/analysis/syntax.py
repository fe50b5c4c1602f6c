"""Syntax checks with the tools available offline (each language's `syntax` in the registry): Python's ast,
bash -n, node --check, php -l, javac, gcc/g++."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.analysis import languages
from app.analysis.language import ParseCheck


@dataclass
class SyntaxResult:
    ok: bool | None  # None: no checker available for this language
    checker: str
    message: str = ""


def check(code: str, language: str, *, timeout: float = 20) -> SyntaxResult:
    lang = languages.LANGUAGES.get(language)
    spec = lang.syntax if lang else None
    if isinstance(spec, ParseCheck):
        ok, message = spec.parse(code)
        return SyntaxResult(ok, spec.label, message)
    exe = shutil.which(spec.binary) if spec else None
    if spec is None or exe is None:
        return SyntaxResult(None, "none", f"no syntax checker for {language} on this machine")
    with tempfile.TemporaryDirectory(prefix="bastion-syntax-") as tmp:
        f = Path(tmp) / f"check{languages.suffix(language)}"
        f.write_text(code, encoding="utf-8")
        try:
            proc = subprocess.run([exe, *spec.args, str(f)], capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL, cwd=tmp)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return SyntaxResult(None, spec.label, f"{spec.label} could not run: {exc}")
    if proc.returncode == 0:
        return SyntaxResult(True, spec.label)
    msg = (proc.stderr or proc.stdout).strip().replace(str(f), "<code>")
    return SyntaxResult(False, spec.label, msg.splitlines()[0][:300] if msg else f"{spec.label} exit {proc.returncode}")


def cheap(language: str) -> bool:
    """Whether the language's check is fast enough to run on every analysed file."""
    lang = languages.LANGUAGES.get(language)
    return bool(lang and lang.syntax and lang.syntax.cheap)
