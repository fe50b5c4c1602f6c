"""The independent check on a model-only finding: a Semgrep taint rule generated for its sink, run by the engine.

The model proposes "CWE-X at line N"; `sinks.sink_on_line` must find a sink of CWE-X's family on
line N (the model may not invent a call). Then a taint rule is written for that one callee (the
language's untrusted-input sources -> that callee) and Semgrep runs it on the file. The finding is
kept only when Semgrep reports a path into the call on line N, and it is labelled as verified by that
check. No path, no sink, a weakness without a dataflow check, or Semgrep failing: the finding is
dropped and the reason counted. The model never makes a file safer: this only adds findings.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.analysis import languages, sinks
from app.analysis.macros import expand_simple_macros

CHECK_NAME = "semgrep-taint"
TIMEOUT_S = 60

_PY_SOURCES = """
      - patterns:
          - pattern: request.$ATTR
          - metavariable-regex:
              metavariable: $ATTR
              regex: ^(args|form|values|cookies|headers|data|json|files|stream|query_string|environ|get_json|get_data|full_path|url|base_url)$
      - pattern: input(...)
      - pattern: sys.argv
      - pattern: os.environ
      - pattern: os.getenv(...)
      - pattern: os.environ.get(...)
      - patterns:
          - pattern: $W.$GET(...)
          - metavariable-regex:
              metavariable: $GET
              regex: ^(get_form_parameter|get_query_parameter|get_cookie|get_header|get_parameter|get_parameter_list)$
      - patterns:
          - pattern-inside: |
              @$APP.route(...)
              def $FN(..., $ARG, ...):
                ...
          - pattern: $ARG
"""

_C_INPUT_CWE = "CWE-78"
"""Whose C taint rule (rules/taint/c.yaml) holds the sources and copies that every C check starts from."""


@dataclass(frozen=True)
class CheckResult:
    kept: bool
    check: str  # what confirmed it (e.g. "semgrep-taint(pickle.loads)"), or "" when dropped
    why: str  # why dropped, or what the path is


def semgrep_available() -> bool:
    from app.analysis.semgrep_runner import semgrep_binary
    from app.errors import BastionError

    try:
        semgrep_binary()
    except BastionError:
        return False
    return True


def _sink_pattern(callee: str, language: str) -> str:
    if language == "python" and "." in callee:
        head, last = callee.rsplit(".", 1)
        # a module call keeps its module (pickle.loads); a method on an object matches any receiver
        return f"{callee}(...)" if head.split(".")[0] in _PY_MODULES else f"$OBJ.{last}(...)"
    return f"{callee}(...)"


_PY_MODULES = {"os", "subprocess", "pickle", "cPickle", "marshal", "yaml", "jsonpickle", "shelve", "dill", "commands",
               "pty", "io", "codecs", "shutil", "pathlib", "etree", "minidom", "xml", "pulldom", "requests", "urllib",
               "httpx", "lxml"}


def _pack_rule(cwe: str, language: str) -> dict | None:
    """The static pack's taint rule for `cwe`'s family in `language` (its sources, propagators and sanitizers are
    reused), or None when the pack has none."""
    import yaml

    from app.analysis.cwe import related
    from app.analysis.semgrep_runner import RULES_DIR

    path = RULES_DIR / "taint" / f"{language}.yaml"
    if not path.is_file():
        return None
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
    taint = [r for r in rules if r.get("mode") == "taint"]
    return next((r for r in taint if related(r.get("metadata", {}).get("cwe", ""), cwe)), None)


def rule_yaml(callee: str, cwe: str, language: str) -> str:
    """A Semgrep taint rule: the language's untrusted-input sources into `callee`.

    The sources, propagators and sanitizers are those of the pack's own rule for the CWE's family (so a guard
    that rejects the input and returns, or a constant branch, stays quiet as it does for the rules); the sink
    is the one callee the model cited. In C only the format argument of a printf-family call is a
    format-string sink: printf("%s", data) is fine."""
    import yaml

    lang = languages.sinks_as(language)
    pack = _pack_rule(cwe, lang) if lang in ("python", "c") else None
    if pack is None and lang == "c":  # a family without its own C rule: the pack's model of C input
        pack = _pack_rule(_C_INPUT_CWE, "c")
    fmt_pos = _FORMAT_ARG.get(callee.lower()) if lang == "c" and sinks.family(cwe) is sinks.family("CWE-134") else None
    if fmt_pos is not None:
        args = ", ".join(["$A%d" % i for i in range(fmt_pos)] + ["$FMT", "..."])
        sink: dict = {"patterns": [{"pattern": f"{callee}({args})"}, {"focus-metavariable": "$FMT"}]}
    else:
        sink = {"pattern": _sink_pattern(callee, lang)}
    rule = {"id": "bastion-model-check", "mode": "taint", "languages": [lang], "severity": "ERROR",
            "message": f"untrusted input reaches {callee} ({cwe})",
            "pattern-sources": pack["pattern-sources"] if pack else yaml.safe_load(_PY_SOURCES),
            "pattern-sinks": [sink]}
    for key in ("pattern-sanitizers", "pattern-propagators"):
        if pack and pack.get(key):
            rule[key] = pack[key]
    return yaml.safe_dump({"rules": [rule]}, sort_keys=False)


# 0-based position of the format argument of the printf family
_FORMAT_ARG = {"printf": 0, "vprintf": 0, "wprintf": 0, "vwprintf": 0, "fprintf": 1, "vfprintf": 1, "fwprintf": 1,
               "vfwprintf": 1, "sprintf": 1, "vsprintf": 1, "syslog": 1, "snprintf": 2, "vsnprintf": 2, "swprintf": 2,
               "_snprintf": 2, "_vsnprintf": 2, "_snwprintf": 2}


def confirm(code: str, language: str, line: int, cwe: str) -> CheckResult:
    """Keep a model finding "CWE `cwe` at `line`" only when its sink is on the line and a taint path reaches it."""
    lang = languages.sinks_as(language)
    if not sinks.sinks_for(cwe, lang):
        return CheckResult(False, "", f"no dataflow check for {cwe} in {language}")
    if lang == "c":
        code = expand_simple_macros(code)
    callee = sinks.sink_on_line(code, line, cwe, lang)
    if callee is None:
        return CheckResult(False, "", f"line {line} calls no {cwe} sink")
    from app.analysis.semgrep_runner import _env, semgrep_binary

    with tempfile.TemporaryDirectory(prefix="bastion-check-") as tmp:
        rule = Path(tmp) / "rule.yaml"
        rule.write_text(rule_yaml(callee, cwe, lang), encoding="utf-8")
        target = Path(tmp) / f"code{languages.suffix(language)}"
        target.write_text(code, encoding="utf-8")
        cmd = [semgrep_binary(), "scan", "--config", str(rule), "--json", "--quiet", "--metrics=off",
               "--disable-version-check", "--no-git-ignore", "--disable-nosem", "--timeout", "20", "--", str(target)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, env=_env(),
                                  stdin=subprocess.DEVNULL)
            results = json.loads(proc.stdout).get("results", [])
        except (subprocess.TimeoutExpired, json.JSONDecodeError, OSError) as exc:
            return CheckResult(False, "", f"the taint check could not run ({type(exc).__name__})")
    for r in results:
        if r["start"]["line"] <= line <= r["end"]["line"]:
            return CheckResult(True, f"{CHECK_NAME}({callee})", f"untrusted input reaches {callee} on line {line}")
    return CheckResult(False, "", f"no taint path from untrusted input into {callee} on line {line}")
