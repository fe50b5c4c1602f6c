"""Merge a LoRA adapter into the 16-bit base and prove the merge is exact (logits within tolerance)."""

from __future__ import annotations

import shutil
from pathlib import Path

from app.errors import BastionError
from builder.chat_text import render_chat, user_turn
from builder.train.base_model import BaseRef, load_model

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
                   "tokenizer.model", "vocab.json", "merges.txt")


def probe_batch(tok, prompts: list[str]):
    """Chat-formatted probe prompts as one padded batch (left padding keeps last positions aligned)."""
    texts = [render_chat(tok, user_turn(p), reply_prompt=True) for p in prompts]
    old = tok.padding_side
    tok.padding_side = "left"
    try:
        return tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    finally:
        tok.padding_side = old


def merge_adapter(base: BaseRef, adapter: Path, out: Path, *, probes: list[str], atol: float = 1e-3) -> dict:
    """Write the merged model (float16 safetensors + tokenizer) to `out`; returns the logit check."""
    import torch
    from peft import PeftModel
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(adapter))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = load_model(base, dtype=torch.float32)
    model = PeftModel.from_pretrained(model, str(adapter))
    model.eval()
    batch = probe_batch(tok, probes)
    with torch.no_grad():
        with_adapter = model(**batch).logits
        merged = model.merge_and_unload()
        after = merged(**batch).logits
    mask = batch["attention_mask"].bool()
    diff = float((with_adapter - after).abs()[mask].max())
    scale = float(with_adapter.abs()[mask].max())
    if diff > atol * max(1.0, scale / 10):
        raise BastionError(f"merged logits differ from adapter logits by {diff:.3g} (tolerance {atol})",
                           hint="the adapter may not match this base model; retrain with `builder train --force`")
    merged.config.use_cache = True
    merged.to(torch.float16).save_pretrained(str(out))
    for name in TOKENIZER_FILES:
        if (adapter / name).exists():
            shutil.copyfile(adapter / name, out / name)
    if not (out / "tokenizer.json").exists() and not (out / "tokenizer.model").exists():
        tok.save_pretrained(str(out))
    return {"merge_max_abs_logit_diff": diff, "logit_scale": scale, "probe_tokens": int(mask.sum())}
