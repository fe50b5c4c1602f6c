"""The static evidence layer: one Semgrep run, one Bandit run and the optional C/C++ and shell engines
(app.analysis.engines) per batch, side by side, merged into findings."""

from __future__ import annotations

import logging
import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from app.analysis import bandit_runner, engines, languages, semgrep_runner
from app.analysis.cwe import name as cwe_name
from app.analysis.cwe import related
from app.analysis.hits import Hit
from app.analysis.macros import expand_simple_macros
from app.analysis.models import Evidence, Finding, Fix, Risk, label_rank

log = logging.getLogger(__name__)


@dataclass
class StaticResult:
    """Findings and notes per path, plus what ran and how long it took."""

    findings: dict[str, list[Finding]] = field(default_factory=dict)
    hits: dict[str, list[Hit]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    engines: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    engine_languages: dict[str, tuple[str, ...]] = field(default_factory=dict)  # optional engine -> languages

    def ran_on(self, language: str) -> list[str]:
        """The engines that ran on files of `language`."""
        out = ["semgrep"] + (["bandit"] if language in languages.using("bandit") and "bandit" in self.engines else [])
        return out + [e for e, langs in self.engine_languages.items() if language in langs]


def scan(targets: dict[str, str], *, codes: dict[str, str] | None = None, max_bytes: int = 2_000_000) -> StaticResult:
    """Scan files. `targets` maps path -> language; `codes` (optional) maps path -> text for snippets."""
    res = StaticResult()
    if not targets:
        return res
    paths = sorted(targets)
    bandit_languages = languages.using("bandit")
    py = [p for p in paths if targets[p] in bandit_languages]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bastion-scan-") as tmp:
        # Semgrep gets one flat folder of copies named f<i>.<suffix of the language>: it picks rules
        # by suffix (scripts found by their shebang and --lang overrides need the right one), one
        # folder target is cheaper for it than thousands of file arguments, and no ignore file
        # of its own can hide a file we chose to scan. Results are mapped back to the real paths.
        alias = _aliases(paths, targets, codes or {}, Path(tmp))
        procs = semgrep_runner.start([tmp], max_bytes=max_bytes)
        # the optional engines (cppcheck, clang, flawfinder, shellcheck) run on the same copies meanwhile;
        # a quoted #include resolves against the real file's folder
        dirs = {alias[p]: str(Path(p).parent) for p in paths if p in alias and Path(p).is_file()}
        with ThreadPoolExecutor(max_workers=1) as pool:
            extra_job = pool.submit(engines.run, {alias[p]: targets[p] for p in paths if p in alias}, include_dirs=dirs)
            b_hits, b_notes, b_errors = [], {}, {}
            if py:
                b_hits, b_notes, b_errors = bandit_runner.run(py)
                res.engines.append("bandit")
            t1 = time.perf_counter()
            s_hits, s_notes, s_errors = semgrep_runner.collect(procs)
            extra = extra_job.result()
    back = {v: k for k, v in alias.items()}
    s_hits += extra.hits
    for h in s_hits:
        h.path = back.get(h.path, h.path)
    s_notes = {back.get(k, k): v for k, v in s_notes.items()}
    s_errors = {back.get(k, k): v for k, v in s_errors.items()}
    for src, dst in ((extra.notes, s_notes), (extra.errors, s_errors)):
        for k, v in src.items():
            dst.setdefault(back.get(k, k), []).extend(v)
    res.engine_languages = dict(extra.ran)
    for name, why in extra.skipped.items():  # once per file of a language the engine covers
        langs = next(s.languages for s in engines.SPECS if s.name == name)
        for p in paths:
            if targets[p] in langs:
                s_notes.setdefault(p, []).append(f"{name} skipped: {why}")
    for p in paths:
        if p not in alias:
            res.errors.setdefault(p, []).append("could not copy the file for semgrep; it was not scanned")
    res.engines.insert(0, "semgrep")
    res.engines += list(extra.ran)
    res.seconds = {"bandit": t1 - t0 if py else 0.0, "semgrep": time.perf_counter() - t0, **extra.seconds}
    for notes in (s_notes, b_notes):
        for p, ns in notes.items():
            res.notes.setdefault(p, []).extend(ns)
    for errors in (s_errors, b_errors):
        for p, es in errors.items():
            res.errors.setdefault(p, []).extend(es)
    for h in s_hits + b_hits:
        res.hits.setdefault(h.path, []).append(h)
    for p in paths:
        code = (codes or {}).get(p)
        if code is None:
            try:
                with open(p, encoding="utf-8", errors="replace") as fh:
                    code = fh.read()
            except OSError:
                code = ""
        res.findings[p] = to_findings(res.hits.get(p, []), code)
    return res


def _aliases(paths: list[str], targets: dict[str, str], codes: dict[str, str], tmp: Path) -> dict[str, str]:
    """Copy each target to tmp/f<i>.<suffix>; returns real path -> copy."""
    out: dict[str, str] = {}
    for i, p in enumerate(paths):
        lang = targets[p]
        own = languages.by_suffix(Path(p).suffix)  # a file keeps its own suffix when it names its language
        suffix = Path(p).suffix.lower() if own and own.name == lang else languages.suffix(lang)
        dst = tmp / f"f{i}{suffix}"
        try:
            text = codes.get(p)
            if text is None:
                text = Path(p).read_text(encoding="utf-8", errors="replace")
            if lang in ("c", "cpp"):
                # Semgrep does not preprocess: `#define SYSTEM system` must read as `system` to its rules.
                # Line numbers are kept, and snippets and fixes come from the real text (`to_findings`).
                text = expand_simple_macros(text)
            dst.write_text(text, encoding="utf-8")
        except OSError:
            continue
        out[p] = str(dst)
    return out


# Inline comments that ask a scanner to look away. Code under review is attacker-controlled, so by
# default they are reported next to the finding, never obeyed (the scanners run with them disabled).
SUPPRESSION = re.compile(r"(?:#|//|/\*|--|<!--)\s*(nosec\b[^\n]*|nosemgrep\b[^\n]*|NOSONAR\b|noqa\b[^\n]*|"
                         r"eslint-disable[^\n]*|codeql\[[^\n]*|lgtm\b[^\n]*|@SuppressWarnings)", re.I)


def suppression_at(lines: list[str], start: int, end: int) -> str:
    """The suppression comment on lines start..end or the line just above (semgrep honours both), else ''."""
    for n in range(max(1, start - 1), max(start, end) + 1):
        if n - 1 < len(lines):
            m = SUPPRESSION.search(lines[n - 1])
            if m:
                return f"line {n}: {m.group(0).strip()[:60]}"
    return ""


def to_findings(hits: list[Hit], code: str) -> list[Finding]:
    """Merge hits on overlapping lines with related CWEs into one finding each."""
    lines = code.splitlines()
    order = sorted(hits, key=lambda h: (h.engine != "semgrep", -label_rank(h.label), -h.confidence, h.line))
    merged: list[tuple[Finding, Hit]] = []
    for h in order:
        ev = Evidence(engine=h.engine, rule_id=h.rule_id, line=h.line, end_line=max(h.end_line, h.line),
                      snippet=_snippet(lines, h.line, h.end_line), message=h.message)
        for f, first in merged:
            cross = h.engine != first.engine
            other_rule = cross or h.rule_id != first.rule_id
            near = _overlaps(first, h) or (other_rule and abs(h.line - first.line) <= NEAR_LINES)
            if near and (related(first.cwe, h.cwe) or cross and h.line == first.line):
                if any(e.engine == h.engine and e.rule_id == h.rule_id for e in f.evidence):
                    break
                f.evidence.append(ev)
                if label_rank(h.label) > label_rank(f.label):
                    f.label = h.label
                if h.engine != first.engine:
                    f.confidence = round(min(0.97, max(f.confidence, h.confidence) + 0.05), 2)
                break
        else:
            merged.append((_finding(h, ev, code), h))
    out = [f for f, _ in merged]
    for f in out:
        f.suppression = suppression_at(lines, f.line, max(e.end_line or e.line for e in f.evidence))
    return out


def _finding(h: Hit, ev: Evidence, code: str) -> Finding:
    fix = Fix(hint=h.fix_hint)
    if h.autofix is not None and h.start_offset is not None and h.end_offset is not None:
        raw = code.encode("utf-8")
        patched = (raw[: h.start_offset] + h.autofix.encode("utf-8") + raw[h.end_offset:]).decode("utf-8", "replace")
        if patched != code:  # a rule's mechanical fix (fix-regex); verified like any other patch
            fix = Fix(hint=h.fix_hint, code=patched, author="rule")
    return Finding(
        analysis=h.message,
        label=h.label if h.label in ("low", "medium", "high", "critical") else "medium",
        risk=Risk(cwe_id=h.cwe or "CWE-20", cwe_name=cwe_name(h.cwe), why=h.attack or h.message),
        fix=fix,
        evidence=[ev],
        source="static",
        confidence=h.confidence,
    )


# Two engines (or two rules) often flag one vulnerability a line or two apart (one at the string
# that builds a query, another at the execute call): different rules of one CWE family within this
# many lines are one finding with both as evidence. One rule firing on two lines stays two findings.
NEAR_LINES = 3


def _overlaps(a: Hit, b: Hit) -> bool:
    return a.line <= max(b.end_line, b.line) and b.line <= max(a.end_line, a.line)


def _snippet(lines: list[str], start: int, end: int, limit: int = 6) -> str:
    end = max(end, start)
    chunk = lines[start - 1 : min(end, start + limit - 1)]
    return "\n".join(chunk)[:600]
