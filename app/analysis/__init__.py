"""Secure-code analysis: static evidence (Semgrep + Bandit) and a constrained local model.

Public API (stable names; the TUI and the CLI use only these):

    analyze_code(code, *, language=None, filename=None, engine=None, use_model=True, cancel=None,
                 use_static=True, max_bytes=2_000_000) -> Report
        Analyse one snippet. `language` overrides detection (python, javascript, typescript, php,
        java, c, cpp, bash, go; aliases like 'js', 'sh'). `engine` is a chat engine (`LlamaEngine`);
        with `use_model=False` or no engine it is static-only (fast). `cancel` is a
        threading.Event checked between stages and during generation. Raises `BastionError` for
        empty, binary, oversized or unknown-language input.
    analyze_path(path, *, engine=None, use_model=True, progress=None, language=None,
                 max_bytes=2_000_000, cancel=None, include=None, exclude=None,
                 honour_suppressions=False) -> list[Report]
        A file or a directory. Untrusted-code mode: tracked files are scanned whatever .gitignore
        says, inline suppressions are reported but not obeyed; skipped files and folders come back
        as status='skipped', unsupported languages as 'unsupported' (never safe), per-file
        failures as 'error' (the run goes on). One Semgrep and one Bandit run per scan.
        `progress(done, total, what, findings_so_far)` is called as files are reviewed by the model.

    Report: code, language, filename, findings: list[Finding], label (overall: safe..critical;
        None unless status == 'analysed'), safe_reason (when label == 'safe'), status
        (analysed | skipped | unsupported | error), notes, errors, timings, engines_ran.
    Finding: analysis, label (safe/low/medium/high/critical), risk: Risk(cwe_id, cwe_name, why),
        fix: Fix(hint, code, diff, verified, notes, author), evidence: list[Evidence(engine,
        rule_id, line, end_line, snippet, message)], source ('static' | 'model' | 'both'),
        confidence (0..1; findings below 0.5 are listed but do not move the overall label),
        model_verdict ('confirm' | 'dispute' | None), model_reason, explanation_by ('rule' | 'model'),
        suppression (an inline nosec/nosemgrep comment found on its lines). fix.state is
        'verified' | 'proposed' | 'none'.

    Renderers: to_json(reports), to_sarif(reports), to_markdown(reports), to_text(reports)
        (each takes a Report or a list). report_schema() is the JSON schema of one Report.
    worst(reports) -> the highest label; label_rank(label) -> 0..4.
    LANGUAGES: name -> Language, the one registry of analysis languages (`register_language` adds one).

Who said what: static rules decide the label and the CWE of static findings; the model confirms
or disputes each (a dispute is a note with its reason: label and confidence stay the rule's), may
rewrite the explanation when it passes `quality.explanation_ok` (`explanation_by='model'`),
proposes patches, and may add findings of its own (`source='model'`: a concrete line with a sink,
never critical, below the counted confidence floor, listed separately). A patch is `verified` only
when it parses, every rule and Bandit re-run on it show the finding gone and nothing new, and it
does what the sink needs (verify.SINK policies); otherwise it is 'proposed'. Whether the model runs
by default is decided per bundle from its measured eval (`policy.decide`). The model's answer
contract is `app.analysis.contract`.
"""

from __future__ import annotations

from app.analysis.analyzer import analyze_code, analyze_path, hide_unverified
from app.analysis.language import Language
from app.analysis.languages import LANGUAGES, register_language
from app.analysis.models import Evidence, Finding, Fix, Report, Risk, label_rank, report_schema
from app.analysis.render import summary, to_json, to_markdown, to_text, worst
from app.analysis.sarif import to_sarif

__all__ = [
    "analyze_code", "analyze_path", "hide_unverified", "Report", "Finding", "Risk", "Fix", "Evidence", "LANGUAGES",
    "Language", "register_language",
    "to_json", "to_sarif", "to_markdown", "to_text", "summary", "worst", "label_rank", "report_schema",
]
