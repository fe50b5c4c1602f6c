"""Embeddings through llama.cpp, so the laptop needs no torch.

Texts are embedded many at a time: each llama.cpp decode carries up to
`batch_tokens` tokens from several texts, one sequence id per text, the way
llama.cpp's own `llama-embedding` tool batches its prompts. Sequences do not
attend to each other, so a text's vector is the one it gets on its own (to
float rounding; tests check cosine >= 0.9999). Flash attention is on: its CPU
kernel skips the masked pairs between sequences, which plain attention computes
(that made a 2048-token batch 3-4x slower than one text at a time).

On a CPU the decode is bound by the model's FLOPs, which batching does not
change: measured on 2 cores, batched and one-at-a-time cost about the same CPU
time (see bench/bench_speed.py embed); batching saves per-call overhead for
short texts (queries, triplets) and is what a GPU build needs.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Sequence

from app.errors import EngineError

BATCH_TOKENS = 512
"""Tokens per llama.cpp decode when embedding (several texts share one decode)."""


class Embedder:
    """An embedding model in a GGUF file (e.g. all-MiniLM-L6-v2 converted by the builder)."""

    def __init__(self, model_path: Path, *, fingerprint: str, max_tokens: int = 512, n_threads: int | None = None,
                 normalize: bool = True, batch_tokens: int = BATCH_TOKENS,
                 flash_attn: bool = True) -> None:
        self.model_path = Path(model_path)
        self.fingerprint = fingerprint
        self.max_tokens = max_tokens
        self.n_threads = n_threads
        self.normalize = normalize
        self.batch_tokens = max(int(batch_tokens), int(max_tokens))
        self.flash_attn = flash_attn
        self._llm = None
        self._batch = None
        self._lock = threading.Lock()

    def load(self):
        with self._lock:
            if self._llm is None:
                if not self.model_path.is_file():
                    raise EngineError(f"embedder not found: {self.model_path}", hint="run `bastion bundle verify`")
                from app.llm.gguf_check import ensure_checked
                from app.llm.native_log import silence_native_logs

                ensure_checked(self.model_path)  # header and tensor table, before llama.cpp trusts them

                silence_native_logs()
                import llama_cpp

                kw = dict(
                    model_path=str(self.model_path),
                    embedding=True,
                    n_ctx=self.batch_tokens,
                    n_batch=self.batch_tokens,
                    n_ubatch=self.batch_tokens,
                    flash_attn=self.flash_attn,
                    verbose=False,
                )
                if self.n_threads:
                    kw["n_threads"] = self.n_threads
                try:
                    self._llm = llama_cpp.Llama(**kw)
                except (ValueError, RuntimeError) as exc:
                    raise EngineError(f"llama.cpp could not load embedder {self.model_path}: {exc}") from None
        return self._llm

    def close(self) -> None:
        with self._lock:
            if self._batch is not None:
                import llama_cpp

                llama_cpp.llama_batch_free(self._batch)
                self._batch = None
            if self._llm is not None:
                self._llm.close()
                self._llm = None

    @property
    def dim(self) -> int:
        return int(self.load().n_embd())

    def count_tokens(self, text: str) -> int:
        return len(self.load().tokenize(text.encode("utf-8"), add_bos=True, special=False))

    def tokenize(self, text: str) -> list[int]:
        return self.load().tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def detokenize(self, tokens: list[int]) -> str:
        return self.load().detokenize(tokens).decode("utf-8", "replace")

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed texts (each truncated to max_tokens); vectors are L2-normalised when `normalize`."""
        if not texts:
            return []
        import llama_cpp

        llm = self.load()
        with self._lock:
            if llm.pooling_type() == llama_cpp.LLAMA_POOLING_TYPE_NONE:
                # Token-level embeddings: no per-sequence vector to batch; keep llama-cpp-python's path.
                return llm.embed(list(texts), normalize=self.normalize, truncate=True)  # type: ignore[return-value]
            seqs = [self._tokens(llm, t) for t in texts]
            return self._embed_tokens(llm, seqs)

    def embed_one(self, text: str) -> list[float]:
        return self.embed([text])[0]

    # -- batching ------------------------------------------------------------------
    def _tokens(self, llm, text: str) -> list[int]:
        toks = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)[: self.max_tokens]
        return toks or [llm.token_bos()]

    def _embed_tokens(self, llm, seqs: list[list[int]]) -> list[list[float]]:
        """Pack whole sequences into decodes of at most batch_tokens tokens and n_seq_max sequences."""
        import llama_cpp
        import numpy as np

        if self._batch is None:
            self._batch = llama_cpp.llama_batch_init(self.batch_tokens, 0, 1)
        batch = self._batch
        n_embd = llm.n_embd()
        n_seq_max = max(1, int(llm.context_params.n_seq_max))
        out = np.empty((len(seqs), n_embd), dtype=np.float32)
        mem = llama_cpp.llama_get_memory(llm.ctx)
        i = 0
        while i < len(seqs):
            first, n = i, 0
            while i < len(seqs) and i - first < n_seq_max and n + len(seqs[i]) <= self.batch_tokens:
                for pos, tok in enumerate(seqs[i]):
                    batch.token[n] = tok
                    batch.pos[n] = pos
                    batch.n_seq_id[n] = 1
                    batch.seq_id[n][0] = i - first
                    batch.logits[n] = True
                    n += 1
                i += 1
            batch.n_tokens = n
            if mem:
                llama_cpp.llama_memory_clear(mem, True)
            rc = llama_cpp.llama_decode(llm.ctx, batch)
            if rc != 0:
                raise EngineError(f"llama.cpp could not embed a batch (llama_decode returned {rc})")
            for s in range(i - first):
                ptr = llama_cpp.llama_get_embeddings_seq(llm.ctx, s)
                if not ptr:
                    raise EngineError("llama.cpp returned no embedding for a sequence")
                out[first + s] = np.ctypeslib.as_array(ptr, shape=(n_embd,))
        if mem:
            llama_cpp.llama_memory_clear(mem, True)
        if self.normalize:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out = out / np.where(norms == 0.0, 1.0, norms)
        return out.tolist()
