"""cppcheck on C/C++ files: its memory-safety checks (bounds, NULL, uninitialised, leaks, frees) as hits."""

from __future__ import annotations

import os
import tempfile

from app.analysis.engine_base import RunnerOutput, run_tool
from app.analysis.hits import Hit

# cppcheck id -> (CWE, label, confidence). cppcheck is path-sensitive and conservative (measured on the
# Juliet tune half: few false positives), so its errors count. Ids not listed here are style,
# portability or API-usage advice: dropped.
CHECKS: dict[str, tuple[str, str, float]] = {
    "arrayIndexOutOfBounds": ("CWE-787", "high", 0.85),
    "arrayIndexOutOfBoundsCond": ("CWE-787", "high", 0.7),
    "bufferAccessOutOfBounds": ("CWE-787", "high", 0.85),
    "outOfBounds": ("CWE-787", "high", 0.8),
    "negativeIndex": ("CWE-786", "high", 0.8),
    "pointerOutOfBounds": ("CWE-823", "medium", 0.6),
    "insecureCmdLineArgs": ("CWE-121", "high", 0.8),
    "invalidFunctionArg": ("CWE-628", "medium", 0.6),
    "nullPointer": ("CWE-476", "medium", 0.8),
    "nullPointerRedundantCheck": ("CWE-476", "medium", 0.65),
    "nullPointerArithmetic": ("CWE-476", "medium", 0.7),
    "ctunullpointer": ("CWE-476", "medium", 0.7),
    "uninitvar": ("CWE-457", "medium", 0.8),
    "legacyUninitvar": ("CWE-457", "medium", 0.8),
    "uninitdata": ("CWE-457", "medium", 0.8),
    "uninitStructMember": ("CWE-457", "medium", 0.7),
    "memleak": ("CWE-401", "medium", 0.8),
    "memleakOnRealloc": ("CWE-401", "medium", 0.75),
    "leakReturnValNotUsed": ("CWE-401", "medium", 0.75),
    "leakNoVarFunctionCall": ("CWE-401", "medium", 0.7),
    "resourceLeak": ("CWE-775", "medium", 0.75),
    "doubleFree": ("CWE-415", "high", 0.85),
    "deallocuse": ("CWE-416", "critical", 0.85),
    "deallocret": ("CWE-416", "critical", 0.8),
    "useClosedFile": ("CWE-910", "medium", 0.7),
    "autovarInvalidDeallocation": ("CWE-590", "high", 0.85),
    "mismatchAllocDealloc": ("CWE-762", "high", 0.8),
    "pointerSize": ("CWE-467", "medium", 0.8),
    "sizeofDivisionMemfunc": ("CWE-682", "medium", 0.6),
    "zerodiv": ("CWE-369", "medium", 0.8),
    "zerodivcond": ("CWE-369", "medium", 0.65),
    "integerOverflow": ("CWE-190", "high", 0.75),
    "invalidLifetime": ("CWE-562", "medium", 0.7),
    "returnDanglingLifetime": ("CWE-562", "medium", 0.75),
    "autoVariables": ("CWE-562", "medium", 0.75),
    "bufferNotZeroTerminated": ("CWE-170", "medium", 0.7),
    "terminateStrncpy": ("CWE-170", "low", 0.5),
    "getsCalled": ("CWE-242", "high", 0.9),
    "wrongPrintfScanfArgNum": ("CWE-685", "medium", 0.7),
    "invalidScanfFormatWidth": ("CWE-787", "high", 0.8),
    "invalidscanf": ("CWE-120", "medium", 0.6),
}
PARSE_PROBLEMS = {"syntaxError", "unknownMacro", "internalAstError", "cppcheckError", "preprocessorErrorDirective"}
SEP = "\x1f"


def command(exe: str, file_list: str) -> list[str]:
    return [exe, "--enable=warning,portability", "--inconclusive", "--quiet", "--max-configs=1",
            f"-j{max(1, min(4, os.cpu_count() or 1))}", "--suppress=missingIncludeSystem", "--suppress=missingInclude",
            f"--template={{file}}{SEP}{{line}}{SEP}{{severity}}{SEP}{{id}}{SEP}{{cwe}}{SEP}{{message}}",
            f"--file-list={file_list}"]


def run(exe: str, paths: list[str], *, include_dirs: dict[str, str], timeout: float) -> RunnerOutput:
    hits: list[Hit] = []
    notes: dict[str, list[str]] = {}
    with tempfile.NamedTemporaryFile("w", suffix=".txt", prefix="bastion-cppcheck-", delete=False) as fh:
        fh.write("\n".join(paths) + "\n")
        listing = fh.name
    try:
        proc = run_tool(command(exe, listing), timeout=timeout)
    finally:
        os.unlink(listing)
    for line in proc.stderr.splitlines():
        parts = line.split(SEP)
        if len(parts) != 6:
            continue
        path, lineno, _sev, cid, _cwe, msg = parts
        if cid in PARSE_PROBLEMS:
            notes.setdefault(path, []).append(f"cppcheck: {cid} at line {lineno}; its results for this file may be "
                                              "incomplete")
            continue
        spec = CHECKS.get(cid)
        if spec is None or not lineno.isdigit():
            continue
        cwe, label, conf = spec
        hits.append(Hit(engine="cppcheck", path=path, rule_id=cid, line=max(1, int(lineno)), end_line=int(lineno),
                        message=f"cppcheck: {msg}", cwe=cwe, label=label, confidence=conf,
                        fix_hint=_HINTS.get(cwe, "")))
    return hits, notes, {}


_HINTS = {
    "CWE-787": "check the index or length against the buffer's size before the access",
    "CWE-476": "check the pointer for NULL (e.g. after malloc) before dereferencing it",
    "CWE-457": "initialise the variable on every path before reading it",
    "CWE-401": "free the memory on every path (or hand its ownership to a caller that frees it)",
    "CWE-415": "free the memory once; set the pointer to NULL after free",
    "CWE-416": "do not use memory after freeing it; set the pointer to NULL after free",
    "CWE-590": "free only memory that came from malloc/calloc/realloc",
    "CWE-467": "use sizeof(*ptr) or sizeof(the type), not sizeof(ptr)",
    "CWE-369": "check the divisor for zero first",
    "CWE-242": "use fgets(buf, sizeof buf, stdin) instead of gets",
}
