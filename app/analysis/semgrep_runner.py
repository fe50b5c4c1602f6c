"""Run the Semgrep engine offline on a batch of files with Bastion's own rule pack."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from app.analysis.hits import CONFIDENCE, Hit
from app.errors import BastionError

log = logging.getLogger(__name__)

RULES_DIR = Path(__file__).resolve().parent / "rules"
# Keep each command line well under the kernel's argument limit.
_MAX_ARGS_CHARS = 100_000


def semgrep_binary() -> str:
    """The semgrep next to this Python (a venv), else the one on PATH."""
    here = Path(sys.executable).parent / "semgrep"
    if here.is_file():
        return str(here)
    found = shutil.which("semgrep")
    if not found:
        raise BastionError("the semgrep engine is not installed", hint="pip install semgrep (it ships with bastion)")
    return found


def _env() -> dict[str, str]:
    from app.paths import cache_dir

    state = cache_dir() / "semgrep"
    state.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        SEMGREP_ENABLE_VERSION_CHECK="0",
        SEMGREP_SEND_METRICS="off",
        SEMGREP_SETTINGS_FILE=str(state / "settings.yml"),
        SEMGREP_LOG_FILE=str(state / "semgrep.log"),
        SEMGREP_VERSION_CACHE_PATH=str(state / "version"),
        SEMGREP_USER_AGENT_APPEND="bastion-offline",
    )
    return env


def command(targets: list[str], *, rules: Path = RULES_DIR, max_bytes: int = 2_000_000, jobs: int | None = None) -> list[str]:
    cmd = [
        semgrep_binary(), "scan", "--config", str(rules), "--json", "--quiet",
        "--metrics=off", "--disable-version-check", "--no-git-ignore", "--disable-nosem",
        "--max-target-bytes", str(max_bytes), "--timeout", "10",
    ]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    return cmd + ["--"] + targets


def _chunks(paths: list[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    size = 0
    for p in paths:
        if size + len(p) > _MAX_ARGS_CHARS and out[-1]:
            out.append([])
            size = 0
        out[-1].append(p)
        size += len(p) + 1
    return [c for c in out if c]


def start(paths: list[str], **kw) -> list[subprocess.Popen]:
    """Start Semgrep on `paths` (in as few processes as the command line allows)."""
    procs = []
    for chunk in _chunks(paths):
        procs.append(subprocess.Popen(command(chunk, **kw), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      stdin=subprocess.DEVNULL, env=_env(), text=True))
    return procs


def collect(procs: list[subprocess.Popen], *, timeout: float = 600
            ) -> tuple[list[Hit], dict[str, list[str]], dict[str, list[str]]]:
    """Wait for the processes; return hits, per-path notes (partial parses) and per-path errors (not scanned)."""
    hits: list[Hit] = []
    notes: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise BastionError(f"semgrep took longer than {timeout:.0f}s", hint="scan fewer files at once") from None
        try:
            data = json.loads(out)
        except json.JSONDecodeError:
            raise BastionError(
                f"semgrep failed (exit {proc.returncode}): {err.strip()[-400:] or 'no output'}",
                hint="run `bastion doctor`; reinstall semgrep if it persists",
            ) from None
        for e in data.get("errors", []):
            _note_error(e, notes, errors)
        hits.extend(_hit(r) for r in data.get("results", []))
    return hits, notes, errors


def run(paths: list[str], **kw) -> tuple[list[Hit], dict[str, list[str]], dict[str, list[str]]]:
    return collect(start(paths, **kw))


_FATAL = ("timeout", "outofmemory", "fatal", "stackoverflow", "toolarge")


def _note_error(e: dict, notes: dict[str, list[str]], errors: dict[str, list[str]] | None = None) -> None:
    path = e.get("path") or ""
    kind = e.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if (kind and "rule" in str(kind).lower()) or (not path and e.get("level") == "error"):
        detail = e.get("message") or e.get("long_msg") or e.get("short_msg") or json.dumps(e)[:300]
        raise BastionError(f"Bastion's semgrep rule pack is invalid: {str(detail)[:600]}",
                           hint="reinstall bastion; the rule files under app/analysis/rules were changed")
    spans = e.get("spans") or []
    line = spans[0].get("start", {}).get("line") if spans else None
    where = f" at line {line}" if line else ""
    if errors is not None and any(k in str(kind).lower().replace(" ", "") for k in _FATAL):
        errors.setdefault(path, []).append(f"semgrep: {kind}{where}; the file was not (fully) scanned")
        return
    notes.setdefault(path, []).append(f"semgrep: {kind or 'error'}{where}; results for this file may be incomplete")


def _hit(r: dict) -> Hit:
    extra = r.get("extra", {})
    meta = extra.get("metadata", {}) or {}
    from app.analysis.cwe import normalise

    return Hit(
        engine="semgrep",
        path=r["path"],
        rule_id=r["check_id"].rsplit(".", 1)[-1],
        line=r["start"]["line"],
        end_line=r["end"]["line"],
        message=" ".join(str(extra.get("message", "")).split()),
        cwe=normalise(meta.get("cwe")),
        label=str(meta.get("label", "medium")),
        confidence=CONFIDENCE.get(str(meta.get("confidence", "medium")), 0.75),
        fix_hint=str(meta.get("fix", "")),
        attack=str(meta.get("attack", "")),
        autofix=extra.get("fix"),
        start_offset=r["start"].get("offset"),
        end_offset=r["end"].get("offset"),
    )
