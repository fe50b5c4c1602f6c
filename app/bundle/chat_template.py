"""A bundle's chat template, rendered in a child process with time, memory and size limits.

A bundle may set `chat.template` (Jinja). llama-cpp-python renders such a
template in-process with Jinja's sandbox, which stops attribute escapes but not
`{% for a in range(99999) %}{% for b in range(99999) %}` (hours of CPU) or
`'A' * 300000000` (gigabytes). Here the template runs in one long-lived child
Python with an address-space limit, each render has a deadline (the child is
killed and restarted when it passes), and the prompt is capped in size. Errors,
blocked escapes included, become an `EngineError` with one line of explanation.

The end-of-turn stop string is the model's EOS token text, detokenized *with*
special tokens: without them it is "" and a stop list of `[""]` ends every
answer before its first token.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from typing import Any

from app.errors import EngineError

log = logging.getLogger(__name__)

RENDER_SECONDS = 5.0
MEMORY_BYTES = 512 * 1024 * 1024
MAX_PROMPT_CHARS = 4 * 1024 * 1024

_CHILD = r"""
import json, sys
try:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))
except Exception:
    pass
from jinja2.exceptions import TemplateError
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX = int(sys.argv[2])


def raise_exception(message):
    raise TemplateError(message)


class Generation(Extension):  # HF's {% generation %} tag, a pass-through (as llama-cpp-python and transformers)
    tags = {"generation"}

    def parse(self, parser):
        next(parser.stream)
        return parser.parse_statements(("name:endgeneration",), drop_needle=True)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                    extensions=[Generation, "jinja2.ext.loopcontrols"])
cache = {}
for line in sys.stdin:
    try:
        req = json.loads(line)
        tpl = cache.get(req["template"])
        if tpl is None:
            tpl = cache[req["template"]] = env.from_string(req["template"])
        out = tpl.render(messages=req["messages"], eos_token=req["eos"], bos_token=req["bos"],
                         add_generation_prompt=True, raise_exception=raise_exception, tools=None,
                         functions=None, function_call=None, tool_choice=None)
        resp = {"prompt": out} if len(out) <= MAX else {"error": "the rendered prompt is over %d characters" % MAX}
    except MemoryError:
        cache.clear()
        resp = {"error": "the template used more memory than allowed"}
    except BaseException as exc:
        resp = {"error": ("%s: %s" % (exc.__class__.__name__, exc))[:300]}
    sys.stdout.write(json.dumps(resp) + "\n")
    sys.stdout.flush()
"""


class TemplateRenderer:
    """One child process rendering one template; `render(messages)` -> prompt text."""

    def __init__(self, template: str, *, eos: str = "", bos: str = "", seconds: float = RENDER_SECONDS,
                 memory: int = MEMORY_BYTES, max_chars: int = MAX_PROMPT_CHARS) -> None:
        self.template, self.eos, self.bos = template, eos, bos
        self.seconds, self.memory, self.max_chars = seconds, memory, max_chars
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-c", _CHILD, str(self.memory), str(self.max_chars)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, encoding="utf-8",
                env={"PATH": os.environ.get("PATH", "")},
            )
        return self._proc

    def render(self, messages: list[dict]) -> str:
        with self._lock:
            proc = self._start()
            line: list[str] = []
            reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
            try:
                proc.stdin.write(json.dumps({"template": self.template, "messages": messages,
                                             "eos": self.eos, "bos": self.bos}) + "\n")
                proc.stdin.flush()
            except OSError:
                self._kill()
                raise EngineError("the bundle's chat template renderer stopped", hint="try again; rebuild the bundle if it persists") from None
            reader.start()
            reader.join(self.seconds)
            if reader.is_alive() or not line or not line[0]:
                self._kill()
                raise EngineError(f"the bundle's chat template did not render within {self.seconds:g}s "
                                  "(or used too much memory); refused",
                                  hint="the bundle's chat.template is broken or hostile: rebuild the bundle or use "
                                       "one from a trusted source")
        resp = json.loads(line[0])
        if "error" in resp:
            raise EngineError(f"the bundle's chat template failed: {resp['error']}",
                              hint="fix chat.template in the bundle (or leave it empty to use the model's own)")
        return resp["prompt"]

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def close(self) -> None:
        with self._lock:
            self._kill()


def special_text(llm: Any, token: int) -> str:
    """A special token's text (`<|im_end|>`); plain detokenizing drops special tokens and gives ""."""
    if token is None or token < 0:
        return ""
    try:
        return llm.detokenize([token], special=True).decode("utf-8", "ignore")
    except TypeError:  # an older llama-cpp-python without `special`
        return llm.detokenize([token]).decode("utf-8", "ignore")


def guarded_chat_handler(llm: Any, template: str):
    """A llama-cpp-python chat handler that renders `template` through a `TemplateRenderer`."""
    from llama_cpp import llama_chat_format as fmt

    eos = special_text(llm, llm.token_eos())
    bos = special_text(llm, llm.token_bos())
    renderer = TemplateRenderer(template, eos=eos, bos=bos)

    def formatter(*, messages: list[dict], **_: Any):
        prompt = renderer.render([{"role": m.get("role"), "content": m.get("content")} for m in messages])
        return fmt.ChatFormatterResponse(prompt=prompt, stop=[eos] if eos else None, added_special=True)

    handler = fmt.chat_formatter_to_chat_completion_handler(formatter)
    handler.renderer = renderer  # type: ignore[attr-defined]  (closed with the engine)
    return handler
