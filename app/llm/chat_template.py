"""A model's chat template and stop tokens, read from its GGUF metadata and test-rendered safely.

The template is model-supplied code (Jinja). It is rendered only in a jinja2
`ImmutableSandboxedEnvironment`, in a child process with a CPU-time and memory
limit, and its output size is capped: a template that fails to render, tries to
reach Python internals, loops forever or balloons is refused with one line.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from dataclasses import dataclass, field

from app.errors import BastionError
from app.llm.gguf_check import GGUFInfo

log = logging.getLogger(__name__)

RENDER_SECONDS = 5
RENDER_MEMORY = 512 * 1024 * 1024
MAX_RENDERED = 256 * 1024

# End-of-turn markers of the common template families; one counts as a stop string
# when the template writes it and the vocabulary has it as a token.
TURN_MARKERS = ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|end_of_text|>",
                "<｜end▁of▁sentence｜>", "<|return|>")

SAMPLE = [
    {"role": "system", "content": "SYSTEM-7f3a"},
    {"role": "user", "content": "USER-91c2"},
    {"role": "assistant", "content": "ASSISTANT-4be0"},
    {"role": "user", "content": "USER-d5e8"},
]


class TemplateError(BastionError):
    """A chat template is missing, broken or unsafe."""


@dataclass
class ChatInfo:
    """What the GGUF says about chatting with the model."""

    template: str | None
    bos: str = ""
    eos: str = ""
    stop: list[str] = field(default_factory=list)
    system_role: bool = True
    """False when the template refuses a system message (Mistral-style)."""


def chat_info(gguf: GGUFInfo) -> ChatInfo:
    """Template, BOS/EOS text and stop strings from the metadata (not yet checked)."""
    md = gguf.metadata
    tokens = md.get("tokenizer.ggml.tokens")
    tokens = tokens if isinstance(tokens, list) else []

    def tok(key: str) -> str:
        i = md.get(key)
        return tokens[i] if isinstance(i, int) and 0 <= i < len(tokens) and isinstance(tokens[i], str) else ""

    template = md.get("tokenizer.chat_template")
    template = template if isinstance(template, str) and template.strip() else None
    eos, bos = tok("tokenizer.ggml.eos_token_id"), tok("tokenizer.ggml.bos_token_id")
    stop: list[str] = []
    for s in (eos, tok("tokenizer.ggml.eot_token_id"), tok("tokenizer.ggml.eom_token_id")):
        if s and s not in stop:
            stop.append(s)
    vocab = set(tokens) if template else set()
    for marker in TURN_MARKERS:
        if template and marker in template and marker in vocab and marker not in stop:
            stop.append(marker)
    return ChatInfo(template=template, bos=bos, eos=eos, stop=stop)


def check_template(info: ChatInfo, *, source: str) -> ChatInfo:
    """Render the template on a sample conversation in a sandboxed child; refuse it on any failure."""
    if info.template is None:
        raise TemplateError(f"{source}: the GGUF carries no chat template (tokenizer.chat_template)",
                            hint="pass the model's template with --chat-template FILE (a Jinja file)")
    result = render_in_child(info.template, SAMPLE, bos=info.bos, eos=info.eos)
    if not result["ok"] and result.get("kind") == "raised":
        # Some templates (Mistral) refuse a system turn: fine, if they render without one.
        retry = render_in_child(info.template, SAMPLE[1:], bos=info.bos, eos=info.eos)
        if retry["ok"]:
            info.system_role = False
            result = retry
    if not result["ok"]:
        raise TemplateError(f"{source}: chat template refused: {result['error']}",
                            hint="use a GGUF with a sound template, or pass --chat-template FILE")
    text = result["text"]
    wanted = [m["content"] for m in SAMPLE if info.system_role or m["role"] != "system"]
    missing = [w for w in wanted if w not in text]
    if missing:
        raise TemplateError(f"{source}: chat template refused: its output drops message text ({missing[0]!r} missing)",
                            hint="pass a template that renders every message with --chat-template FILE")
    return info


def render_in_child(template: str, messages: list[dict], *, bos: str = "", eos: str = "",
                    timeout: float = RENDER_SECONDS + 5) -> dict:
    """Render in `python -m app.llm.chat_template`; returns {ok, text} or {ok: False, kind, error}."""
    payload = json.dumps({"template": template, "messages": messages, "bos": bos, "eos": eos})
    try:
        proc = subprocess.run([sys.executable, "-m", "app.llm.chat_template"], input=payload, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ok": False, "kind": "timeout", "error": f"rendering did not finish in {timeout:.0f}s (a runaway loop?)"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        why = "it exceeded the CPU-time or memory limit" if proc.returncode != 0 else "no output"
        return {"ok": False, "kind": "limit", "error": f"rendering was stopped: {why} (exit {proc.returncode})"}
    return json.loads(lines[-1])


def _render(req: dict) -> dict:
    """Child side: sandboxed render with the helpers chat templates expect."""
    from jinja2 import TemplateError as JinjaError
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise _Raised(str(message))

    def strftime_now(fmt):
        import time

        return time.strftime(str(fmt))

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals.update(raise_exception=raise_exception, strftime_now=strftime_now)
    try:
        text = env.from_string(req["template"]).render(
            messages=req["messages"], bos_token=req["bos"], eos_token=req["eos"], add_generation_prompt=True,
            tools=None, date_string="26 Jul 2024")
    except SecurityError as exc:
        return {"ok": False, "kind": "escape", "error": f"it tries to reach Python internals ({exc})"}
    except _Raised as exc:
        return {"ok": False, "kind": "raised", "error": f"the template raised an error: {exc}"}
    except (JinjaError, TypeError, ValueError, KeyError, AttributeError, IndexError, ZeroDivisionError,
            OverflowError, RecursionError) as exc:
        return {"ok": False, "kind": "error", "error": f"it fails to render ({exc.__class__.__name__}: {exc})"}
    except MemoryError:
        return {"ok": False, "kind": "limit", "error": "rendering exceeded the memory limit"}
    if len(text) > MAX_RENDERED:
        return {"ok": False, "kind": "limit", "error": f"a 4-message sample renders to {len(text)} characters"}
    return {"ok": True, "text": text}


class _Raised(Exception):
    pass


def _child_main() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (RENDER_SECONDS, RENDER_SECONDS + 1))
        resource.setrlimit(resource.RLIMIT_AS, (RENDER_MEMORY, RENDER_MEMORY))
    except (ImportError, ValueError, OSError):  # pragma: no cover - non-POSIX: the parent's timeout still holds
        pass
    sys.setrecursionlimit(2000)
    print(json.dumps(_render(json.loads(sys.stdin.read()))))


if __name__ == "__main__":
    _child_main()
