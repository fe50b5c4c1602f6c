"""Embeddings through llama.cpp, so the laptop needs no torch."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Sequence

from app.errors import EngineError


class Embedder:
    """An embedding model in a GGUF file (e.g. all-MiniLM-L6-v2 converted by the builder)."""

    def __init__(self, model_path: Path, *, fingerprint: str, max_tokens: int = 512, n_threads: int | None = None, normalize: bool = True) -> None:
        self.model_path = Path(model_path)
        self.fingerprint = fingerprint
        self.max_tokens = max_tokens
        self.n_threads = n_threads
        self.normalize = normalize
        self._llm = None
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
                    n_ctx=self.max_tokens,
                    n_batch=self.max_tokens,
                    n_ubatch=self.max_tokens,
                    verbose=False,
                )
                if self.n_threads:
                    kw["n_threads"] = self.n_threads
                try:
                    self._llm = llama_cpp.Llama(**kw)
                except (ValueError, RuntimeError) as exc:
                    raise EngineError(f"llama.cpp could not load embedder {self.model_path}: {exc}") from None
        return self._llm

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
        """Embed texts (truncated to max_tokens); vectors are L2-normalised."""
        if not texts:
            return []
        llm = self.load()
        with self._lock:
            out = llm.embed(list(texts), normalize=self.normalize, truncate=True)
        return out  # type: ignore[return-value]

    def embed_one(self, text: str) -> list[float]:
        return self.embed([text])[0]
