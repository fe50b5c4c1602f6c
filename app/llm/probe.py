"""Engine smoke test, run by `bastion doctor` in a child process with networking blocked.

A crash in native code (e.g. a general-protection fault in a llama.cpp build
with the wrong CPU flags) kills only this child; the doctor explains it.
Prints one JSON line: tokens, seconds, text.
"""

from __future__ import annotations

import json
import sys
import time


def main(model_path: str) -> None:
    from app.netguard import block_network

    block_network()
    from app.llm.engine import EngineConfig, LlamaEngine

    eng = LlamaEngine(model_path, EngineConfig(n_ctx=512, max_tokens=16, temperature=0.0))
    t0 = time.perf_counter()
    # ~40 tokens of prompt: the faulty native build died on prompts of ~30 tokens.
    gen = eng.chat([
        {"role": "system", "content": "You are a terse security assistant that answers in one short sentence."},
        {"role": "user", "content": "In one sentence, what is SQL injection and which CWE identifier describes it?"},
    ])
    text = gen.result()
    print(json.dumps({"ok": True, "tokens": gen.stats.completion_tokens, "seconds": time.perf_counter() - t0,
                      "tokens_per_s": gen.stats.tokens_per_s, "text": text}))


if __name__ == "__main__":
    main(sys.argv[1])
