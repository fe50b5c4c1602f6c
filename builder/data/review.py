"""Code-review training examples in the app's exact analysis format.

Each labelled code-analysis record (its label as `builder.data.analysis` normalises it) is run
through the app's own static layer; the model layer is then called with a `PromptRecorder`
engine, so the prompt (system + user turn) and the JSON schema are the ones `bastion analyze`
sends. The target is the answer the app asks for — one review per static finding (confirm or
dispute, reason, explanation, replacement lines), an `extra` finding when the label names a
weakness the rules missed, an empty `extra` for clean code — validated against
`app.analysis.contract` before it is written.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import logging
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.analysis import contract, languages, model_layer, static
from app.analysis.cwe import NAMES, normalise, related
from app.analysis.models import Finding
from app.errors import BastionError
from app.llm.engine import Generation, GenStats

log = logging.getLogger(__name__)

_FENCE = re.compile(r"```([\w+#-]*)[ \t]*\n(.*?)```", re.S)
_FENCE_TAG = re.compile(r"(?<=<<<)CODE-[0-9a-f]{8}\b")


class PromptRecorder:
    """A stand-in chat engine: records what the model layer asks and answers with `reply`."""

    name = "recorder"

    def __init__(self, reply: dict | None = None, *, n_ctx: int = 4096) -> None:
        self.reply = reply or {}
        self.n_ctx = n_ctx
        self.messages: list[dict] = []
        self.schema: dict = {}

    def count_tokens(self, text: str) -> int:
        return len(text) // 3

    def chat(self, messages: list[dict], *, json_schema: dict | None = None, cancel: threading.Event | None = None,
             **_: Any) -> Generation:
        """The engine protocol's one chat call (app.llm.engine.ChatEngine): record the ask, answer `reply`."""
        self.messages, self.schema = [dict(m) for m in messages], json_schema or {}
        return Generation(iter([json.dumps(self.reply)]), GenStats(finish_reason="stop", completion_tokens=1),
                          cancel or threading.Event(), loop_guard=False)


@dataclass
class ReviewCounts:
    built: int = 0
    confirmed: int = 0
    disputed: int = 0
    extra: int = 0
    clean: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1


def code_of(user_text: str) -> tuple[str, str | None] | None:
    """The fenced code of a review request and its fence language tag (None when untagged)."""
    m = _FENCE.search(user_text)
    if not m or not m.group(2).strip():
        return None
    return m.group(2).rstrip("\n") + "\n", (m.group(1) or None)


def clip(text: str, limit: int) -> str:
    """`text` on one line, cut at a word boundary to fit `limit` characters."""
    text = " ".join(str(text or "").split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return cut + "…"


def fixed_lines_for(code: str, fixed: str, start: int, end: int, limit: int = 240) -> str:
    """The replacement for lines start..end when `fixed` differs from `code` only there, else ''."""
    if not fixed.strip():
        return ""
    old, new = code.splitlines(), fixed.strip("\n").splitlines()
    head, tail = old[: start - 1], old[end:]
    if new[: len(head)] != head or (tail and new[len(new) - len(tail):] != tail) or len(new) < len(head) + len(tail):
        return ""
    middle = "\n".join(new[len(head): len(new) - len(tail)])
    return middle if middle.strip() and len(middle) <= limit else ""


def first_changed_line(code: str, fixed: str) -> int:
    for tag, i1, _i2, _j1, _j2 in difflib.SequenceMatcher(None, code.splitlines(), fixed.splitlines()).get_opcodes():
        if tag != "equal":
            return i1 + 1
    return 1


def target_for(code: str, findings: list[Finding], labelled: dict) -> dict | None:
    """The review answer the labelled record implies for these static findings (None when it cannot say
    on which line a weakness the rules missed is)."""
    label, risk, fix = labelled["label"], labelled.get("risk") or {}, labelled.get("fix") or {}
    cwe = normalise(risk.get("cwe"))
    out: dict[str, Any] = {}
    for i, f in enumerate(findings[: model_layer.MAX_REVIEWED], 1):
        if label == "safe":
            out[f"F{i}"] = {"verdict": "dispute", "reason": clip(f"The reviewed code is safe here: {labelled['analysis']}", 120),
                            "explanation": clip(labelled["analysis"], 200), "fixed_lines": ""}
            continue
        if cwe and not related(cwe, f.risk.cwe_id):
            # the record speaks of another weakness: the rule's own evidence is all there is to confirm
            rule = f.evidence[0].message or f.analysis
            out[f"F{i}"] = {"verdict": "confirm", "reason": clip(f.risk.why or rule, 120), "explanation": clip(rule, 200),
                            "fixed_lines": ""}
            continue
        why = risk.get("why") or risk.get("name") or labelled["analysis"]
        out[f"F{i}"] = {"verdict": "confirm", "reason": clip(why, 120), "explanation": clip(labelled["analysis"], 200),
                        "fixed_lines": fixed_lines_for(code, fix.get("code") or "", f.line, f.evidence[0].end_line or f.line)}
    extra = []
    if label != "safe" and cwe in NAMES and not any(related(cwe, f.risk.cwe_id) for f in findings):
        if not (fix.get("code") or "").strip():
            return None  # the line of the missed weakness comes from the fix; without one it would be made up
        extra.append({"line": first_changed_line(code, fix.get("code") or ""), "cwe": cwe, "label": label,
                      "analysis": clip(labelled["analysis"], 200)})
    out["extra"] = extra
    return out


def review_messages(code: str, language: str, findings: list[Finding], *, n_ctx: int = 4096) -> tuple[list[dict], dict]:
    """(messages, schema) the app's model layer sends for this code and these findings."""
    rec = PromptRecorder(n_ctx=n_ctx)
    model_layer.review(code, language, copy.deepcopy(findings), rec)
    # the app draws a random fence tag per request; training data takes one from the code, so reruns are identical
    tags = set(_FENCE_TAG.findall(rec.messages[-1]["content"]))
    if len(tags) == 1:
        stable = "CODE-" + hashlib.sha256(code.encode()).hexdigest()[:8]
        rec.messages[-1]["content"] = rec.messages[-1]["content"].replace(tags.pop(), stable)
    return rec.messages, rec.schema


def static_findings(codes: dict[str, tuple[str, str]]) -> dict[str, list[Finding]]:
    """{key: findings} from one batch run of the app's static layer; `codes` maps key -> (code, language)."""
    if not codes:
        return {}
    with tempfile.TemporaryDirectory(prefix="bastion-review-") as tmp:
        paths = {}
        for i, (key, (code, lang)) in enumerate(codes.items()):
            p = Path(tmp) / f"r{i}{languages.LANGUAGES[lang].suffix}"
            p.write_text(code, encoding="utf-8")
            paths[str(p)] = key
        res = static.scan({p: codes[k][1] for p, k in paths.items()}, codes={p: codes[k][0] for p, k in paths.items()})
        return {k: res.findings.get(p, []) for p, k in paths.items()}


def labelled_code(messages: list[dict]) -> tuple[str, str, dict] | None:
    """(code, language, label) of a normalised code-analysis record, or None when it holds no analysable code."""
    user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    found = code_of(user)
    if not found:
        return None
    code, tag = found
    lang = None
    for hint in (tag, None):
        try:
            lang = languages.detect(code, language=hint)
            break
        except BastionError:
            continue
    if lang is None:
        return None
    return code, lang, json.loads(messages[-1]["content"])


def build_reviews(records: list[tuple[str, str, dict]], *, n_ctx: int = 4096) -> tuple[list[list[dict] | None], ReviewCounts]:
    """App-format message lists (prompt + validated target) for (code, language, label) records."""
    counts = ReviewCounts()
    found = static_findings({str(i): (code, lang) for i, (code, lang, _) in enumerate(records)})
    out: list[list[dict] | None] = []
    for i, (code, lang, labelled) in enumerate(records):
        findings = found.get(str(i), [])
        target = target_for(code, findings, labelled)
        if target is None:
            counts.skip("missed weakness without a fixed version to locate its line")
            out.append(None)
            continue
        messages, _schema = review_messages(code, lang, findings, n_ctx=n_ctx)
        n = min(len(findings), model_layer.MAX_REVIEWED)
        contract.parse_review(target, n)  # a target the app would reject is a bug here, not a record to skip
        counts.built += 1
        counts.confirmed += sum(1 for k, v in target.items() if k != "extra" and v["verdict"] == "confirm")
        counts.disputed += sum(1 for k, v in target.items() if k != "extra" and v["verdict"] == "dispute")
        counts.extra += len(target["extra"])
        counts.clean += labelled["label"] == "safe"
        out.append(messages + [{"role": "assistant", "content": json.dumps(target, ensure_ascii=False)}])
    return out, counts
