"""Which files a directory scan looks at: .gitignore respected, binaries and vendored folders skipped."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from app.analysis.languages import SUFFIXES, from_content

VENDORED = {
    "node_modules", "vendor", "bower_components", ".venv", "venv", "env", ".env", "site-packages",
    "dist-packages", "third_party", "third-party", "__pycache__", ".git", ".hg", ".svn", ".tox",
    ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".idea", ".vscode", "target", ".gradle",
}


@dataclass
class Skipped:
    path: str
    reason: str


class GitIgnore:
    """Rules from one .gitignore file, matched relative to its folder (the common subset of git's syntax)."""

    def __init__(self, base: Path, lines: list[str]) -> None:
        self.base = base
        self.rules: list[tuple[re.Pattern, bool, bool]] = []  # (regex, negated, dir_only)
        for raw in lines:
            line = raw.rstrip("\n").rstrip()
            if not line or line.startswith("#"):
                continue
            neg = line.startswith("!")
            if neg:
                line = line[1:]
            dir_only = line.endswith("/")
            line = line.strip("/") if dir_only else line
            anchored = "/" in line.lstrip("/") or line.startswith("/")
            rx = _glob_to_regex(line.lstrip("/"))
            rx = ("^" if anchored else "^(?:.*/)?") + rx + "$"
            self.rules.append((re.compile(rx), neg, dir_only))

    @classmethod
    def load(cls, folder: Path) -> "GitIgnore | None":
        f = folder / ".gitignore"
        if not f.is_file():
            return None
        try:
            return cls(folder, f.read_text(encoding="utf-8", errors="replace").splitlines())
        except OSError:
            return None

    def ignored(self, path: Path, is_dir: bool) -> bool | None:
        """True/False when a rule decides, None when none applies."""
        try:
            rel = path.relative_to(self.base).as_posix()
        except ValueError:
            return None
        verdict = None
        for rx, neg, dir_only in self.rules:
            if dir_only and not is_dir:
                continue
            if rx.match(rel):
                verdict = not neg
        return verdict


def _glob_to_regex(glob: str) -> str:
    out, i = [], 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("/.*")
            i += 3
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            j = glob.find("]", i)
            if j == -1:
                out.append(re.escape(c))
                i += 1
            else:
                out.append("[" + glob[i + 1 : j].replace("!", "^", 1) + "]")
                i = j + 1
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def is_binary(head: bytes) -> bool:
    """NUL bytes, or mostly non-text bytes, in the first block."""
    if not head:
        return False
    if b"\x00" in head:
        return True
    text = bytes(range(32, 127)) + b"\n\r\t\f\b"
    odd = sum(1 for b in head if b not in text and b < 128)
    return odd / len(head) > 0.3


def _ancestor_ignores(root: Path) -> list[GitIgnore]:
    """.gitignore files above `root` up to the repository top, unless they ignore root itself."""
    found: list[GitIgnore] = []
    cur = root
    while True:
        parent = cur.parent
        if parent == cur:
            break
        gi = GitIgnore.load(parent)
        if gi is not None:
            found.insert(0, gi)
        if (parent / ".git").exists():
            break
        cur = parent
    if any(g.ignored(root, True) for g in found):
        return []  # the user asked for an ignored folder explicitly: take it as is
    return found


def _decide(ignores: list[GitIgnore], path: Path, is_dir: bool) -> bool:
    verdict = False
    for gi in ignores:
        v = gi.ignored(path, is_dir)
        if v is not None:
            verdict = v
    return verdict


def walk(root: Path, *, max_bytes: int) -> tuple[list[Path], list[Skipped]]:
    """Source files under `root` that Bastion can analyse, and the ones it skipped (with why)."""
    root = root.resolve()
    files: list[Path] = []
    skipped: list[Skipped] = []
    stack: list[tuple[Path, list[GitIgnore]]] = [(root, _ancestor_ignores(root))]
    while stack:
        folder, ignores = stack.pop()
        gi = GitIgnore.load(folder)
        if gi is not None:
            ignores = ignores + [gi]
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            skipped.append(Skipped(str(folder), f"cannot list: {exc.strerror}"))
            continue
        subdirs = []
        for e in entries:
            p = Path(e.path)
            if e.is_symlink():
                continue
            if e.is_dir():
                if e.name in VENDORED or e.name.endswith(".egg-info") or _decide(ignores, p, True):
                    continue
                subdirs.append((p, ignores))
            elif e.is_file():
                if _decide(ignores, p, False):
                    continue
                why = _unsuitable(p, e.stat().st_size, max_bytes)
                if why == "":
                    files.append(p)
                elif why:
                    skipped.append(Skipped(str(p), why))
        stack.extend(reversed(subdirs))
    return files, skipped


def _unsuitable(p: Path, size: int, max_bytes: int) -> str | None:
    """'' when the file is analysable, a reason when it is skipped, None when it is not source code at all."""
    known = p.suffix.lower() in SUFFIXES
    if not known and p.suffix:
        return None
    if size == 0:
        return None if not known else "empty file"
    if size > max_bytes:
        return f"larger than the {max_bytes // 1_000_000 or 1} MB limit ({size / 1e6:.1f} MB)"
    try:
        with open(p, "rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        return f"cannot read: {exc.strerror}"
    if is_binary(head):
        return "binary file" if known else None
    if not known:  # no suffix: a script with a shebang?
        if not head.startswith(b"#!") or from_content(head.decode("utf-8", "replace")) is None:
            return None
    return ""
