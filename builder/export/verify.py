"""Check an exported GGUF with the app's own engine (app.llm.engine.LlamaEngine).

1. it loads;
2. llama.cpp's tokenizer gives the same ids as the HF tokenizer on probe texts;
3. greedy next-token agreement between the merged HF model and the GGUF: the HF model generates
   greedily from each probe prompt, and at every position llama.cpp's argmax (fed the same
   prefix) is compared with HF's choice;
4. a chat reply through LlamaEngine.chat ends at the stop token (finish_reason "stop").
"""

from __future__ import annotations

import logging
from pathlib import Path

from app.llm.engine import EngineConfig, LlamaEngine
from builder.chat_text import render_chat, user_turn

log = logging.getLogger(__name__)

TOKENIZER_PROBES = [
    "SELECT * FROM users WHERE id = '1' OR '1'='1';",
    "def handler(request):\n    return subprocess.run(request.args['cmd'], shell=True)",
    "Cross-site scripting (XSS) lets attackers run <script>alert(1)</script> in a victim's browser.",
    "CWE-79, CWE-89 and CWE-787 top the 2024 list.   Multiple   spaces\tand\ttabs.",
    "naïve café — “quotes” and emoji 🔐 and 中文安全分析 and Привет",
    "<|im_start|>user\nhello<|im_end|>\n",
    "    indented code {\n\tif (x > 0) { return y; }\n}",
]
GEN_PROBES = [
    "What is SQL injection?",
    "Explain how to store passwords safely.",
    "Is eval() on user input dangerous in JavaScript?",
    "What does CWE-22 describe?",
    "Give one tip for better sleep.",
    "What is the capital of Canada?",
]


def _last_logits(llm):
    import llama_cpp
    import numpy as np

    ptr = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
    return np.ctypeslib.as_array(ptr, shape=(llm.n_vocab(),))


def engine(path: Path, *, n_ctx: int = 1024, stop: list[str] | None = None, max_tokens: int = 128) -> LlamaEngine:
    eng = LlamaEngine(path, EngineConfig(n_ctx=n_ctx, temperature=0.0, max_tokens=max_tokens, stop=list(stop or [])))
    eng.load()
    return eng


def tokenizer_parity(eng: LlamaEngine, tok, texts: list[str] = TOKENIZER_PROBES) -> dict:
    llm = eng.load()
    mismatches = []
    for t in texts:
        a = llm.tokenize(t.encode("utf-8"), add_bos=False, special=True)
        b = tok.encode(t, add_special_tokens=False)
        if list(a) != list(b):
            mismatches.append({"text": t, "gguf": list(a)[:40], "hf": list(b)[:40]})
    return {"probes": len(texts), "matched": len(texts) - len(mismatches), "mismatches": mismatches}


def hf_greedy(model, tok, prompts: list[str], *, new_tokens: int) -> list[tuple[list[int], list[int]]]:
    """(prompt ids, greedy continuation ids) per prompt, from the HF model."""
    import torch

    out = []
    for p in prompts:
        text = render_chat(tok, user_turn(p), reply_prompt=True)
        ids = tok(text, add_special_tokens=False, return_tensors="pt").input_ids
        with torch.no_grad():
            gen = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens,
                                 do_sample=False, pad_token_id=tok.pad_token_id or tok.eos_token_id)
        out.append((ids[0].tolist(), gen[0, ids.shape[1]:].tolist()))
    return out


def next_token_agreement(eng: LlamaEngine, sequences: list[tuple[list[int], list[int]]]) -> dict:
    """Teacher-forced: at each position of HF's greedy path, does llama.cpp pick the same token?"""
    llm = eng.load()
    agree = total = first_agree = 0
    for prompt, cont in sequences:
        llm.reset()
        llm.eval(prompt)
        for i, t in enumerate(cont):
            pick = int(_last_logits(llm).argmax())
            total += 1
            agree += pick == t
            if i == 0:
                first_agree += pick == t
            llm.eval([t])
    return {"positions": total, "agreed": agree, "rate": round(agree / total, 4) if total else None,
            "first_token_rate": round(first_agree / len(sequences), 4) if sequences else None}


def chat_check(eng: LlamaEngine, question: str = "What is SQL injection? Answer in one sentence.",
               *, max_tokens: int = 200) -> dict:
    gen = eng.chat([{"role": "user", "content": question}], max_tokens=max_tokens, temperature=0.0)
    text = gen.result()
    return {"question": question, "reply": text, "finish_reason": gen.stats.finish_reason,
            "ends_at_stop": gen.stats.finish_reason == "stop", "tokens_per_s": round(gen.stats.tokens_per_s, 1)}
