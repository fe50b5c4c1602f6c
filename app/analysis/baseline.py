"""Stable finding fingerprints, scan-root-relative paths, and baselines ("report only new findings").

A fingerprint hashes what identifies a vulnerability independently of where the file sits on disk
and of lines moving: the path relative to the scan root, the CWE, the flagged line's text
(whitespace-normalised) and its occurrence number among identical (CWE, text) pairs in the file.
The engine and rule id are left out, so a finding keeps its fingerprint when a second engine joins
or a rule is renamed. `--write-baseline FILE` stores the fingerprints; `--baseline FILE` (that file
or a SARIF log with Bastion's partialFingerprints) hides every finding already in it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path

from app.analysis.models import Finding, Report
from app.analysis.walker import safe_resolve
from app.errors import BastionError

FINGERPRINT_KEY = "bastionFindingHash/v1"
FORMAT = "bastion-baseline/1"


def scan_root(reports: list[Report], root: str | Path | None = None) -> Path:
    """The folder paths are made relative to: the given root (a file's parent), else the files' common folder."""
    if root is not None:
        r = Path(root).expanduser().resolve()
        return r.parent if r.is_file() else r
    files = [str(safe_resolve(r.filename)) for r in reports if r.filename]
    if not files:
        return Path.cwd().resolve()
    common = Path(os.path.commonpath(files))
    return common.parent if len(files) == 1 or common.is_file() else common


def relative(filename: str | None, root: Path, fallback: str = "snippet") -> str:
    if not filename:
        return fallback
    p = Path(filename)
    try:
        return safe_resolve(p).relative_to(root).as_posix()
    except (ValueError, OSError):
        return p.name if p.is_absolute() else p.as_posix()


def _norm(text: str) -> str:
    return " ".join(text.split())


def fingerprints(report: Report, rel: str) -> list[str]:
    """One fingerprint per finding of `report`, in order."""
    lines = report.code.splitlines()
    seen: Counter = Counter()
    out = []
    for f in report.findings:
        text = _norm(lines[f.line - 1]) if 0 < f.line <= len(lines) else _norm(f.evidence[0].snippet if f.evidence else "")
        key = (f.risk.cwe_id, text)
        seen[key] += 1
        raw = f"{rel}\x00{f.risk.cwe_id}\x00{text}\x00{seen[key]}"
        out.append(hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32])
    return out


def all_fingerprints(reports: list[Report], root: Path) -> list[str]:
    return sorted({fp for r in reports if r.status == "analysed" for fp in fingerprints(r, relative(r.filename, root))})


def write(path: str | Path, reports: list[Report], root: Path) -> int:
    """Write a baseline of the current findings; returns how many fingerprints it holds."""
    from app.atomic import write_text

    fps = all_fingerprints(reports, root)
    write_text(Path(path), json.dumps({"format": FORMAT, "fingerprints": fps}, indent=1) + "\n")
    return len(fps)


def load(path: str | Path) -> set[str]:
    """Fingerprints from a baseline file or from a SARIF log Bastion wrote."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BastionError(f"cannot read the baseline {p}: {exc.strerror}", hint="check the path") from None
    except json.JSONDecodeError as exc:
        raise BastionError(f"the baseline {p} is not JSON (line {exc.lineno})",
                           hint="pass a file written by --write-baseline or a SARIF log from bastion analyze") from None
    if isinstance(data, dict) and data.get("format") == FORMAT:
        return set(data.get("fingerprints") or [])
    if isinstance(data, dict) and "runs" in data:
        return {res.get("partialFingerprints", {}).get(FINGERPRINT_KEY) for run in data["runs"]
                for res in run.get("results", [])} - {None}
    raise BastionError(f"{p} is not a Bastion baseline",
                       hint="pass a file written by --write-baseline or a SARIF log from bastion analyze")


def apply(reports: list[Report], known: set[str], root: Path) -> int:
    """Keep only findings whose fingerprint is not in `known` (in place); returns how many were hidden."""
    hidden = 0
    for r in reports:
        if r.status != "analysed" or not r.findings:
            continue
        fps = fingerprints(r, relative(r.filename, root))
        keep: list[Finding] = [f for f, fp in zip(r.findings, fps) if fp not in known]
        n = len(r.findings) - len(keep)
        if n:
            hidden += n
            r.findings = keep
            r.notes.append(f"{n} finding(s) already in the baseline are not shown")
            r.settle()
    return hidden
