"""ShellCheck on shell scripts. Most of its codes are correctness advice; those that let input change
what a command does are hits, and only the destructive-path ones count toward the label alone."""

from __future__ import annotations

import json

from app.analysis.engine_base import RunnerOutput, run_tool
from app.analysis.hits import Hit

# SC code -> (CWE, label, confidence). Below 0.5 a hit is listed as evidence but does not move the label
# (an unquoted variable is a risk only when an attacker controls it, which ShellCheck cannot see).
CODES: dict[int, tuple[str, str, float]] = {
    2086: ("CWE-88", "low", 0.45),   # unquoted expansion: word splitting and globbing
    2046: ("CWE-88", "low", 0.45),   # unquoted command substitution
    2048: ("CWE-88", "low", 0.45),   # unquoted $*
    2068: ("CWE-88", "low", 0.45),   # unquoted $@
    2294: ("CWE-95", "medium", 0.45),  # eval on an array
    2091: ("CWE-78", "medium", 0.45),  # runs the output of a command substitution
    2115: ("CWE-73", "high", 0.7),   # rm -rf "$var/": empty var deletes /
    2114: ("CWE-73", "high", 0.7),   # rm -rf on a path that may be empty
    2029: ("CWE-78", "medium", 0.45),  # ssh command expanded on the client side
    2216: ("CWE-20", "low", 0.45),
}


def run(exe: str, paths: list[str], *, include_dirs: dict[str, str], timeout: float) -> RunnerOutput:
    proc = run_tool([exe, "--format=json1", "--severity=info", "--shell=bash", "--"] + paths, timeout=timeout)
    try:
        data = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError:
        return [], {p: [f"shellcheck gave no readable output (exit {proc.returncode})"] for p in paths}, {}
    hits: list[Hit] = []
    notes: dict[str, list[str]] = {}
    for c in data.get("comments", []):
        code = int(c.get("code", 0))
        if code == 1073 or (c.get("level") == "error" and code in range(1000, 1200)):  # parse errors
            notes.setdefault(c["file"], []).append(f"shellcheck: SC{code} at line {c.get('line')}: {c.get('message', '')[:100]}")
            continue
        spec = CODES.get(code)
        if spec is None:
            continue
        cwe, label, conf = spec
        hits.append(Hit(engine="shellcheck", path=c["file"], rule_id=f"SC{code}", line=int(c.get("line", 1)),
                        end_line=int(c.get("endLine", c.get("line", 1))), message=f"shellcheck: {c.get('message', '')}",
                        cwe=cwe, label=label, confidence=conf))
    return hits, notes, {}
