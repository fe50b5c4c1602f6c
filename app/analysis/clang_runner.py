"""clang's static analyzer (`clang --analyze`) on C/C++ files: path-sensitive checks for use after
free, double free, leaks, NULL dereference, uninitialised reads and out-of-bounds access.

Code under review often comes without its project headers. A quoted #include that is not next to
the file is replaced by an empty stub and the common C library headers are pre-included, so a lone
file still parses; a file that still does not parse is reported in a note (the analyzer does not run
on code with errors), never as clean.
"""

from __future__ import annotations

import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from app.analysis.engine_base import RunnerOutput, run_tool
from app.analysis.hits import Hit

# Checkers beyond clang's defaults (core, unix, security basics) that fit Bastion's CWEs.
EXTRA_CHECKERS = (
    "security.insecureAPI.gets", "security.insecureAPI.mktemp", "security.insecureAPI.getpw",
    "alpha.security.ArrayBoundV2", "alpha.unix.cstring.OutOfBounds", "alpha.unix.cstring.BufferOverlap",
    "alpha.security.ReturnPtrRange", "alpha.unix.cstring.NotNullTerminated", "alpha.security.MallocOverflow",
    "optin.portability.UnixAPI",
)
PRELUDE_C = ("stdio.h", "stdlib.h", "string.h", "wchar.h", "stdint.h", "limits.h", "stddef.h", "unistd.h", "ctype.h",
             "math.h", "time.h", "fcntl.h", "sys/types.h", "sys/stat.h")

# checker -> (CWE, label, confidence); unix.Malloc and core.CallAndMessage are split by message below.
CHECKERS: dict[str, tuple[str, str, float]] = {
    "core.NullDereference": ("CWE-476", "medium", 0.8),
    "core.NonNullParamChecker": ("CWE-476", "medium", 0.75),
    "core.uninitialized.Assign": ("CWE-457", "medium", 0.75),
    "core.uninitialized.Branch": ("CWE-457", "medium", 0.75),
    "core.uninitialized.UndefReturn": ("CWE-457", "medium", 0.75),
    "core.uninitialized.ArraySubscript": ("CWE-457", "medium", 0.75),
    "core.UndefinedBinaryOperatorResult": ("CWE-457", "medium", 0.6),
    "core.DivideZero": ("CWE-369", "medium", 0.8),
    "core.StackAddressEscape": ("CWE-562", "medium", 0.75),
    "unix.MallocSizeof": ("CWE-131", "high", 0.7),
    "unix.MismatchedDeallocator": ("CWE-762", "high", 0.8),
    "unix.cstring.NullArg": ("CWE-476", "medium", 0.75),
    "alpha.security.ArrayBoundV2": ("CWE-787", "high", 0.7),
    "alpha.unix.cstring.OutOfBounds": ("CWE-787", "high", 0.75),
    "alpha.unix.cstring.BufferOverlap": ("CWE-119", "medium", 0.6),
    "alpha.security.ReturnPtrRange": ("CWE-466", "medium", 0.6),
    "alpha.unix.cstring.NotNullTerminated": ("CWE-170", "medium", 0.6),
    "alpha.security.MallocOverflow": ("CWE-190", "high", 0.65),
    "security.insecureAPI.gets": ("CWE-242", "high", 0.9),
    "security.insecureAPI.mktemp": ("CWE-377", "medium", 0.8),
    "security.insecureAPI.getpw": ("CWE-676", "medium", 0.7),
    "optin.portability.UnixAPI": ("CWE-687", "low", 0.5),
}
_DIAG = re.compile(r"^(?P<file>.+?):(?P<line>\d+):\d+: (?P<kind>warning|error): (?P<msg>.*?)(?: \[(?P<chk>[\w.-]+)\])?$")
_QUOTED = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def classify(checker: str, message: str) -> tuple[str, str, float] | None:
    low = message.lower()
    if checker == "unix.Malloc":
        if "after it is freed" in low or "after it is released" in low:
            return "CWE-416", "critical", 0.85
        if "twice" in low:
            return "CWE-415", "high", 0.85
        if "leak" in low:
            return "CWE-401", "medium", 0.75
        if "not allocated" in low or "non-heap" in low or "stack" in low or "memory allocated by alloca" in low:
            return "CWE-590", "high", 0.8
        return "CWE-762", "medium", 0.6
    if checker == "core.CallAndMessage":
        if "uninitialized" in low or "garbage" in low:
            return "CWE-457", "medium", 0.7
        if "null" in low:
            return "CWE-476", "medium", 0.75
        return None
    return CHECKERS.get(checker)


def command(exe: str, path: str, stub_dir: str | None, include_dir: str | None) -> list[str]:
    cpp = Path(path).suffix.lower() in (".cpp", ".cc", ".cxx", ".hpp", ".hh", ".hxx")
    cmd = [exe, "--analyze", "-o", os.devnull, "-Wno-everything", "-ferror-limit=20",
           "-Xclang", "-analyzer-checker=" + ",".join(EXTRA_CHECKERS)]
    if cpp:
        cmd[1:1] = ["-x", "c++"]
    for d in (include_dir, stub_dir):
        if d:
            cmd += ["-I", d]
    if stub_dir and not cpp:
        for h in PRELUDE_C:
            cmd += ["-include", h]
    return cmd + [path]


def _stubs(path: str, include_dir: str | None, tmp: str) -> str | None:
    """A folder of empty headers for the quoted #includes that are not next to the file (or in include_dir)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    missing = [h for h in _QUOTED.findall(text)
               if not (Path(path).parent / h).is_file() and not (include_dir and (Path(include_dir) / h).is_file())]
    if not missing:
        return None
    d = Path(tmp) / f"stub{abs(hash(path))}"
    for h in missing:
        target = (d / h).resolve()
        if d.resolve() not in target.parents:  # "../x.h": the stub would land outside its folder
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("/* stub: header not available to the analysis */\n")
    return str(d)


def _one(exe: str, path: str, include_dir: str | None, tmp: str, timeout: float):
    stub = _stubs(path, include_dir, tmp)
    proc = run_tool(command(exe, path, stub, include_dir), timeout=timeout)
    hits: list[Hit] = []
    errors: list[str] = []
    for line in proc.stderr.splitlines():
        m = _DIAG.match(line)
        if not m:
            continue
        if m["kind"] == "error":
            errors.append(f"line {m['line']}: {m['msg'][:100]}")
            continue
        spec = classify(m["chk"] or "", m["msg"])
        if spec is None or os.path.abspath(m["file"]) != os.path.abspath(path):
            continue
        cwe, label, conf = spec
        n = int(m["line"])
        hits.append(Hit(engine="clang", path=path, rule_id=m["chk"], line=n, end_line=n,
                        message=f"clang analyzer: {m['msg']}", cwe=cwe, label=label, confidence=conf))
    note = []
    if errors:
        why = " (headers it needs are missing)" if stub else ""
        note = [f"clang could not compile the file{why}: {errors[0]}; its analyzer did not run on it"]
    return hits, note


def run(exe: str, paths: list[str], *, include_dirs: dict[str, str], timeout: float) -> RunnerOutput:
    hits: list[Hit] = []
    notes: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    # one process per file (the analyzer is per translation unit); the batch's limit is shared
    per_file = max(20.0, timeout / max(1, len(paths)) * 4)
    with tempfile.TemporaryDirectory(prefix="bastion-clang-") as tmp, \
            ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        futs = {p: pool.submit(_one, exe, p, include_dirs.get(p), tmp, per_file) for p in paths}
        for p, fut in futs.items():
            try:
                h, n = fut.result()
            except TimeoutError as exc:
                errors.setdefault(p, []).append(f"clang: {exc}; its analyzer did not finish on this file")
                continue
            hits += h
            if n:
                notes.setdefault(p, []).extend(n)
    return hits, notes, errors
