"""The shapes of secure-code analysis: `Finding` and `Report` (pydantic) and their JSON schema.

One finding says what the code does and why it is dangerous (`analysis`), how bad it is
(`label`), the weakness (`risk`: CWE id, name, the concrete attack), how to fix it (`fix`:
patched code, unified diff, whether the fix was verified), and who said so (`evidence`,
`source`, `confidence`, `model_verdict`). The fine-tuning data uses the same field names.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Label = Literal["safe", "low", "medium", "high", "critical"]
Source = Literal["static", "model", "both"]
Verdict = Literal["confirm", "dispute"]
Status = Literal["analysed", "skipped", "unsupported", "error"]
FixState = Literal["verified", "proposed", "none"]

LABELS: tuple[str, ...] = ("safe", "low", "medium", "high", "critical")

# A finding counts toward a report's overall label at or above this confidence.
COUNTED_CONFIDENCE = 0.5
# Model-only findings (no rule evidence) get at most this confidence: listed, never counted by default.
MODEL_ONLY_CONFIDENCE = 0.4


def label_rank(label: str | None) -> int:
    """0 for safe (or None) up to 4 for critical; unknown strings rank as safe."""
    return LABELS.index(label) if label in LABELS else 0


class Risk(BaseModel):
    """The weakness: its CWE and the concrete attack it allows."""

    cwe_id: str = Field(..., description="CWE identifier, e.g. 'CWE-89'")
    cwe_name: str = Field("", description="CWE short name")
    why: str = Field("", description="The concrete attack: who controls what, and what they get")


class Fix(BaseModel):
    """A fix. `verified` only when the patch parses, every rule and Bandit re-run on the patched code show the
    finding gone and nothing new, and (for a rule template) the template was written for this exact sink."""

    hint: str = Field("", description="How to fix it, in one or two sentences (from the rule)")
    code: str | None = Field(None, description="The whole patched code, when a patch was made")
    diff: str = Field("", description="Unified diff from the original to the patched code")
    verified: bool = False
    notes: list[str] = Field(default_factory=list, description="What the verification checked and found")
    author: Literal["rule", "model", "none"] = "none"

    @property
    def state(self) -> FixState:
        """'verified', 'proposed' (a patch exists but is unverified) or 'none' (hint only)."""
        return "verified" if self.verified and self.code is not None else "proposed" if self.code is not None else "none"


class Evidence(BaseModel):
    """Where a finding comes from: which engine and rule, and which lines."""

    engine: Literal["semgrep", "bandit", "cppcheck", "clang", "flawfinder", "shellcheck", "model"]
    rule_id: str
    line: int = Field(..., ge=0, description="1-based first line (0 = whole file)")
    end_line: int = Field(0, ge=0)
    snippet: str = ""
    message: str = ""


class Finding(BaseModel):
    """One problem in the code."""

    analysis: str = Field(..., description="What the code does here and why it is dangerous")
    label: Label
    risk: Risk
    fix: Fix = Field(default_factory=Fix)
    evidence: list[Evidence] = Field(default_factory=list, description="First item is the primary evidence")
    source: Source = "static"
    confidence: float = Field(..., ge=0.0, le=1.0)
    model_verdict: Verdict | None = Field(None, description="The model's opinion of a static finding")
    model_reason: str = Field("", description="The model's reason for its verdict")
    explanation_by: Literal["rule", "model"] = "rule"
    suppression: str = Field("", description="An inline suppression comment (nosec, nosemgrep ...) on the finding's lines")

    @property
    def line(self) -> int:
        return self.evidence[0].line if self.evidence else 0

    @property
    def rule_id(self) -> str:
        return self.evidence[0].rule_id if self.evidence else ""

    @property
    def model_only(self) -> bool:
        """A finding without rule evidence (reported separately; counted only once an independent check confirmed it)."""
        return self.source == "model"

    @property
    def verified_by(self) -> str:
        """For a model-only finding: the independent check that confirmed it ('' when none did)."""
        return next((e.rule_id.split(":", 1)[1] for e in self.evidence if e.rule_id.startswith("verified:")), "")

    @property
    def counted(self) -> bool:
        """Whether this finding moves the report's overall label."""
        return self.confidence >= COUNTED_CONFIDENCE


class ProseReject(BaseModel):
    """Model prose that was not shown (the rule's text stayed): where, which kind of text, why."""

    line: int = 0
    field: Literal["explanation", "dispute", "confirmation", "model-finding"]
    kind: str = Field(..., description="denies-the-line, wrong-call, names-nothing-on-the-line, or quality: <why> "
                      "(explanation_ok: too short, boilerplate, no mechanism word)")
    why: str = ""
    text: str = Field("", description="the refused text (first 300 characters), for review")


class ModelChecks(BaseModel):
    """What the checks on the model's output kept and refused in one report."""

    prose_shown: int = Field(0, description="model explanations/reasons that passed the prose check and are shown")
    prose_rejected: int = Field(0, description="model explanations/reasons refused by the prose check (rule text kept)")
    rejects: list[ProseReject] = Field(default_factory=list)
    model_findings_kept: int = Field(0, description="model-only findings kept because an independent check confirmed them")
    model_findings_dropped: int = Field(0, description="model-only findings dropped: no sink for the CWE on the line, "
                                                       "or the independent check found no path")
    dropped_why: list[str] = Field(default_factory=list)

    def add(self, other: "ModelChecks") -> None:
        self.prose_shown += other.prose_shown
        self.prose_rejected += other.prose_rejected
        self.rejects += other.rejects
        self.model_findings_kept += other.model_findings_kept
        self.model_findings_dropped += other.model_findings_dropped
        self.dropped_why += other.dropped_why


class Report(BaseModel):
    """The analysis of one piece of code (a file or a pasted snippet)."""

    code: str
    language: str
    filename: str | None = None
    findings: list[Finding] = Field(default_factory=list)
    label: Label | None = Field(None, description="Overall label; None unless status is 'analysed'")
    safe_reason: str | None = Field(None, description="Why the code is judged safe (only when label is 'safe')")
    status: Status = Field("analysed", description="analysed; skipped (vendored, binary, too large ...); "
                           "unsupported (a language Bastion has no analyzer for: NOT a safe verdict); error")
    notes: list[str] = Field(default_factory=list, description="Caveats: parse errors, injection text, model problems")
    errors: list[str] = Field(default_factory=list, description="What failed on this file (the run went on)")
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds per stage")
    engines_ran: list[str] = Field(default_factory=list, description="e.g. ['semgrep', 'bandit', 'model:llm.gguf']")
    model_checks: ModelChecks = Field(default_factory=ModelChecks, description="What the checks on model output kept/refused")
    parse_error: str | None = Field(None, description="Why the code does not parse, when a parser said so "
                                    "(then no SAFE verdict: the engines could not check all of it)")

    def settle(self) -> "Report":
        """Compute the overall label and safe_reason from the findings; returns self."""
        self.errors = list(dict.fromkeys(self.errors))
        self.notes = list(dict.fromkeys(self.notes))
        counted = [f for f in self.findings if f.counted]
        if self.status == "analysed" and self.errors and not counted:
            self.status = "error"  # an engine failed and nothing was found: that is not a safe verdict
        if self.status == "analysed" and self.parse_error and not counted:
            self.status = "error"  # nothing found in code no engine could read in full: not a safe verdict either
            self.errors.append(f"the code does not parse ({self.parse_error}), so it was not fully checked: "
                               "no SAFE verdict; fix the syntax and analyse again")
        if self.status != "analysed":
            self.label, self.safe_reason = None, None
            return self
        if counted:
            self.label = max((f.label for f in counted), key=label_rank)
            self.safe_reason = None
            if self.label == "safe":
                self.safe_reason = "every finding is labelled safe"
        else:
            self.label = "safe"
            ran = ", ".join(self.engines_ran) or "no engine"
            extra = f"; {len(self.findings)} low-confidence or model-only suggestion(s) listed" if self.findings else ""
            self.safe_reason = f"no finding from {ran} for {self.language}{extra}"
        self.findings.sort(key=lambda f: (not f.counted, -label_rank(f.label), -f.confidence, f.line))
        return self

    @property
    def top_cwe(self) -> str | None:
        counted = [f for f in self.findings if f.counted]
        return counted[0].risk.cwe_id if counted else None


def report_schema() -> dict:
    """JSON schema of one `Report` (what `to_json` emits a list of)."""
    return Report.model_json_schema()


def reports_schema() -> dict:
    """JSON schema of `to_json` output: {"reports": [Report, ...], "summary": {...}}."""
    from pydantic import TypeAdapter

    return TypeAdapter(list[Report]).json_schema()
