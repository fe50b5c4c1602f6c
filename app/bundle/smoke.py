"""Run a new bundle's model once, in a child process with networking blocked, before it is sealed.

The child loads the GGUF with the bundle's chat settings and answers one short
question; a native crash kills only the child and is explained (as `doctor`
does). The parent records load time, time to first token and tokens/s.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from app.errors import EngineError

QUESTION = [
    {"role": "system", "content": "You are a terse security assistant that answers in one short sentence."},
    {"role": "user", "content": "In one sentence, what is SQL injection?"},
]


def smoke_test(model: Path, *, n_ctx: int, stop: list[str], template: str | None = None,
               max_tokens: int = 32, timeout: float | None = None) -> dict:
    """Answer one question with the model in a child; return its figures or raise `EngineError`."""
    from app.doctor import CRASH_HINT

    size_gb = Path(model).stat().st_size / 1e9
    timeout = timeout or 180 + 120 * size_gb
    req = {"model": str(model), "n_ctx": min(n_ctx, 2048), "stop": stop, "template": template, "max_tokens": max_tokens}
    try:
        proc = subprocess.run([sys.executable, "-m", "app.bundle.smoke"], input=json.dumps(req), capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise EngineError(f"{model}: the smoke test did not finish in {timeout:.0f}s",
                          hint="the model is too slow for this machine; try a smaller quantisation") from None
    if proc.returncode < 0:
        sig = signal.Signals(-proc.returncode).name
        raise EngineError(f"{model}: the smoke test crashed. " + CRASH_HINT.format(sig=sig))
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise EngineError(f"{model}: the smoke test failed: {last}", hint="run `bastion bundle create -v` for details")
    data = json.loads(lines[-1])
    if not data["text"].strip():
        raise EngineError(f"{model}: the smoke test produced no text ({data['finish_reason']}); "
                          "the chat template or stop tokens do not match the model",
                          hint="pass the model's own template with --chat-template FILE")
    return data


def _child() -> None:
    from app.netguard import block_network

    block_network()
    req = json.loads(sys.stdin.read())
    from app.llm.engine import EngineConfig, LlamaEngine

    cfg = EngineConfig(n_ctx=req["n_ctx"], max_tokens=req["max_tokens"], temperature=0.0, stop=req["stop"],
                       chat_template=req["template"])
    eng = LlamaEngine(Path(req["model"]), cfg)
    t0 = time.perf_counter()
    eng.load()
    load_s = time.perf_counter() - t0
    gen = eng.chat(QUESTION)
    text = gen.result()
    st = gen.stats
    print(json.dumps({"ok": True, "load_s": round(load_s, 3), "ttft_s": round(st.ttft_s or 0.0, 3),
                      "tokens_per_s": round(st.tokens_per_s, 2), "tokens": st.completion_tokens,
                      "prompt_tokens": st.prompt_tokens, "finish_reason": st.finish_reason, "text": text}))


if __name__ == "__main__":
    _child()
