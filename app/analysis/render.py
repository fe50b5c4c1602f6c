"""Renderers for reports: plain text, JSON and Markdown (SARIF lives in `sarif.py`)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Iterable

from app.analysis.models import LABELS, Report, label_rank


def as_list(reports: Report | Iterable[Report]) -> list[Report]:
    return [reports] if isinstance(reports, Report) else list(reports)


def worst(reports: Report | Iterable[Report]) -> str:
    labels = [r.label for r in as_list(reports) if r.label]
    return max(labels, key=label_rank) if labels else "safe"


def summary(reports: Report | Iterable[Report]) -> dict:
    rs = as_list(reports)
    found = [f for r in rs for f in r.findings]
    counts = Counter(f.label for f in found if f.counted)
    return {
        "files": len(rs),
        "analysed": sum(r.status == "analysed" for r in rs),
        "skipped": sum(r.status == "skipped" for r in rs),
        "unsupported": sum(r.status == "unsupported" for r in rs),
        "errors": sum(r.status == "error" or bool(r.errors) for r in rs),
        "findings": sum(not f.model_only for f in found),
        "model_suggestions": sum(f.model_only and not f.verified_by for f in found),
        "model_findings_verified": sum(f.model_only and bool(f.verified_by) for f in found),
        "model_findings_dropped": sum(r.model_checks.model_findings_dropped for r in rs),
        "model_prose_shown": sum(r.model_checks.prose_shown for r in rs),
        "model_prose_rejected": sum(r.model_checks.prose_rejected for r in rs),
        "suppression_comments": sum(bool(f.suppression) for f in found),
        "by_label": {k: counts.get(k, 0) for k in LABELS[1:]},
        "fixes": {k: sum(f.fix.state == k for f in found if not f.model_only) for k in ("verified", "proposed", "none")},
        "worst": worst(rs),
    }


def _context(code: str, line: int, end: int, around: int = 2) -> str:
    lines = code.splitlines()
    if not lines or line < 1:
        return ""
    a, b = max(1, line - around), min(len(lines), max(line, end) + around)
    return "\n".join(f"{n:>5}| {lines[n - 1][:300]}" for n in range(a, b + 1))


def finding_record(f, r: Report, file: str, fingerprint: str = "") -> dict:
    """One finding as a flat JSON record: where, what, how bad, who said so, the fix."""
    end = f.evidence[0].end_line if f.evidence else f.line
    return {
        "file": file, "line": f.line, "end_line": max(end or f.line, f.line), "cwe": f.risk.cwe_id,
        "cwe_name": f.risk.cwe_name, "label": f.label, "confidence": f.confidence, "counted": f.counted,
        "source": f.source, "model_only": f.model_only, "verified_by": f.verified_by,
        "evidence": [{"engine": e.engine, "rule_id": e.rule_id, "line": e.line, "message": e.message} for e in f.evidence],
        "analysis": f.analysis, "explanation_by": f.explanation_by, "attack": f.risk.why,
        "context": _context(r.code, f.line, end or f.line), "suppression": f.suppression,
        "model_verdict": f.model_verdict, "model_reason": f.model_reason,
        "fix": {"state": f.fix.state, "author": f.fix.author, "hint": f.fix.hint, "diff": f.fix.diff, "notes": f.fix.notes},
        "fingerprint": fingerprint,
    }


def to_json(reports: Report | Iterable[Report], *, include_code: bool = False, indent: int | None = 2,
            root=None) -> str:
    """Slim JSON: {"summary", "files": [per file status], "findings": [flat records]}; paths relative to the root.

    Findings carry file, line, CWE and label at the top level and a few lines of context, never
    whole files (`include_code=True` adds each file's code to its entry in "files").
    """
    from app.analysis.baseline import fingerprints, relative, scan_root

    rs = as_list(reports)
    base = scan_root(rs, root)
    files, findings = [], []
    for r in rs:
        rel = relative(r.filename, base, fallback=f"<{r.language} code>")
        entry = {"file": rel, "language": r.language, "status": r.status, "label": r.label,
                 "safe_reason": r.safe_reason, "analyzers": r.engines_ran, "notes": r.notes, "errors": r.errors,
                 "timings": r.timings}
        if include_code:
            entry["code"] = r.code
        files.append(entry)
        fps = fingerprints(r, rel) if r.status == "analysed" else []
        findings += [finding_record(f, r, rel, fp) for f, fp in zip(r.findings, fps)]
    data = {"summary": summary(rs), "files": files, "findings": findings}
    return json.dumps(data, indent=indent, ensure_ascii=False)


def _where(r: Report) -> str:
    return r.filename or f"<{r.language} code>"


def _finding_lines(f) -> list[str]:
    out: list[str] = []
    ev = f.evidence[0] if f.evidence else None
    rules = ", ".join(f"{e.engine}:{e.rule_id}" for e in f.evidence)
    out.append(f"  - line {f.line}: {f.label.upper()} {f.risk.cwe_id} {f.risk.cwe_name}")
    out.append(f"    source: {f.source} (confidence {f.confidence:.2f}); evidence: {rules}")
    out.append(f"    {f.analysis}" + ("  [explained by the model]" if f.explanation_by == "model" else ""))
    if f.risk.why and f.risk.why != f.analysis:
        out.append(f"    attack: {f.risk.why}")
    if f.suppression:
        out.append(f"    suppression comment present ({f.suppression}): not honoured")
    if f.model_verdict == "dispute":
        out.append(f"    note: the model disputes this ({f.model_reason or 'no reason given'}); the rule's label stands")
    elif f.model_verdict:
        out.append(f"    model confirms: {f.model_reason or '(no reason given)'}")
    if ev and ev.snippet:
        out.extend(f"    | {line}" for line in ev.snippet.splitlines()[:4])
    if f.fix.hint:
        out.append(f"    fix: {f.fix.hint}")
    if f.fix.code is not None:
        state = "VERIFIED" if f.fix.verified else "PROPOSED (unverified)"
        out.append(f"    patch by {f.fix.author} — {state}: {'; '.join(f.fix.notes)}")
        out.extend(f"      {line}" for line in f.fix.diff.splitlines()[2:40])
    return out


def to_text(reports: Report | Iterable[Report], *, verbose: bool = False) -> str:
    out: list[str] = []
    rs = as_list(reports)
    for r in rs:
        if r.status == "skipped":
            if verbose:
                out.append(f"{_where(r)}: SKIPPED — {'; '.join(r.notes)}")
            continue
        if r.status in ("unsupported", "error"):
            out.append(f"{_where(r)}: {r.status.upper()} — {'; '.join(r.errors or r.notes)}")
            continue
        out.append(f"{_where(r)} [{r.language}]: {r.label.upper() if r.label else '?'}"
                   f" ({sum(not f.model_only for f in r.findings)} finding(s); analyzers: {', '.join(r.engines_ran) or 'none'})")
        if r.safe_reason:
            out.append(f"  safe: {r.safe_reason}")
        for f in (f for f in r.findings if not f.model_only):
            out += _finding_lines(f)
        verified = [f for f in r.findings if f.model_only and f.verified_by]
        if verified:
            out.append("  model findings verified by an independent check (counted in the label):")
            for f in verified:
                out += _finding_lines(f)
                out.append(f"    verified by: {f.verified_by}")
        extra = [f for f in r.findings if f.model_only and not f.verified_by]
        if extra:
            out.append("  model suggestions (no rule evidence; not counted in the label):")
            for f in extra:
                out += _finding_lines(f)
        for e in r.errors:
            out.append(f"  ERROR: {e}")
        for n in r.notes:
            out.append(f"  note: {n}")
    s = summary(rs)
    tail = (f"\n{s['analysed']} analysed, {s['unsupported']} unsupported, {s['errors']} with errors, "
            f"{s['skipped']} skipped{'' if verbose or not s['skipped'] else ' (-v lists them)'}; "
            f"{s['findings']} finding(s)")
    if s["model_suggestions"]:
        tail += f", {s['model_suggestions']} model suggestion(s)"
    if s["model_findings_verified"] or s["model_findings_dropped"]:
        tail += (f", model-only findings {s['model_findings_verified']} kept (verified) / "
                 f"{s['model_findings_dropped']} dropped (check failed)")
    if s["model_prose_rejected"]:
        tail += f", {s['model_prose_rejected']} model explanation(s) refused (rule text kept)"
    # "worst: safe" over files none of which was analysed would be a SAFE nobody earned
    out.append(tail + (f"; worst: {s['worst']}" if s["analysed"] else "; no verdict"))
    return "\n".join(out)


def to_markdown(reports: Report | Iterable[Report]) -> str:
    rs = as_list(reports)
    s = summary(rs)
    out = ["# Bastion secure-code analysis", "",
           f"{s['analysed']} analysed, {s['unsupported']} unsupported, {s['errors']} with errors, {s['skipped']} skipped, "
           f"{s['findings']} finding(s); worst label: **{s['worst']}**", ""]
    for r in rs:
        out.append(f"## `{_where(r)}` — {r.label or r.status}")
        out.append("")
        if r.status != "analysed" or r.safe_reason:
            out.append(f"_{'; '.join(r.errors or r.notes) if r.status != 'analysed' else r.safe_reason}_")
            out.append("")
        if r.findings:
            out += ["| Line | Label | CWE | Source | Confidence | Rule |", "|---:|---|---|---|---:|---|"]
            for f in r.findings:
                out.append(f"| {f.line} | {f.label} | {f.risk.cwe_id} | {f.source} | {f.confidence:.2f} | `{f.rule_id}` |")
            out.append("")
        for f in r.findings:
            out.append(f"### Line {f.line}: {f.risk.cwe_id} {f.risk.cwe_name} ({f.label})")
            out.append("")
            who = "the model" if f.explanation_by == "model" else "the rule"
            out.append(f"**Analysis** (by {who}): {f.analysis}")
            out.append("")
            if f.risk.why:
                out.append(f"**Attack:** {f.risk.why}")
                out.append("")
            if f.model_only and f.verified_by:
                out.append(f"_Model finding verified by {f.verified_by}; counted in the label._")
                out.append("")
            elif f.model_only:
                out.append("_Model suggestion: no rule evidence; not counted in the label._")
                out.append("")
            if f.suppression:
                out.append(f"_Suppression comment present ({f.suppression}): not honoured._")
                out.append("")
            if f.model_verdict:
                out.append(f"**Model {f.model_verdict}s** (a note; the rule's label stands): {f.model_reason or '(no reason given)'}")
                out.append("")
            if f.fix.hint:
                out.append(f"**Fix:** {f.fix.hint}")
                out.append("")
            if f.fix.code is not None:
                state = "verified" if f.fix.verified else "**proposed, not verified**"
                out.append(f"Patch by {f.fix.author}, {state}: {'; '.join(f.fix.notes)}")
                out += ["", "```diff", f.fix.diff.rstrip(), "```", ""]
        for n in (r.notes if r.status == "analysed" else []):
            out.append(f"> note: {n}")
        out.append("")
    return "\n".join(out)
