"""Raw records in any supported format -> one normalised `Example`.

Formats, recognised per record by their fields:
  alpaca           instruction, input?, output (code-analysis outputs normalised, see analysis.py)
  sharegpt         conversations: [{from: human|gpt|system, value}]
  messages         messages: [{role: system|user|assistant, content}]   (OpenAI)
  prompt_response  prompt, response, history?: [[q, a], ...], system?
  text             text (raw corpus for continued pre-training)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from builder.data import analysis

DOMAINS = ("security", "general")
_SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                   "chatgpt": "assistant", "bot": "assistant", "model": "assistant", "system": "system"}


@dataclass
class Issue:
    """A bad record: where it is and what is wrong with which field."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: field {self.field!r}: {self.message}"


class NotForThisStage(Exception):
    """A valid record meant for another stage (retrieval triplets go to the embedder stage)."""


class RecordError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class Example:
    kind: str                     # "sft" or "corpus"
    format: str
    domain: str
    source: str
    line: int
    messages: list[dict] = field(default_factory=list)
    text: str = ""
    task: str = "chat"            # "chat" or "code_analysis"
    lang: str = "en"
    code_langs: list[str] = field(default_factory=list)
    truth: dict = field(default_factory=dict)
    """What the eval scores against (app-task examples): the labelled verdict/CWE, or the answering source."""
    pinned: str = ""
    """"train" or "val" when the record names its split (a public suite's tune/test halves), else ""."""

    def flat_text(self) -> str:
        """All the text, for dedup, length filters and language detection."""
        if self.kind == "corpus":
            return self.text
        return "\n".join(m["content"] for m in self.messages)

    def to_json(self) -> dict:
        d = asdict(self)
        if not self.truth:
            d.pop("truth")
        if not self.pinned:
            d.pop("pinned")
        if self.kind == "sft":
            d.pop("text")
        else:
            d.pop("messages")
            d.pop("task")
        return d


def _str(rec: dict, key: str, *, required: bool = True) -> str:
    v = rec.get(key)
    if v is None:
        if required:
            raise RecordError(key, "missing")
        return ""
    if not isinstance(v, (str, int, float)):
        raise RecordError(key, f"expected text, got {type(v).__name__}")
    v = str(v)
    if required and not v.strip():
        raise RecordError(key, "empty")
    return v


def _check_turns(msgs: list[dict], where: str) -> list[dict]:
    if not any(m["role"] == "assistant" for m in msgs):
        raise RecordError(where, "no assistant turn to learn from")
    if not any(m["role"] == "user" for m in msgs):
        raise RecordError(where, "no user turn")
    if msgs[-1]["role"] != "assistant":
        msgs = msgs[: max(i for i, m in enumerate(msgs) if m["role"] == "assistant") + 1]
    return msgs


def _assistant(text: str) -> tuple[str, str]:
    """(assistant content, task): code analyses become the canonical JSON."""
    if analysis.looks_like_analysis(text):
        try:
            return analysis.to_json(analysis.parse(text)), "code_analysis"
        except analysis.AnalysisFormatError as exc:
            raise RecordError(f"output.{exc.field}", str(exc)) from None
    return text.strip(), "chat"


def fence_code(inp: str, hint: object = None) -> str:
    """A bare code `input` as the fenced block the app's review prompt carries (tagged when the language is known).

    Seed-format reviews (Alpaca: instruction, input = the code, output = analysis/label/risk/solution)
    put raw code in `input`; without a fence the data stage could not find the code to review."""
    from app.analysis import languages
    from app.errors import BastionError

    lang = None
    if isinstance(hint, str) and hint.strip():
        try:
            lang = languages.normalise(hint)
        except BastionError:
            lang = None
    lang = lang or languages.from_content(inp)
    return f"```{lang or ''}\n{inp.rstrip()}\n```"


def _alpaca(rec: dict) -> tuple[list[dict], str]:
    instr = _str(rec, "instruction")
    inp = _str(rec, "input", required=False).strip()
    out = _str(rec, "output")
    content, task = _assistant(out)
    if task == "code_analysis" and inp and "```" not in inp:
        inp = fence_code(inp, rec.get("language") or rec.get("lang"))
    user = f"{instr.strip()}\n\n{inp}" if inp else instr.strip()
    msgs = [{"role": "user", "content": user}, {"role": "assistant", "content": content}]
    if rec.get("system"):
        msgs.insert(0, {"role": "system", "content": _str(rec, "system")})
    return msgs, task


def _turns(items: object, key: str, role_key: str, content_key: str, roles: dict) -> tuple[list[dict], str]:
    if not isinstance(items, list) or not items:
        raise RecordError(key, "expected a non-empty list of turns")
    msgs, task = [], "chat"
    for i, t in enumerate(items):
        where = f"{key}[{i}]"
        if not isinstance(t, dict):
            raise RecordError(where, "a turn must be an object")
        role = roles.get(str(t.get(role_key, "")).lower())
        if role is None:
            raise RecordError(f"{where}.{role_key}", f"unknown role {t.get(role_key)!r}")
        content = t.get(content_key)
        if not isinstance(content, str) or not content.strip():
            raise RecordError(f"{where}.{content_key}", "missing or empty")
        if role == "assistant":
            content, t_task = _assistant(content)
            task = "code_analysis" if t_task == "code_analysis" else task
        msgs.append({"role": role, "content": content.strip() if role != "assistant" else content})
    return _check_turns(msgs, key), task


def _prompt_response(rec: dict) -> tuple[list[dict], str]:
    msgs: list[dict] = []
    if rec.get("system"):
        msgs.append({"role": "system", "content": _str(rec, "system")})
    hist = rec.get("history") or []
    if isinstance(hist, str):
        try:
            hist = json.loads(hist)
        except ValueError:
            raise RecordError("history", "not a JSON list of [question, answer] pairs") from None
    if not isinstance(hist, list):
        raise RecordError("history", "expected a list of [question, answer] pairs")
    for i, pair in enumerate(hist):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(x, str) and x.strip() for x in pair)):
            raise RecordError(f"history[{i}]", "expected [question, answer] (two non-empty strings)")
        msgs += [{"role": "user", "content": pair[0].strip()}, {"role": "assistant", "content": pair[1].strip()}]
    content, task = _assistant(_str(rec, "response"))
    msgs += [{"role": "user", "content": _str(rec, "prompt").strip()}, {"role": "assistant", "content": content}]
    return msgs, task


def detect_format(rec: dict) -> str | None:
    if "conversations" in rec:
        return "sharegpt"
    if "messages" in rec:
        return "messages"
    if "instruction" in rec or ("output" in rec and "input" in rec):
        return "alpaca"
    if "prompt" in rec or "response" in rec:
        return "prompt_response"
    if "text" in rec:
        return "text"
    return None


def normalise(rec: object, *, source: str, line: int, domain: str) -> Example:
    """One raw record -> Example, or RecordError naming the field."""
    if not isinstance(rec, dict):
        raise RecordError("-", f"expected an object, got {type(rec).__name__}")
    if "query" in rec and any(k in rec for k in ("pos", "positive", "neg", "negative")):
        raise NotForThisStage("triplet")
    fmt = detect_format(rec)
    if fmt is None:
        raise RecordError("-", "unrecognised record: expected instruction/output, conversations, messages, prompt/response or text")
    dom = rec.get("domain") or rec.get("category")
    if isinstance(dom, str) and dom.lower() in DOMAINS:
        domain = dom.lower()
    pinned = _pinned_split(rec.get("split"))
    if fmt == "text":
        return Example("corpus", fmt, domain, source, line, text=_str(rec, "text").strip())
    if fmt == "alpaca":
        msgs, task = _alpaca(rec)
    elif fmt == "sharegpt":
        msgs, task = _turns(rec["conversations"], "conversations", "from", "value", _SHAREGPT_ROLES)
    elif fmt == "messages":
        msgs, task = _turns(rec["messages"], "messages", "role", "content",
                            {"system": "system", "user": "user", "assistant": "assistant"})
    else:
        msgs, task = _prompt_response(rec)
    return Example("sft", fmt, domain, source, line, messages=msgs, task=task, pinned=pinned)


_SPLITS = {"train": "train", "tune": "train", "val": "val", "validation": "val", "test": "val", "held_out": "val"}


def _pinned_split(value: object) -> str:
    """A record's own `split` field: public suites come split once (tune/test), and the eval must use their test half."""
    if value is None or value == "":
        return ""
    split = _SPLITS.get(str(value).strip().lower()) if isinstance(value, str) else None
    if split is None:
        raise RecordError("split", f"split {value!r} is not one of {', '.join(sorted(_SPLITS))}")
    return split
