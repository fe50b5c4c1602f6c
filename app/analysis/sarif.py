"""SARIF 2.1.0 output: one run, rules with CWE tags, results with locations and fixes."""

from __future__ import annotations

import difflib
import json
from typing import Iterable

from app.analysis.models import Finding, Report
from app.analysis.render import as_list

LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "safe": "none"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "safe": "0.0"}


def _uri(r: Report) -> str:
    from app.analysis.languages import LANGUAGES

    if r.filename:
        return r.filename.replace("\\", "/")
    return f"snippet{LANGUAGES.get(r.language, '.txt')}"


def _rule_id(f: Finding) -> str:
    if f.evidence and f.evidence[0].engine != "model":
        return f.evidence[0].rule_id
    return f"bastion-model/{f.risk.cwe_id}"


def _replacements(old: str, new: str) -> list[dict]:
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    reps = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if i1 == i2:  # pure insertion before line i1+1
            region = {"startLine": i1 + 1, "startColumn": 1, "endLine": i1 + 1, "endColumn": 1}
        else:
            region = {"startLine": i1 + 1, "startColumn": 1, "endLine": i2 + 1, "endColumn": 1} if i2 < len(a) \
                else {"startLine": i1 + 1, "startColumn": 1, "endLine": i2, "endColumn": len(a[i2 - 1]) + 1}
        reps.append({"deletedRegion": region, "insertedContent": {"text": "".join(b[j1:j2])}})
    return reps


def to_sarif(reports: Report | Iterable[Report], *, tool_version: str | None = None) -> str:
    """A SARIF 2.1.0 log (JSON text)."""
    from app import __version__ as app_version

    rules: dict[str, dict] = {}
    results: list[dict] = []
    artifacts: list[dict] = []
    for r in as_list(reports):
        uri = _uri(r)
        artifacts.append({"location": {"uri": uri}, "sourceLanguage": r.language})
        for f in r.findings:
            rid = _rule_id(f)
            if rid not in rules:
                cwe_num = f.risk.cwe_id.split("-")[-1]
                rules[rid] = {
                    "id": rid,
                    "name": rid.replace("-", " ").replace("/", " ").title().replace(" ", ""),
                    "shortDescription": {"text": f"{f.risk.cwe_id} {f.risk.cwe_name}".strip()},
                    "fullDescription": {"text": (f.evidence[0].message if f.evidence else f.analysis) or f.analysis},
                    "help": {"text": f.fix.hint or "Review the finding."},
                    "defaultConfiguration": {"level": LEVEL[f.label]},
                    "properties": {
                        "tags": ["security", f"external/cwe/cwe-{cwe_num}", f.risk.cwe_id],
                        "security-severity": SECURITY_SEVERITY[f.label],
                        "precision": "high" if f.confidence >= 0.85 else "medium" if f.confidence >= 0.6 else "low",
                        "cwe": f.risk.cwe_id,
                    },
                }
            ev = f.evidence[0] if f.evidence else None
            region = {"startLine": max(1, f.line)}
            if ev and ev.end_line and ev.end_line >= f.line:
                region["endLine"] = ev.end_line
            if ev and ev.snippet:
                region["snippet"] = {"text": ev.snippet}
            res = {
                "ruleId": rid,
                "ruleIndex": list(rules).index(rid),
                "level": LEVEL[f.label],
                "message": {"text": f"{f.risk.cwe_id}: {f.analysis}"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": region}}],
                "properties": {
                    "label": f.label, "cwe": f.risk.cwe_id, "confidence": f.confidence, "source": f.source,
                    "engines": sorted({e.engine for e in f.evidence}), "model_verdict": f.model_verdict,
                    "model_reason": f.model_reason, "fix_verified": f.fix.verified, "fix_notes": f.fix.notes,
                    "tags": ["security", f.risk.cwe_id],
                },
            }
            if f.fix.code is not None and r.code:
                reps = _replacements(r.code, f.fix.code)
                if reps:
                    state = "verified" if f.fix.verified else "NOT verified"
                    res["fixes"] = [{
                        "description": {"text": f"Patch by {f.fix.author} ({state}): {f.fix.hint}".strip()},
                        "artifactChanges": [{"artifactLocation": {"uri": uri}, "replacements": reps}],
                    }]
            results.append(res)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "Bastion", "version": tool_version or app_version,
                "informationUri": "https://example.invalid/bastion",
                "rules": list(rules.values()),
            }},
            "artifacts": artifacts,
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)
