"""A model's chat template and stop tokens, read from its GGUF metadata and test-rendered safely.

The template is model-supplied code (Jinja). It is rendered only by the runtime's
guarded renderer (`app.bundle.chat_template`: a jinja2 `ImmutableSandboxedEnvironment`
in a child process with a deadline, a memory limit and an output cap): a template
that fails to render, tries to reach Python internals, loops forever or balloons is
refused with one line, before a bundle is made with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from app.errors import BastionError
from app.llm.gguf_check import GGUFInfo
from app.llm.template_sandbox import SAMPLE, render_in_child

log = logging.getLogger(__name__)

# End-of-turn markers of the common template families; one counts as a stop string
# when the template writes it and the vocabulary has it as a token.
TURN_MARKERS = ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|end_of_text|>",
                "<｜end▁of▁sentence｜>", "<|return|>")


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
    if not result.ok and result.kind == "raised":
        # Some templates (Mistral) refuse a system turn: fine, if they render without one.
        retry = render_in_child(info.template, SAMPLE[1:], bos=info.bos, eos=info.eos)
        if retry.ok:
            info.system_role = False
            result = retry
    if not result.ok:
        raise TemplateError(f"{source}: chat template refused: {result.error}",
                            hint="use a GGUF with a sound template, or pass --chat-template FILE")
    text = result.text
    wanted = [m["content"] for m in SAMPLE if info.system_role or m["role"] != "system"]
    missing = [w for w in wanted if w not in text]
    if missing:
        raise TemplateError(f"{source}: chat template refused: its output drops message text ({missing[0]!r} missing)",
                            hint="pass a template that renders every message with --chat-template FILE")
    return info
