"""flawfinder on C/C++ files, limited to calls that are a weakness whatever their arguments.

flawfinder is lexical: it flags every strcpy/memcpy/printf/system, so on look-alike safe code
(measured on the Juliet tune half) its general hits are as frequent in the fixed twin as in the bug.
Only the functions below, unsafe by design, become hits; the rest is dropped.
"""

from __future__ import annotations

import csv
import io

from app.analysis.engine_base import RunnerOutput, run_tool
from app.analysis.hits import Hit

# function -> (CWE, label, confidence, fix hint)
INHERENTLY_UNSAFE: dict[str, tuple[str, str, float, str]] = {
    "gets": ("CWE-242", "high", 0.9, "use fgets(buf, sizeof buf, stdin)"),
    "_getws": ("CWE-242", "high", 0.9, "use fgetws with the buffer's size"),
    "mktemp": ("CWE-377", "medium", 0.8, "use mkstemp, which creates the file atomically"),
    "tmpnam": ("CWE-377", "medium", 0.8, "use mkstemp or tmpfile"),
    "tempnam": ("CWE-377", "medium", 0.8, "use mkstemp or tmpfile"),
    "_wtmpnam": ("CWE-377", "medium", 0.8, "use mkstemp or tmpfile"),
    "_wtempnam": ("CWE-377", "medium", 0.8, "use mkstemp or tmpfile"),
    "_mktemp": ("CWE-377", "medium", 0.8, "use mkstemp"),
    "getpw": ("CWE-676", "medium", 0.7, "use getpwuid"),
}


def run(exe: str, paths: list[str], *, include_dirs: dict[str, str], timeout: float) -> RunnerOutput:
    proc = run_tool([exe, "--csv", "--quiet", "--dataonly", "--minlevel=1", "--"] + paths, timeout=timeout)
    hits: list[Hit] = []
    for row in csv.DictReader(io.StringIO(proc.stdout)):
        spec = INHERENTLY_UNSAFE.get(row.get("Name", ""))
        if spec is None or not str(row.get("Line", "")).isdigit():
            continue
        cwe, label, conf, hint = spec
        line = int(row["Line"])
        hits.append(Hit(engine="flawfinder", path=row["File"], rule_id=f"{row.get('RuleId') or 'FF'}:{row['Name']}",
                        line=line, end_line=line, message=f"flawfinder: {row.get('Warning', '').strip()}",
                        cwe=cwe, label=label, confidence=conf, fix_hint=hint))
    return hits, {}, {}
