"""Fix verification: re-run the rules on each patched version and syntax-check it.

A fix is `verified` only when the patched code parses (where a checker exists), re-running every
rule and Bandit on the patched code shows the finding's rules firing less and no rule firing more,
and the patch does what the sink needs (`SINK_POLICIES`: passwords -> argon2/bcrypt/scrypt/PBKDF2,
JWT -> pinned algorithms with verification on, SQL -> placeholders, YAML -> safe_load, shell ->
argument lists ...), and the patch keeps what the code did apart from the fix (`patch_sanity`:
no return dropped, no no-op statement, no name left undefined). A rule's mechanical template is held to the same policy, so md5 -> sha256 on a
password is "proposed (unverified)", not verified. All patched versions of a batch go through one
static scan.
"""

from __future__ import annotations

import difflib
import re
import tempfile
from collections import Counter
from pathlib import Path

from app.analysis import patch_sanity, static, syntax
from app.analysis.languages import suffix
from app.analysis.models import Finding


def unified_diff(old: str, new: str, name: str = "code") -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=f"a/{name}", tofile=f"b/{name}"))


def _rule_counts(findings: list[Finding]) -> Counter:
    c: Counter = Counter()
    for f in findings:
        for e in f.evidence:
            if e.engine != "model":
                c[_key(e.rule_id)] += 1
    return c


def _key(rule_id: str) -> str:
    return rule_id.split(":", 1)[0]  # bandit ids carry ":name"


def verify(items: list[tuple[str, str, str | None, list[Finding], Finding]]) -> None:
    """Verify fixes in place. Each item: (original code, language, filename, all findings of that code, finding)."""
    todo = [it for it in items if it[4].fix.code is not None]
    if not todo:
        return
    with tempfile.TemporaryDirectory(prefix="bastion-fix-") as tmp:
        targets, codes = {}, {}
        for i, (code, lang, name, _all, f) in enumerate(todo):
            f.fix.diff = unified_diff(code, f.fix.code, Path(name).name if name else f"snippet{suffix(lang, '')}")
            p = str(Path(tmp) / f"fix{i}{suffix(lang)}")
            Path(p).write_text(f.fix.code, encoding="utf-8")
            targets[p], codes[p] = lang, f.fix.code
        res = static.scan(targets, codes=codes)
        baseline: dict[tuple[str, str], bool | None] = {}
        for i, (code, lang, _name, all_findings, f) in enumerate(todo):
            p = str(Path(tmp) / f"fix{i}{suffix(lang)}")
            if (code, lang) not in baseline:  # a checker that rejects the original cannot judge the patch
                baseline[(code, lang)] = syntax.check(code, lang).ok
            _judge(f, lang, _rule_counts(all_findings), res.findings.get(p, []), res.notes.get(p, []), code,
                   original_parses=baseline[(code, lang)])


_PASSWORD = re.compile(r"passw|\bpwd\b|passphrase|\bpin\b|credential", re.I)
_KEYED = re.compile(r"secret|api_?key|\bkey\b|signature|\bsign\w*|\bmac\b|\bhmac\b|token", re.I)
_STRONG_KDF = re.compile(r"argon2|bcrypt|scrypt|pbkdf2|passlib|make_password|PasswordHasher|password_hash\(", re.I)
_PLACEHOLDER = re.compile(r"""(['"][^'"]*(\?|%s|%\(\w+\)s|:\w+|\$\d)[^'"]*['"]\s*,)|\.(filter|filter_by|get)\(|\bparams\s*=""")


CONTEXT = 5  # lines above and below the flagged ones that tell what a hash is for


def _policy(cwe: str, flagged: str, added: str) -> str:
    """'' when the patch does what this sink needs, else why it does not (the fix stays unverified)."""
    low = added.lower()
    if cwe in ("CWE-327", "CWE-328", "CWE-916", "CWE-759", "CWE-760") and _PASSWORD.search(flagged):
        if not _STRONG_KDF.search(added):
            return "a password needs a slow, salted hash (argon2, bcrypt, scrypt or PBKDF2); the patch does not use one"
    if cwe in ("CWE-327", "CWE-328") and _KEYED.search(flagged) and not re.search(r"\bhmac\b|HMAC|Mac\.getInstance", added):
        return "a hash over a secret (a signature or MAC) needs HMAC (hmac.new / Mac.getInstance), not a bare hash"
    if cwe == "CWE-347":
        if "algorithms" not in low or re.search(r"verify\s*=\s*false|verify_signature['\"]?\s*:\s*false", low):
            return "JWT decoding needs signature verification on and pinned algorithms (algorithms=[...]) with the key"
    if cwe == "CWE-89" and not _PLACEHOLDER.search(added):
        return "SQL needs bound parameters (placeholders with a separate argument); the patch shows none"
    if cwe == "CWE-502" and "yaml" in flagged.lower() and not re.search(r"safe_load|SafeLoader|CSafeLoader", added):
        return "YAML from untrusted input needs yaml.safe_load / SafeLoader"
    if cwe in ("CWE-78", "CWE-77") and re.search(r"shell\s*=\s*true|os\.system\(|os\.popen\(", low):
        return "the patch still runs a shell; pass an argument list without a shell"
    if cwe == "CWE-295" and re.search(r"verify\s*=\s*false|cert_none|insecureskipverify:\s*true", low):
        return "certificate verification is still off"
    return ""


_CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_KEYWORDS = {"if", "for", "while", "switch", "return", "catch", "elif", "print", "sizeof", "function"}


def _judge(f: Finding, lang: str, before: Counter, after_findings: list[Finding], scan_notes: list[str],
           original: str = "", original_parses: bool | None = True) -> None:
    notes: list[str] = []
    ok = True
    end = f.evidence[0].end_line if f.evidence else f.line
    flagged_calls = set(_CALL.findall("\n".join(original.splitlines()[max(0, f.line - 1) : max(f.line, end)]))) - _KEYWORDS
    added = "\n".join(l[1:] for l in f.fix.diff.splitlines() if l.startswith("+") and not l.startswith("+++"))
    # what the flagged code is for shows in the lines around it (the function's signature, the next use)
    flagged = "\n".join(original.splitlines()[max(0, f.line - 1 - CONTEXT) : max(f.line, end) + CONTEXT])
    why_not = _policy(f.risk.cwe_id, flagged, added) if f.fix.diff else ""
    if why_not:
        ok = False
        notes.append(f"proposed, not verified: {why_not}")
    if original and f.fix.author == "model" and flagged_calls and not _CALL.search(added):
        ok = False
        notes.append(f"the patch removes the flagged call(s) ({', '.join(sorted(flagged_calls))}) instead of fixing them")
    if not f.fix.diff:
        ok = False
        notes.append("the patch changes nothing")
    elif original and f.fix.code is not None:
        removed = "\n".join(l[1:] for l in f.fix.diff.splitlines() if l.startswith("-") and not l.startswith("---"))
        for why in patch_sanity.problems(original, f.fix.code, lang, removed, added):
            ok = False
            notes.append(why)
    syn = syntax.check(f.fix.code or "", lang)
    if syn.ok is not None and original_parses is not True:
        syn = syntax.SyntaxResult(None, syn.checker, f"{syn.checker} rejects the original code too (missing headers or "
                                  "libraries?), so it cannot judge the patch")
    if syn.ok is False:
        ok = False
        notes.append(f"does not parse ({syn.checker}): {syn.message}")
    elif syn.ok is None:
        ok = False
        notes.append(f"syntax not checked ({syn.message}), so not verified")
    else:
        notes.append(f"parses ({syn.checker})")
    after = _rule_counts(after_findings)
    mine = {_key(e.rule_id) for e in f.evidence if e.engine != "model"}
    for rule in sorted(mine):
        if after[rule] >= before[rule] and after[rule] > 0:
            ok = False
            line = next((x.line for x in after_findings for e in x.evidence if _key(e.rule_id) == rule), 0)
            notes.append(f"still triggers {rule} (line {line})")
    new = sorted(r for r in after if after[r] > before[r] and r not in mine)
    if new:
        ok = False
        notes.append(f"introduces new finding(s): {', '.join(new)}")
    if not mine:
        ok = False
        notes.append("no rule to re-run for a model-only finding: not verified")
    elif ok:
        notes.append(f"rule(s) {', '.join(sorted(mine))} no longer fire")
    notes.extend(scan_notes)
    f.fix.verified = ok
    f.fix.notes = notes
