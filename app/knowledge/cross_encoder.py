"""A cross-encoder reranker run by llama.cpp (a BERT GGUF with rank pooling).

The builder fine-tunes the reranker (builder/rerank.py) and exports it with llama.cpp's converter;
here llama.cpp scores each (question, passage) pair as `[CLS] question [SEP] passage [SEP]` with
`LLAMA_POOLING_TYPE_RANK`, which puts the classification head's single logit in the sequence's
embedding slot. llama-cpp-python has no rank method (its `embed` reads n_embd floats per sequence,
past the one the rank head writes), so the pairs are decoded through its low-level batch.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from app.errors import BastionError

if TYPE_CHECKING:
    from app.bundle.loader import Bundle

MAX_TOKENS = 512


class GGUFReranker:
    """`(query, passages) -> relevance logits`, higher is better; thread-safe (one decode at a time)."""

    def __init__(self, path: Path, *, n_threads: int | None = None, max_tokens: int = MAX_TOKENS) -> None:
        import llama_cpp

        from app.llm.gguf_check import ensure_checked

        self.path = Path(path)
        if not self.path.is_file():
            raise BastionError(f"reranker not found: {self.path}", hint="rebuild the bundle, or remove its `reranker` entry")
        ensure_checked(self.path)  # header, tensor table and embedded templates, as the engine and embedder
        self.max_tokens = max_tokens
        try:
            self._llm = llama_cpp.Llama(str(self.path), embedding=True, pooling_type=llama_cpp.LLAMA_POOLING_TYPE_RANK,
                                        n_ctx=max_tokens, n_batch=max_tokens, n_ubatch=max_tokens, n_threads=n_threads,
                                        verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise BastionError(f"llama.cpp cannot load the reranker {self.path} ({exc})",
                               hint="rebuild it with `builder` (a BERT cross-encoder exported with rank pooling)") from None
        vocab = self._llm._model
        self._sep = llama_cpp.llama_vocab_sep(llama_cpp.llama_model_get_vocab(vocab.model))
        self._lock = threading.Lock()

    def _pair(self, q: list[int], text: str) -> list[int]:
        d = self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        room = self.max_tokens - len(q) - 1
        return q + d[: max(room, 0)] + [self._sep]

    def __call__(self, query: str, passages: Sequence[str]) -> list[float]:
        import llama_cpp

        if not passages:
            return []
        q = self._llm.tokenize(query.encode("utf-8"), add_bos=True, special=False)[: self.max_tokens // 3]
        if q and q[-1] != self._sep:
            q.append(self._sep)
        out: list[float] = []
        with self._lock:
            batch, ctx = self._llm._batch, self._llm._ctx
            for text in passages:
                tokens = self._pair(q, text)
                batch.reset()
                batch.add_sequence(tokens, 0, True)
                ctx.kv_cache_clear()
                ctx.decode(batch)
                out.append(float(llama_cpp.llama_get_embeddings_seq(ctx.ctx, 0)[0]))
            batch.reset()
        return out

    def close(self) -> None:
        self._llm.close()


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 30.0), -30.0)))


_LOADED: dict[str, GGUFReranker] = {}
_LOADED_LOCK = threading.Lock()


def bundle_reranker(bundle: "Bundle | None") -> GGUFReranker | None:
    """The bundle's reranker (manifest `reranker`), loaded once per process; None when it ships none.

    The builder ships one only when it beat dense+BM25 on held-out queries (builder/rerank.py gate).
    """
    rel = bundle.manifest.reranker if bundle is not None else None
    if not rel:
        return None
    path = bundle.file(rel)
    key = str(Path(path).resolve())
    with _LOADED_LOCK:
        if key not in _LOADED:
            _LOADED[key] = GGUFReranker(path)
        return _LOADED[key]
