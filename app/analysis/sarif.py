"""SARIF 2.1.0 output for CI: one run, one result per vulnerability, paths relative to the scan root.

- Locations are relative URIs with `uriBaseId: %SRCROOT%`, declared in `originalUriBaseIds`.
- Rules carry a human name (not the id), help text and a CWE link, CWE tags and `security-severity`.
- Each result has a stable `partialFingerprints` entry (see `baseline.py`); findings two engines
  agree on are one result whose `properties.evidence` lists every engine's rule.
- Model-only suggestions are `note`s tagged `model-only`; an ignored inline suppression is a
  `suppressions` entry with status `rejected`; unsupported files and per-file errors are
  `toolExecutionNotifications` (an error makes `executionSuccessful` false).
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Iterable

from app.analysis.baseline import FINGERPRINT_KEY, fingerprints, relative, scan_root
from app.analysis.models import Finding, Report
from app.analysis.render import as_list

LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "safe": "none"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "safe": "0.0"}
BASE = "%SRCROOT%"


def _rule_id(f: Finding) -> str:
    if f.evidence and f.evidence[0].engine != "model":
        return f.evidence[0].rule_id
    return f"bastion-model/{f.risk.cwe_id}"


def _rule_name(rid: str, f: Finding) -> str:
    if f.model_only:
        return f"ModelSuggestion{f.risk.cwe_id.replace('-', '')}"
    words = rid.split(":", 1)[-1].replace("/", "-").replace("_", "-").split("-")
    return "".join(w[:1].upper() + w[1:] for w in words if w) or "Finding"


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


def _rule(rid: str, f: Finding) -> dict:
    cwe_num = f.risk.cwe_id.split("-")[-1]
    desc = (f.evidence[0].message if f.evidence and not f.model_only else "") or f.analysis
    help_text = f.fix.hint or "Review the finding; see the CWE entry for mitigations."
    return {
        "id": rid,
        "name": _rule_name(rid, f),
        "shortDescription": {"text": f"{f.risk.cwe_id} {f.risk.cwe_name}".strip()},
        "fullDescription": {"text": desc},
        "help": {"text": help_text, "markdown": f"{help_text}\n\nSee [{f.risk.cwe_id}]"
                                                f"(https://cwe.mitre.org/data/definitions/{cwe_num}.html)."},
        "helpUri": f"https://cwe.mitre.org/data/definitions/{cwe_num}.html",
        "defaultConfiguration": {"level": LEVEL[f.label]},
        "properties": {
            "tags": ["security", f"external/cwe/cwe-{cwe_num}"] + (["model-only"] if f.model_only else []),
            "security-severity": SECURITY_SEVERITY[f.label],
            "precision": "low" if f.model_only else "high" if f.confidence >= 0.85 else "medium",
            "cwe": f.risk.cwe_id,
        },
    }


def _result(f: Finding, r: Report, uri: str, rid: str, index: int, fp: str) -> dict:
    ev = f.evidence[0] if f.evidence else None
    region: dict = {"startLine": max(1, f.line)}
    if ev and ev.end_line and ev.end_line >= f.line:
        region["endLine"] = ev.end_line
    if ev and ev.snippet:
        region["snippet"] = {"text": ev.snippet}
    prefix = (f"[model finding, verified by {f.verified_by}] " if f.model_only and f.verified_by else
              "[model suggestion, no rule evidence] " if f.model_only else "")
    res: dict = {
        "ruleId": rid,
        "ruleIndex": index,
        "level": "note" if f.model_only and not f.verified_by else LEVEL[f.label],
        "message": {"text": f"{prefix}{f.risk.cwe_id}: {f.analysis}"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": BASE}, "region": region}}],
        "partialFingerprints": {FINGERPRINT_KEY: fp},
        "properties": {
            "label": f.label, "cwe": f.risk.cwe_id, "confidence": f.confidence, "source": f.source,
            "evidence": [f"{e.engine}:{e.rule_id}@{e.line}" for e in f.evidence],
            "model_verdict": f.model_verdict, "model_reason": f.model_reason, "fix_state": f.fix.state,
            "fix_notes": f.fix.notes, "tags": ["security", f.risk.cwe_id], "verified_by": f.verified_by,
            "explanation_by": f.explanation_by,
        },
    }
    if f.suppression:
        res["suppressions"] = [{"kind": "inSource", "status": "rejected",
                                "justification": f"{f.suppression} (not honoured: untrusted-code mode)"}]
    if f.fix.code is not None and r.code:
        reps = _replacements(r.code, f.fix.code)
        if reps:
            state = "verified" if f.fix.verified else "proposed, NOT verified"
            res["fixes"] = [{
                "description": {"text": f"Patch by {f.fix.author} ({state}): {f.fix.hint}".strip()},
                "artifactChanges": [{"artifactLocation": {"uri": uri, "uriBaseId": BASE}, "replacements": reps}],
            }]
    return res


def to_sarif(reports: Report | Iterable[Report], *, tool_version: str | None = None,
             root: str | Path | None = None) -> str:
    """A SARIF 2.1.0 log (JSON text). `root`: the scan root that URIs are relative to."""
    from app import __version__ as app_version

    rs = as_list(reports)
    base = scan_root(rs, root)
    rules: dict[str, dict] = {}
    results: list[dict] = []
    artifacts: list[dict] = []
    notifications: list[dict] = []
    for r in rs:
        uri = relative(r.filename, base, fallback=f"snippet.{r.language}")
        loc = [{"physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": BASE}}}]
        if r.status == "error":
            notifications.append({"level": "error", "message": {"text": f"{uri}: {'; '.join(r.errors)}"}, "locations": loc})
            continue
        if r.status == "unsupported":
            notifications.append({"level": "warning", "message": {"text": f"{uri}: not analysed: {'; '.join(r.notes)}"},
                                  "locations": loc})
            continue
        if r.status != "analysed":
            continue
        for e in r.errors:
            notifications.append({"level": "error", "message": {"text": f"{uri}: {e}"}, "locations": loc})
        artifacts.append({"location": {"uri": uri, "uriBaseId": BASE}, "sourceLanguage": r.language})
        for f, fp in zip(r.findings, fingerprints(r, uri)):
            rid = _rule_id(f)
            if rid not in rules:
                rules[rid] = _rule(rid, f)
            results.append(_result(f, r, uri, rid, list(rules).index(rid), fp))
    invocation = {"executionSuccessful": not any(n["level"] == "error" for n in notifications),
                  "properties": {"model_checks": {  # what the checks on model output kept and refused
                      "prose_shown": sum(r.model_checks.prose_shown for r in rs),
                      "prose_rejected": sum(r.model_checks.prose_rejected for r in rs),
                      "model_findings_kept": sum(r.model_checks.model_findings_kept for r in rs),
                      "model_findings_dropped": sum(r.model_checks.model_findings_dropped for r in rs)}}}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "Bastion", "version": tool_version or app_version,
                "informationUri": "https://example.invalid/bastion",
                "rules": list(rules.values()),
            }},
            "invocations": [invocation],
            "originalUriBaseIds": {BASE: {"uri": base.as_uri() + "/"}},
            "artifacts": artifacts,
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)
