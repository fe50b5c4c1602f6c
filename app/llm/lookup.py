"""Prompt-lookup (n-gram) speculative decoding that keeps the plain decoding's text.

`Llama.generate` (llama-cpp-python) already does the check: with a draft model it evaluates the
token it just chose and the drafted ones in one batch and keeps drafts while the sampler agrees.
The text stays the plain decoding's only if a token's logits come out bit-identical whether it is
evaluated alone or inside a batch, and llama.cpp does not promise that. Measured on this CPU build:
the default attention kernel rounds differently by batch size (up to ~0.9 logit; an F32 KV cache
hides it below ~200 tokens of context, not beyond), the flash-attention kernel does not; with it,
Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 weights are exact (200 to 2,000 tokens of context), while the
K-quants (Q4_K, Q6_K, with or without weight repacking), IQ4_NL and F16 weights still differ.

So an engine on batch-exact weight types runs with flash attention (`EngineConfig.exact_batches`),
checks the loaded model once on a probe past 300 tokens of context (`batch_invariant`, remembered
per model file) and drafts nothing when its batched logits differ: the speed-up is only taken where
the text is provably the same (`LookupStatus`). This module also gives the drafter
(`source_lookup_class`) and a `Llama` whose check batches ask for logits only where `generate`
samples (`exact_llama_class`; llama-cpp-python's all-logits mode would compute and copy the
vocabulary logits of every prompt token).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Text the probe evaluates: any text works; its tokens are evaluated once in a batch, once one by one.
_PROBE = ("Parameterised queries keep user input out of the SQL text: the driver sends the statement and the "
          "values separately, so a quote in the input cannot end the string.")


# Weight types whose CPU matmul gave bit-identical logits batched and one at a time (flash attention).
EXACT_WEIGHT_TYPES = frozenset({"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"})


@dataclass
class LookupStatus:
    requested: int
    """Draft tokens per step asked for (EngineConfig.prompt_lookup)."""
    active: bool
    reason: str
    """Why it is on or off, for logs and `bastion doctor`-style reports."""
    probe_s: float = 0.0
    """What the load-time probe cost (0 when the header already ruled prompt-lookup out)."""


def weights_block_lookup(model_path) -> str | None:
    """Why this GGUF's weights rule prompt-lookup out (a type whose batched matmul rounds differently),
    or None when every matrix is of a type measured exact; read from the header, before loading."""
    from pathlib import Path

    st = Path(model_path).stat()
    return _weights_verdict(str(Path(model_path).resolve()), st.st_size, st.st_mtime_ns)


def flash_attention_for(model_path, exact_batches: bool | None) -> bool:
    """`EngineConfig.exact_batches` resolved for a model file: None follows the weights' types."""
    return weights_block_lookup(model_path) is None if exact_batches is None else exact_batches


@functools.lru_cache(maxsize=8)
def _weights_verdict(path: str, size: int, mtime_ns: int) -> str | None:
    """Remembered per file version: the header of a 152k-token vocabulary takes ~0.2 s to read."""
    from collections import Counter

    from app.llm.gguf_check import check_gguf

    info = check_gguf(path, check_arch=False)
    other = Counter(t.type_name for t in info.tensors if len(t.shape) >= 2 and t.type_name not in EXACT_WEIGHT_TYPES)
    if not other:
        return None
    kinds = ", ".join(f"{n} {k}" for k, n in other.most_common())
    return (f"off: {kinds} weight matrices round differently in a batch, so drafts could change the text "
            f"(exact types: {', '.join(sorted(EXACT_WEIGHT_TYPES))})")


@functools.lru_cache(maxsize=None)
def source_lookup_class():
    """The drafter: llama-cpp-python's `LlamaDraftModel` interface, drafting more carefully than its
    `LlamaPromptLookupDecoding`, which falls back to one-token matches and takes the earliest one.

    On this 2-core CPU (SmolLM2-135M, flash attention, 1,100 tokens of context) a plain token costs
    33 ms, a check batch of 2 35 ms, of 4 53 ms, of 11 125 ms, so a long wrong draft is expensive:
    this one drafts only after an n-gram of at least `min_ngram` tokens seen before (the longest,
    most recent match), and sizes its drafts by how the last one fared (doubled when all were
    kept, else one past what was kept)."""
    import numpy as np
    from llama_cpp.llama_speculative import LlamaDraftModel

    class SourceLookup(LlamaDraftModel):
        def __init__(self, max_draft: int = 10, *, min_ngram: int = 3, max_ngram: int = 6, start: int = 4) -> None:
            self.max_draft, self.min_ngram, self.max_ngram, self.start = max_draft, min_ngram, max_ngram, start
            self.k = min(start, max_draft)
            self._last_len = -1
            self._last_draft = 0
            self.drafted = self.kept = 0  # totals, for the benchmark's acceptance figure

        def __call__(self, input_ids, /, **kwargs):
            n = len(input_ids)
            kept = n - self._last_len - 1  # generate() passes the ids so far, ending with the token it just chose
            if self._last_len < 0 or kept < 0 or kept > self._last_draft:
                self.k = min(self.start, self.max_draft)  # a new generation
            elif self._last_draft:
                self.kept += kept
                # all kept: draft twice as far; else one past what was kept (a one-token draft costs
                # almost nothing: a check batch of 2 takes ~1.05x a plain token here)
                self.k = min(self.max_draft, self.k * 2) if kept == self._last_draft else max(1, min(self.k, kept + 1))
            draft = self._match(np.asarray(input_ids))
            self._last_len, self._last_draft = n, len(draft)
            self.drafted += len(draft)
            return draft

        def _match(self, ids):
            n = len(ids)
            for size in range(min(self.max_ngram, n - 1), self.min_ngram - 1, -1):
                tail = ids[n - size:]
                windows = np.lib.stride_tricks.sliding_window_view(ids[: n - 1], size)
                hits = np.nonzero((windows == tail).all(axis=1))[0]
                if len(hits):
                    start = int(hits[-1]) + size  # the most recent earlier occurrence
                    return ids[start: min(start + self.k, n)].astype(np.intc)
            return np.array([], dtype=np.intc)

    return SourceLookup


@functools.lru_cache(maxsize=None)
def exact_llama_class():
    """A `llama_cpp.Llama` whose `eval` (1) asks llama.cpp for logits only where `generate` samples and
    (2) evaluates the last token of a prompt on its own.

    (2) is what makes a restored prompt cache give the uncached text: llama.cpp's logits for a token
    depend on the size of the batch it is evaluated in (a token inside a 100-token batch differs by up
    to ~0.8 logit from the same token alone), and llama-cpp-python, restoring a cached prompt, replays
    its last token alone. With (2) the first answer token always comes from the same one-token
    evaluation over the same batches, cached or not."""
    import llama_cpp

    class ExactLlama(llama_cpp.Llama):
        def __init__(self, *args, check_span: int = 1, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            # generate() samples after the last prompt token, and after every token of a check batch
            # (the chosen token plus its drafts); nothing reads the other rows.
            self._check_span = max(1, check_span)
            self._logits_all = False

        def eval(self, tokens) -> None:
            tokens = list(tokens)
            if len(tokens) > self._check_span:  # a prompt: all but its last token in batches, then that one alone
                self._eval(tokens[:-1], every_row=False)
                tokens = tokens[-1:]
            self._eval(tokens, every_row=True)

        def _eval(self, tokens, *, every_row: bool) -> None:
            self._ctx.kv_cache_seq_rm(-1, self.n_tokens, -1)
            for i in range(0, len(tokens), self.n_batch):
                batch = tokens[i: i + self.n_batch]
                n_past = self.n_tokens
                self._batch.set_batch(batch=batch, n_past=n_past, logits_all=every_row)
                self._ctx.decode(self._batch)
                self.input_ids[n_past: n_past + len(batch)] = batch
                self.n_tokens += len(batch)
                self._requires_eval = False

    return ExactLlama


def batch_invariant(llm, span: int, *, context: int = 320) -> bool:
    """True when tokens evaluated in a batch of any size up to `span`, after `context` tokens, get the
    very logits they get one at a time. Compares every row bit for bit. Uses the live context (reset
    after); `llm` must be an `exact_llama_class()` instance (its eval returns every row of a check batch).

    The context matters: a kernel can switch paths with the KV length (the default attention with an
    F32 cache was exact at 200 tokens and off by 0.2-0.9 logit at 600), so the probe looks past 300."""
    import ctypes

    import numpy as np

    text = _PROBE
    while len(llm.tokenize(text.encode("utf-8"), add_bos=True)) < context + span:
        text += " " + _PROBE
    tokens = llm.tokenize(text.encode("utf-8"), add_bos=True)
    tokens = tokens[: min(len(tokens), llm.n_ctx() - 1)]
    prefix, tail = tokens[: len(tokens) - span], tokens[len(tokens) - span:]
    n_vocab = llm.n_vocab()

    def rows(k: int) -> np.ndarray:
        ptr = llm._ctx.get_logits()
        return np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(k * n_vocab,)).reshape(k, n_vocab).copy()

    try:
        llm.reset()
        llm.eval(prefix)
        single = []
        for t in tail:
            llm.eval([t])
            single.append(rows(1)[0])
        for k in range(2, span + 1):  # every size a check batch can have
            llm.n_tokens = len(prefix)  # back to the prefix: eval() drops the KV cells after it
            llm.eval(tail[:k])
            if not np.array_equal(rows(k), np.array(single[:k])):
                return False
        return True
    finally:
        llm.reset()


def remembered_probe(llm, model_path, span: int) -> tuple[bool, bool]:
    """`batch_invariant` once per model file version, llama-cpp-python version and span (the verdict is
    a property of the weights and the build); returns (exact, from_cache)."""
    from pathlib import Path

    import llama_cpp

    from app.file_memo import memo_get, memo_put

    st = Path(model_path).stat()
    key = f"{Path(model_path).resolve()}|{st.st_size}|{st.st_mtime_ns}|llama_cpp={llama_cpp.__version__}|span={span}|flash_attn|v2"
    seen = memo_get("lookup_probe.json", key)
    if isinstance(seen, bool):
        return seen, True
    exact = batch_invariant(llm, span)
    memo_put("lookup_probe.json", key, exact)
    return exact, False
