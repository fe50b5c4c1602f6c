"""Chat template and stop tokens from GGUF metadata; unsafe or broken templates are refused."""

from __future__ import annotations

import pytest

from app.llm.chat_template import ChatInfo, TemplateError, chat_info, check_template
from app.llm.gguf_check import check_gguf

ESCAPE = "{{ ''.__class__.__mro__[1].__subclasses__() }}{% for m in messages %}{{ m.content }}{% endfor %}"
LOOP = "{% for i in range(100000) %}{% for j in range(100000) %}{{ messages[0].content }}{% endfor %}{% endfor %}"
NO_SYSTEM = (
    "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
    "[{{ m.role }}] {{ m.content }}\n{% endfor %}"
)


def _refusal(template: str) -> str:
    with pytest.raises(TemplateError) as exc:
        check_template(ChatInfo(template=template, eos="</s>"), source="model.gguf")
    line = str(exc.value).splitlines()[0]
    assert line.startswith("model.gguf: chat template refused")
    return line


def test_smollm2_template_and_stop_tokens(smollm2_gguf):
    info = chat_info(check_gguf(smollm2_gguf))
    assert info.template and "<|im_start|>" in info.template
    assert "<|im_end|>" in info.stop
    checked = check_template(info, source=str(smollm2_gguf))
    assert checked.system_role


def test_tiny_gguf_metadata(tiny_gguf):
    info = chat_info(check_gguf(tiny_gguf))
    assert info.eos == "<|im_end|>" and info.bos == "<s>"
    assert info.stop == ["<|im_end|>"]


def test_template_reaching_python_internals_refused():
    assert "Python internals" in _refusal(ESCAPE)


def test_template_that_fails_to_render_refused():
    assert "fails to render" in _refusal("{% for m in messages %}{{ m.content | nosuchfilter }}{% endfor %}")


def test_template_dropping_messages_refused():
    assert "drops message text" in _refusal("{{ messages[-1].content }}")


@pytest.mark.slow
def test_runaway_template_stopped():
    line = _refusal(LOOP)
    assert "stopped" in line or "did not finish" in line or "limit" in line


def test_template_without_system_role_accepted():
    info = check_template(ChatInfo(template=NO_SYSTEM), source="m.gguf")
    assert info.system_role is False


def test_missing_template_refused(tmp_path):
    from tests.bundle_create.conftest import write_gguf

    info = chat_info(check_gguf(write_gguf(tmp_path / "nt.gguf", template=None)))
    with pytest.raises(TemplateError, match="no chat template"):
        check_template(info, source="nt.gguf")
