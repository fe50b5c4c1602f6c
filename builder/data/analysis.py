"""Labelled code-analysis records, normalised to one intermediate shape (not the model's answer).

Training data for code analysis arrives as JSON (`{"analysis", "label", "risk", "solution"}` in
various spellings) or as sectioned text ("Analysis: … Label: high … Risk: CWE-89 … Solution: …",
with or without Markdown headings). Both become the record's *label*::

    {"analysis": str, "label": "safe|low|medium|high|critical",
     "risk": {"cwe": "CWE-89" | None, "name": str, "why": str},
     "fix": {"summary": str, "code": str}}

The data stage then turns each label into what the app really asks the model for — its review
prompt and an answer validated by `app.analysis.contract` (see `builder/data/review.py`) — so
this shape is never a training target itself.
"""

from __future__ import annotations

import json
import re

LABELS = ("safe", "low", "medium", "high", "critical")
_LABEL_SYNONYMS = {"none": "safe", "no risk": "safe", "not vulnerable": "safe", "secure": "safe", "benign": "safe",
                   "info": "low", "informational": "low", "low risk": "low", "moderate": "medium",
                   "medium risk": "medium", "high risk": "high", "severe": "critical",
                   # Chinese security ratings (the seed datasets' 安全评级)
                   "安全": "safe", "无风险": "safe", "无": "safe", "低危": "low", "低": "low", "低风险": "low",
                   "中危": "medium", "中": "medium", "中风险": "medium", "高危": "high", "高": "high",
                   "高风险": "high", "严重": "critical", "超危": "critical"}
_CWE = re.compile(r"\bCWE[-\s_:]?(\d{1,4})\b", re.I)
_SECTION = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*|\*\*|__)?(analysis|label|severity|risk|cwe|why|reason|solution|fix|remediation|fixed code|patched code)"
    r"[ \t]*(?:\*\*|__)?[ \t]*[:：][ \t]*(?:\*\*|__)?|^[ \t]*#{1,6}[ \t]*(analysis|label|severity|risk|solution|fix|remediation)[ \t]*$",
    re.I | re.M,
)
_FENCE = re.compile(r"```[\w+-]*\n(.*?)```", re.S)


class AnalysisFormatError(ValueError):
    """The answer looks like a code analysis but a field is missing or invalid."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _label(value: object) -> str:
    v = str(value or "").strip().lower().rstrip(".")
    v = _LABEL_SYNONYMS.get(v, v)
    if v not in LABELS:
        raise AnalysisFormatError("label", f"label {value!r} is not one of {', '.join(LABELS)}")
    return v


def _cwe(text: str) -> str | None:
    m = _CWE.search(text or "")
    return f"CWE-{int(m.group(1))}" if m else None


def _risk_from_text(text: str) -> dict:
    text = (text or "").strip()
    cwe = _cwe(text)
    rest = _CWE.sub("", text, count=1).strip(" \t-—:()") if cwe else text
    name, _, why = rest.partition("\n")
    if not why:
        for sep in (" — ", " - ", ": ", ". "):
            if sep in name:
                name, _, why = name.partition(sep)
                break
    return {"cwe": cwe, "name": name.strip(" .-—:"), "why": why.strip()}


def _fix_from_text(text: str) -> dict:
    text = (text or "").strip()
    m = _FENCE.search(text)
    code = m.group(1).rstrip("\n") if m else ""
    summary = _FENCE.sub("", text).strip() if m else text
    return {"summary": summary, "code": code}


def _get(d: dict, *names: str):
    for n in names:
        for k, v in d.items():
            if k.lower() == n:
                return v
    return None


def from_dict(d: dict) -> dict:
    """Normalise a JSON analysis object (any of the common spellings)."""
    analysis = _get(d, "analysis", "explanation", "description")
    if not analysis or not str(analysis).strip():
        raise AnalysisFormatError("analysis", "the analysis text is missing or empty")
    label = _label(_get(d, "label", "severity", "risk_level"))
    risk = _get(d, "risk", "vulnerability")
    if isinstance(risk, dict):
        r = {"cwe": _cwe(str(_get(risk, "cwe", "cwe_id", "id") or "")),
             "name": str(_get(risk, "name", "title") or "").strip(),
             "why": str(_get(risk, "why", "reason", "description", "impact") or "").strip()}
    elif isinstance(risk, str):
        r = _risk_from_text(risk)
    else:
        r = {"cwe": None, "name": "", "why": ""}
    if not r["cwe"] and _get(d, "cwe"):
        r["cwe"] = _cwe(str(_get(d, "cwe")))
    if label != "safe" and not (r["cwe"] or r["name"]):
        raise AnalysisFormatError("risk", f"label is {label!r} but no risk (CWE or name) is given")
    fix = _get(d, "fix", "solution", "remediation")
    if isinstance(fix, dict):
        f = {"summary": str(_get(fix, "summary", "explanation", "description") or "").strip(),
             "code": str(_get(fix, "code", "patched_code", "patch") or "").strip("\n")}
    else:
        f = _fix_from_text(str(fix or ""))
    return {"analysis": str(analysis).strip(), "label": label, "risk": r, "fix": f}


def _sections(text: str) -> dict[str, str]:
    marks = list(_SECTION.finditer(text))
    out: dict[str, str] = {}
    for i, m in enumerate(marks):
        key = (m.group(1) or m.group(2)).lower()
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[m.end():end].strip()
        key = {"severity": "label", "remediation": "solution", "fix": "solution", "reason": "why",
               "fixed code": "code", "patched code": "code"}.get(key, key)
        out[key] = (out[key] + "\n" + body).strip() if key in out else body
    return out


def looks_like_analysis(text: str) -> bool:
    """True when an answer is a code analysis (JSON with analysis+label, or labelled sections)."""
    t = text.strip()
    if t.startswith("{"):
        try:
            d = json.loads(t)
        except ValueError:
            return False
        return isinstance(d, dict) and bool(_get(d, "analysis")) and _get(d, "label", "severity") is not None
    keys = set(_sections(t))
    return "analysis" in keys and "label" in keys


def parse(text: str) -> dict:
    """Normalise an analysis answer given as JSON or as sectioned text."""
    t = text.strip()
    if t.startswith("{"):
        try:
            d = json.loads(t)
        except ValueError as exc:
            raise AnalysisFormatError("output", f"analysis JSON does not parse: {exc}") from None
        if not isinstance(d, dict):
            raise AnalysisFormatError("output", "analysis JSON is not an object")
        return from_dict(d)
    s = _sections(t)
    d: dict = {"analysis": s.get("analysis", ""), "label": s.get("label", "").split("\n")[0]}
    risk = s.get("risk", "")
    if s.get("cwe"):
        risk = f"{s['cwe']} {risk}".strip()
    if s.get("why"):
        risk = f"{risk}\n{s['why']}".strip()
    d["risk"] = risk
    sol = s.get("solution", "")
    if s.get("code"):
        sol = f"{sol}\n```\n{_FENCE.sub(lambda m: m.group(1), s['code']).strip()}\n```".strip()
    d["solution"] = sol
    return from_dict(d)


def to_json(finding: dict) -> str:
    """The assistant text the model is trained to produce (compact, key order fixed)."""
    return json.dumps(finding, ensure_ascii=False)
