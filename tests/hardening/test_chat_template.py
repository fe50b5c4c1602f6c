"""A bundle's chat template is rendered with time, memory and size limits; its stop list is never [""]."""

from __future__ import annotations

import time

import pytest

from app.bundle.chat_template import TemplateRenderer, special_text
from app.errors import EngineError

CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
MSGS = [{"role": "user", "content": "hi"}]


def test_a_plain_template_renders():
    r = TemplateRenderer(CHATML)
    try:
        assert r.render(MSGS).endswith("<|im_start|>assistant\n")
        assert r.render(MSGS) == r.render(MSGS)  # the child is reused
    finally:
        r.close()


@pytest.mark.parametrize("template,why", [
    ("{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}", "did not render"),
    ("{{ 'A' * 300000000 }}", "memory|did not render|over"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "failed"),
    ("{{ raise_exception('no system role') }}", "no system role"),
    ("{% for a in range(9999) %}{{ 'B' * 1000 }}{% endfor %}", "over"),
])
def test_hostile_templates_end_in_one_line_errors(template, why):
    r = TemplateRenderer(template, seconds=3)
    t0 = time.perf_counter()
    try:
        with pytest.raises(EngineError, match=why):
            r.render(MSGS)
        assert time.perf_counter() - t0 < 15
        # the renderer recovers for the next call (a fresh child after a kill)
        with pytest.raises(EngineError):
            r.render(MSGS)
    finally:
        r.close()


def test_eos_text_keeps_special_tokens():
    class FakeLlm:
        def detokenize(self, tokens, special=False):
            return b"<|im_end|>" if special else b""

    assert special_text(FakeLlm(), 2) == "<|im_end|>"
    assert special_text(FakeLlm(), -1) == ""


@pytest.mark.slow
def test_bundle_with_chat_template_answers_with_text(smollm2_gguf):
    """Before: any bundle that set chat.template answered "" (its stop list was [""])."""
    from app.llm.engine import EngineConfig, LlamaEngine

    eng = LlamaEngine(smollm2_gguf, EngineConfig(n_ctx=512, max_tokens=12, temperature=0.0, chat_template=CHATML))
    try:
        text = eng.chat([{"role": "user", "content": "Say hello."}]).result()
        assert text.strip()
    finally:
        eng.close()
