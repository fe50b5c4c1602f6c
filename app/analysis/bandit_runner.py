"""Run Bandit in-process (its library API) on a batch of Python files."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from app.analysis.hits import Hit

if TYPE_CHECKING:
    from bandit.core.issue import Issue

log = logging.getLogger(__name__)

# Tests that only say "this module was imported" or flag common idioms: too noisy to be evidence.
SKIP_TESTS = {
    "B101",  # assert used
    "B110", "B112",  # try/except/pass|continue
    "B311",  # any use of `random`; our own rule looks at what the value is for
    "B404", "B403", "B405", "B406", "B407", "B408", "B409", "B410", "B411", "B412", "B413", "B415",  # imports
    "B603", "B607",  # subprocess without shell / partial path
    "B113",  # request without timeout (availability, not a vulnerability class we report)
    "B105", "B106", "B107",  # hard-coded password heuristics: our rule is stricter
    # Any eval/exec call and any stdlib XML parser: blind to where the data comes from; the rule
    # pack's eval/exec and XXE rules (search + taint) decide with data flow and parser settings.
    "B102", "B307", "B313", "B314", "B315", "B316", "B317", "B318", "B319", "B320",
}

# Bandit's CWE where a more precise one describes the same finding.
CWE_OVERRIDE = {
    "B102": "CWE-95", "B307": "CWE-95",
    "B301": "CWE-502", "B302": "CWE-502", "B506": "CWE-502", "B614": "CWE-502",
    "B303": "CWE-328", "B324": "CWE-328",
    "B304": "CWE-327", "B305": "CWE-327",
    "B313": "CWE-611", "B314": "CWE-611", "B315": "CWE-611", "B316": "CWE-611", "B317": "CWE-611",
    "B318": "CWE-611", "B319": "CWE-611", "B320": "CWE-611",
    "B701": "CWE-79", "B702": "CWE-79", "B703": "CWE-79", "B308": "CWE-79",
    "B201": "CWE-94",
}
# Findings Bandit rates lower than the harm they allow.
LABEL_OVERRIDE = {"B608": "high", "B602": "high", "B605": "high", "B307": "high", "B102": "high",
                  "B301": "high", "B506": "high", "B501": "high"}
SEV = {"LOW": "low", "MEDIUM": "medium", "HIGH": "high", "UNDEFINED": "low"}
CONF = {"LOW": 0.45, "MEDIUM": 0.7, "HIGH": 0.85, "UNDEFINED": 0.45}


def run(paths: list[str]) -> tuple[list[Hit], dict[str, list[str]], dict[str, list[str]]]:
    """Bandit's findings for `paths`, notes (syntax errors) and errors (files it failed on).

    `# nosec` comments are not honoured (ignore_nosec): code under review is untrusted.
    """
    if not paths:
        return [], {}, {}
    for name in ("bandit", "stevedore", "stevedore.extension"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    from bandit.core import config as b_config
    from bandit.core import manager as b_manager

    conf = b_config.BanditConfig()
    mgr = b_manager.BanditManager(conf, "file", quiet=True, ignore_nosec=True)
    mgr.files_list = sorted(paths)  # explicit list: no directory discovery, no exclusion globs
    mgr.run_tests()
    notes: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    for fname, reason in mgr.get_skipped():
        if "syntax error" in str(reason).lower():
            notes.setdefault(fname, []).append(f"bandit skipped the file: {reason}")
        else:
            errors.setdefault(fname, []).append(f"bandit failed on the file: {reason}")
    hits = [_hit(issue) for issue in mgr.get_issue_list() if issue.test_id not in SKIP_TESTS]
    return [h for h in hits if h is not None], notes, errors


def _hit(issue: Issue) -> Hit | None:
    from app.analysis.cwe import normalise

    cwe = CWE_OVERRIDE.get(issue.test_id) or normalise(issue.cwe.id)  # Issue.cwe since bandit 1.7.3
    lines = list(issue.linerange or [issue.lineno])
    label = SEV.get(str(issue.severity), "low")
    if label != "low":
        label = LABEL_OVERRIDE.get(issue.test_id, label)
    conf = CONF.get(str(issue.confidence), 0.45)
    if conf < 0.6 and label == "low":
        return None  # low severity, low confidence: not evidence
    if label == "low":
        conf = min(conf, 0.45)  # hygiene: listed, but does not move the label alone
    return Hit(
        engine="bandit",
        path=issue.fname,
        rule_id=f"{issue.test_id}:{issue.test}",
        line=int(issue.lineno),
        end_line=int(max(lines)),
        message=str(issue.text),
        cwe=cwe or "CWE-20",
        label=label,
        confidence=conf,
        fix_hint="",
    )
