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
    counts = Counter(f.label for r in rs for f in r.findings if f.counted)
    return {
        "files": len(rs),
        "analysed": sum(r.status == "analysed" for r in rs),
        "skipped": sum(r.status == "skipped" for r in rs),
        "findings": sum(len(r.findings) for r in rs),
        "by_label": {k: counts.get(k, 0) for k in LABELS[1:]},
        "worst": worst(rs),
    }


def to_json(reports: Report | Iterable[Report], *, include_code: bool = True, indent: int | None = 2) -> str:
    """{"summary": {...}, "reports": [Report, ...]} — each report validates against `report_schema()`."""
    rs = as_list(reports)
    data = {"summary": summary(rs), "reports": [r.model_dump(mode="json", exclude=None if include_code else {"code"}) for r in rs]}
    return json.dumps(data, indent=indent, ensure_ascii=False)


def _where(r: Report) -> str:
    return r.filename or f"<{r.language} code>"


def to_text(reports: Report | Iterable[Report]) -> str:
    out: list[str] = []
    for r in as_list(reports):
        if r.status == "skipped":
            out.append(f"{_where(r)}: SKIPPED — {'; '.join(r.notes)}")
            continue
        out.append(f"{_where(r)} [{r.language}]: {r.label.upper() if r.label else '?'}"
                   f" ({len(r.findings)} finding(s); engines: {', '.join(r.engines_ran) or 'none'})")
        if r.safe_reason:
            out.append(f"  safe: {r.safe_reason}")
        for f in r.findings:
            ev = f.evidence[0] if f.evidence else None
            rules = ", ".join(f"{e.engine}:{e.rule_id}" for e in f.evidence)
            out.append(f"  - line {f.line}: {f.label.upper()} {f.risk.cwe_id} {f.risk.cwe_name}")
            out.append(f"    source: {f.source} (confidence {f.confidence:.2f}); evidence: {rules}")
            out.append(f"    {f.analysis}" + ("  [explained by the model]" if f.explanation_by == "model" else ""))
            if f.risk.why and f.risk.why != f.analysis:
                out.append(f"    attack: {f.risk.why}")
            if f.model_verdict:
                out.append(f"    model {f.model_verdict}s: {f.model_reason or '(no reason given)'}")
            if ev and ev.snippet:
                out.extend(f"    | {line}" for line in ev.snippet.splitlines()[:4])
            if f.fix.hint:
                out.append(f"    fix: {f.fix.hint}")
            if f.fix.code is not None:
                state = "VERIFIED" if f.fix.verified else "NOT VERIFIED"
                out.append(f"    patch by {f.fix.author} — {state}: {'; '.join(f.fix.notes)}")
                out.extend(f"      {line}" for line in f.fix.diff.splitlines()[2:40])
        for n in r.notes:
            out.append(f"  note: {n}")
    s = summary(reports)
    out.append(f"\n{s['analysed']} analysed, {s['skipped']} skipped, {s['findings']} finding(s); worst: {s['worst']}")
    return "\n".join(out)


def to_markdown(reports: Report | Iterable[Report]) -> str:
    rs = as_list(reports)
    s = summary(rs)
    out = ["# Bastion secure-code analysis", "",
           f"{s['analysed']} analysed, {s['skipped']} skipped, {s['findings']} finding(s); worst label: **{s['worst']}**", ""]
    for r in rs:
        out.append(f"## `{_where(r)}` — {r.label or 'skipped'}")
        out.append("")
        if r.status == "skipped" or r.safe_reason:
            out.append(f"_{'; '.join(r.notes) if r.status == 'skipped' else r.safe_reason}_")
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
            if f.model_verdict:
                out.append(f"**Model {f.model_verdict}s:** {f.model_reason or '(no reason given)'}")
                out.append("")
            if f.fix.hint:
                out.append(f"**Fix:** {f.fix.hint}")
                out.append("")
            if f.fix.code is not None:
                state = "verified" if f.fix.verified else "**not verified**"
                out.append(f"Patch by {f.fix.author}, {state}: {'; '.join(f.fix.notes)}")
                out += ["", "```diff", f.fix.diff.rstrip(), "```", ""]
        for n in (r.notes if r.status != "skipped" else []):
            out.append(f"> note: {n}")
        out.append("")
    return "\n".join(out)
