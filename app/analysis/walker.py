"""Which files a directory scan looks at, and an account of every file and folder it did not analyse.

Untrusted-code defaults: the code under review is the attacker's, so nothing in it may hide a
file silently. In a git work tree every *tracked* file is scanned whatever `.gitignore` or a folder
name says; `.gitignore` only skips untracked files. Outside git, `.gitignore` is not trusted at all
(it is just another file of the code under review). Dependency and tool folders (node_modules,
caches, VCS metadata) and virtualenvs (found by their `pyvenv.cfg`, not by a name like `env/`) are
skipped unless tracked. Every skip is recorded with its reason (`-v` lists them), and
`--include` / `--exclude` globs narrow the scan.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from app.analysis.languages import by_suffix, from_content
from app.analysis.unsupported import UNSUPPORTED_SUFFIXES, unsupported

# Dependency, cache and tool folders: other people's code or no code at all. Counted when skipped.
VENDORED = {
    "node_modules", "bower_components", "site-packages", "dist-packages", "__pycache__", ".git", ".hg", ".svn",
    ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".idea", ".vscode", ".gradle",
}
VENV_MARKER = "pyvenv.cfg"
MINIFIED = (".min.js", ".min.mjs", "-min.js", ".bundle.min.js")


@dataclass
class Skipped:
    path: str
    reason: str
    kind: Literal["skipped", "unsupported", "error"] = "skipped"


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


def tracked_files(root: Path) -> set[Path] | None:
    """Files git tracks under `root` (resolved), or None when root is not in a git work tree / git is missing."""
    git = shutil.which("git")
    if not git:
        return None
    try:
        top = subprocess.run([git, "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True, text=True,
                             timeout=30, stdin=subprocess.DEVNULL)
        if top.returncode != 0:
            return None
        out = subprocess.run([git, "-C", str(root), "ls-files", "-z", "--full-name", "--", "."], capture_output=True,
                             timeout=120, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    base = Path(top.stdout.strip()).resolve()
    return {safe_resolve(base / p) for p in out.stdout.decode("utf-8", "replace").split("\0") if p}


def safe_resolve(path) -> Path:
    """`Path.resolve()`, except that a symlink loop (RuntimeError on Python 3.11: a traceback the red-team
    round found in `analyze --json`) resolves to the absolute path it was given."""
    try:
        return Path(path).resolve()
    except (RuntimeError, OSError):
        return Path(os.path.abspath(path))


def _matches(rel: str, globs: list[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(rel, g) or fnmatch.fnmatchcase(name, g) or fnmatch.fnmatchcase(rel, g.rstrip("/") + "/*")
               or rel.startswith(g.rstrip("/").lstrip("./") + "/") for g in globs)


def walk(root: Path, *, max_bytes: int, include: list[str] | None = None, exclude: list[str] | None = None,
         use_git: bool = True) -> tuple[list[Path], list[Skipped]]:
    """Source files under `root` that Bastion can analyse, and every one it did not (with why)."""
    root = root.resolve()
    files: list[Path] = []
    skipped: list[Skipped] = []
    tracked = tracked_files(root) if use_git else None
    tracked_dirs: set[Path] = set()
    for t in tracked or ():
        tracked_dirs.update(t.parents)
    stack: list[tuple[Path, list[GitIgnore]]] = [(root, _ancestor_ignores(root) if tracked is not None else [])]
    while stack:
        folder, ignores = stack.pop()
        gi = GitIgnore.load(folder) if tracked is not None else None
        if gi is not None:
            ignores = ignores + [gi]
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            skipped.append(Skipped(str(folder), f"cannot list the folder: {exc.strerror}", "error"))
            continue
        subdirs = []
        for e in entries:
            p = Path(e.path)
            rel = p.relative_to(root).as_posix()
            try:
                if e.is_symlink():
                    skipped.append(Skipped(str(p), "symbolic link (not followed)"))
                    continue
                is_dir = e.is_dir()
            except OSError as exc:
                skipped.append(Skipped(str(p), f"cannot stat: {exc.strerror}", "error"))
                continue
            if exclude and _matches(rel, exclude):
                skipped.append(Skipped(str(p), "excluded by --exclude"))
                continue
            if is_dir:
                why = _skip_dir(p, e.name, ignores, tracked, tracked_dirs)
                if why:
                    skipped.append(Skipped(str(p) + "/", why))
                    continue
                subdirs.append((p, ignores))
                continue
            if not e.is_file():
                continue
            is_tracked = tracked is not None and p.resolve() in tracked
            if tracked is not None and not is_tracked and _decide(ignores, p, False):
                if _looks_like_source(p):
                    skipped.append(Skipped(str(p), "untracked and ignored by .gitignore"))
                continue
            if include and not _matches(rel, include):
                if _looks_like_source(p):
                    skipped.append(Skipped(str(p), "not matched by --include"))
                continue
            try:
                size = e.stat().st_size
            except OSError as exc:
                skipped.append(Skipped(str(p), f"cannot stat: {exc.strerror}", "error"))
                continue
            verdict = _unsuitable(p, size, max_bytes)
            if verdict is None:
                continue
            if verdict.kind == "ok":
                files.append(p)
            else:
                skipped.append(verdict)
        stack.extend(reversed(subdirs))
    return files, skipped


def _skip_dir(p: Path, name: str, ignores: list[GitIgnore], tracked: set[Path] | None,
              tracked_dirs: set[Path]) -> str:
    """Why a folder is skipped ('' when it is walked). Folders holding tracked files are always walked."""
    if tracked is not None and p.resolve() in tracked_dirs:
        return ""
    if (p / VENV_MARKER).is_file():
        return f"virtualenv ({VENV_MARKER})"
    if name in VENDORED or name.endswith(".egg-info"):
        return "dependency or tool folder"
    if tracked is not None and _decide(ignores, p, True):
        return "untracked and ignored by .gitignore"
    return ""


def _looks_like_source(p: Path) -> bool:
    s = p.suffix.lower()
    return by_suffix(s) is not None or s in UNSUPPORTED_SUFFIXES


@dataclass
class _Ok:
    kind: str = "ok"


def _unsuitable(p: Path, size: int, max_bytes: int) -> "Skipped | _Ok | None":
    """_Ok when the file is analysable, a Skipped with its reason, or None when it is not source code at all."""
    suffix = p.suffix.lower()
    known = by_suffix(suffix) is not None
    if suffix in UNSUPPORTED_SUFFIXES and not known:  # a registered language overrides the list
        lang = UNSUPPORTED_SUFFIXES[suffix]
        return Skipped(str(p), f"{lang}: no analyzer for this language (not a safe verdict)", "unsupported")
    if not known and p.suffix:
        return None
    if size == 0:
        return None if not known else Skipped(str(p), "empty file")
    if size > max_bytes:
        return Skipped(str(p), f"larger than the {max_bytes // 1_000_000 or 1} MB limit ({size / 1e6:.1f} MB)")
    if p.name.lower().endswith(MINIFIED):
        return Skipped(str(p), "minified file")
    try:
        with open(p, "rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        return Skipped(str(p), f"cannot read: {exc.strerror}", "error")
    if is_binary(head):
        return Skipped(str(p), "binary file") if known else None
    if not known:  # no suffix: a script with a shebang?
        if not head.startswith(b"#!"):
            return None
        text = head.decode("utf-8", "replace")
        other = unsupported(text, filename=p.name)
        if other:
            return Skipped(str(p), f"{other}: no analyzer for this language (not a safe verdict)", "unsupported")
        if from_content(text) is None:
            return None
    return _Ok()
