"""Test-render a chat template in the runtime's sandboxed child, on a sample conversation.

Shared by `chat_template` (the template a bundle is made with) and `gguf_check` (every template a
GGUF carries, before llama-cpp-python compiles them in-process)."""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import EngineError

RENDER_SECONDS = 5
RENDER_MEMORY = 512 * 1024 * 1024
MAX_RENDERED = 256 * 1024

SAMPLE = [
    {"role": "system", "content": "SYSTEM-7f3a"},
    {"role": "user", "content": "USER-91c2"},
    {"role": "assistant", "content": "ASSISTANT-4be0"},
    {"role": "user", "content": "USER-d5e8"},
]


@dataclass(frozen=True)
class RenderResult:
    """The rendered text, or why not: `kind` is escape | raised | limit | error."""

    ok: bool
    text: str = ""
    kind: str = ""
    error: str = ""


def render_in_child(template: str, messages: list[dict], *, bos: str = "", eos: str = "") -> RenderResult:
    """Render with the runtime's guarded renderer (`app.bundle.chat_template.TemplateRenderer`: a child
    process with a deadline, a memory limit and a size cap)."""
    from app.bundle.chat_template import TemplateRenderer  # jinja2 and the child process: only when rendering

    renderer = TemplateRenderer(template, eos=eos, bos=bos, seconds=RENDER_SECONDS, memory=RENDER_MEMORY,
                                max_chars=MAX_RENDERED)
    try:
        return RenderResult(True, text=renderer.render(messages))
    except EngineError as exc:
        line = str(exc).splitlines()[0]
        detail = line.split("failed: ", 1)[-1]
        if "SecurityError" in detail:
            return RenderResult(False, kind="escape", error=f"it tries to reach Python internals ({detail})")
        if detail.startswith("TemplateError: "):
            return RenderResult(False, kind="raised", error=f"the template raised an error: {detail[15:]}")
        if "did not render within" in line:
            return RenderResult(False, kind="limit", error=f"rendering was stopped: no result within {RENDER_SECONDS}s "
                                                           "or over the memory limit")
        if "over" in detail and "characters" in detail:
            return RenderResult(False, kind="limit", error=f"a 4-message sample renders to {detail}")
        return RenderResult(False, kind="error", error=f"it fails to render ({detail})")
    finally:
        renderer.close()
