"""The llama.cpp chat engine: lazy load, streaming, cancel, JSON-schema output, budget.

`LlamaEngine` owns one `llama_cpp.Llama`. Generation is serialised by a lock
(a llama.cpp context is not thread-safe); callers stream by iterating a
`Generation`, and cancel with `Generation.cancel()` or a `threading.Event`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Protocol

from app.errors import EngineError
from app.llm.budget import Budget, fit_messages

log = logging.getLogger(__name__)


@dataclass
class GenStats:
    """What one generation cost; shown in the status line and `--json` output."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    ttft_s: float | None = None
    total_s: float = 0.0
    tokens_per_s: float = 0.0
    dropped_messages: int = 0
    context_used: float = 0.0
    cancelled: bool = False
    finish_reason: str | None = None


class Generation:
    """A streaming answer: iterate for text pieces; `.text` and `.stats` after."""

    def __init__(self, pieces: Iterator[str], stats: GenStats, cancel: threading.Event) -> None:
        self._pieces = pieces
        self.stats = stats
        self._cancel = cancel
        self.text = ""
        self._done = False

    def __iter__(self) -> Iterator[str]:
        for piece in self._pieces:
            self.text += piece
            yield piece
        self._done = True

    def cancel(self) -> None:
        self._cancel.set()

    def result(self) -> str:
        """Consume the rest of the stream and return the whole text."""
        if not self._done:
            for _ in self:
                pass
        return self.text


class ChatEngine(Protocol):
    """What the app needs from a chat model (local llama.cpp or a remote server)."""

    name: str
    n_ctx: int

    def count_tokens(self, text: str) -> int: ...

    def chat(
        self,
        messages: list[dict],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        json_schema: dict | None = None,
        cancel: threading.Event | None = None,
    ) -> Generation: ...

    def chat_json(self, messages: list[dict], schema: dict, **kw: Any) -> Any: ...


@dataclass
class EngineConfig:
    n_ctx: int = 4096
    n_threads: int | None = None
    n_gpu_layers: int = 0
    temperature: float = 0.2
    max_tokens: int = 512
    seed: int = 0
    stop: list[str] = field(default_factory=list)
    chat_template: str | None = None


class LlamaEngine:
    """A chat model in a GGUF file, run in-process by llama.cpp."""

    def __init__(self, model_path: Path, config: EngineConfig | None = None, *, context_length: int | None = None) -> None:
        self.model_path = Path(model_path)
        self.config = config or EngineConfig()
        # Never ask for more context than the model was trained for.
        self.n_ctx = min(self.config.n_ctx, context_length) if context_length else self.config.n_ctx
        self.name = self.model_path.name
        self._llm = None
        self._load_lock = threading.Lock()
        self._gen_lock = threading.Lock()
        self.load_seconds: float | None = None

    # -- loading -------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._llm is not None

    def load(self):
        """Load the model once (thread-safe); later calls return it."""
        if self._llm is not None:
            return self._llm
        with self._load_lock:
            if self._llm is None:
                self._llm = self._open()
        return self._llm

    def _open(self):
        if not self.model_path.is_file():
            raise EngineError(f"model file not found: {self.model_path}", hint="check the bundle with `bastion bundle verify`")
        from app.llm.gguf_check import ensure_checked
        from app.llm.native_log import silence_native_logs

        ensure_checked(self.model_path)  # header and tensor table, before llama.cpp trusts them

        silence_native_logs()
        import llama_cpp

        kwargs: dict[str, Any] = dict(
            model_path=str(self.model_path),
            n_ctx=self.n_ctx,
            n_gpu_layers=self.config.n_gpu_layers,
            seed=self.config.seed,
            verbose=False,
        )
        if self.config.n_threads:
            kwargs["n_threads"] = self.config.n_threads
        t0 = time.perf_counter()
        try:
            llm = llama_cpp.Llama(**kwargs)
        except (ValueError, RuntimeError) as exc:
            raise EngineError(
                f"llama.cpp could not load {self.model_path}: {exc}",
                hint="the file may be truncated or not a GGUF; run `bastion bundle verify`",
            ) from None
        if self.config.chat_template:  # a bundle's template: rendered in a bounded child process
            from app.bundle.chat_template import guarded_chat_handler

            llm.chat_handler = guarded_chat_handler(llm, self.config.chat_template)
        self.load_seconds = time.perf_counter() - t0
        log.info("loaded %s in %.2fs", self.model_path.name, self.load_seconds)
        return llm

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None

    # -- tokens ----------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        llm = self.load()
        return len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def fit(self, messages: list[dict], max_tokens: int) -> Budget:
        return fit_messages(messages, count=self.count_tokens, n_ctx=self.n_ctx, reserve=max_tokens)

    # -- generation --------------------------------------------------------------
    def chat(
        self,
        messages: list[dict],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        json_schema: dict | None = None,
        cancel: threading.Event | None = None,
    ) -> Generation:
        """Start a streaming chat completion; iterate the result for text pieces."""
        max_tokens = max_tokens or self.config.max_tokens
        cancel = cancel or threading.Event()
        stats = GenStats()
        budget = self.fit(messages, max_tokens)
        stats.dropped_messages = budget.dropped
        stats.prompt_tokens = budget.prompt_tokens
        stats.context_used = budget.used_fraction
        if budget.dropped:
            log.info("context budget: dropped %d oldest message(s)", budget.dropped)
        params: dict[str, Any] = dict(
            messages=budget.messages,
            max_tokens=max_tokens,
            temperature=self.config.temperature if temperature is None else temperature,
            seed=self.config.seed,
            stream=True,
        )
        if self.config.stop:
            params["stop"] = list(self.config.stop)
        if json_schema is not None:
            params["response_format"] = {"type": "json_object", "schema": json_schema}
        return Generation(self._stream(params, stats, cancel), stats, cancel)

    def _stream(self, params: dict, stats: GenStats, cancel: threading.Event) -> Iterator[str]:
        llm = self.load()
        with self._gen_lock:
            t0 = time.perf_counter()
            t_first = None
            n = 0
            it = llm.create_chat_completion(**params)
            try:
                for chunk in it:
                    if cancel.is_set():
                        stats.cancelled = True
                        stats.finish_reason = "cancelled"
                        break
                    choice = chunk["choices"][0]
                    piece = choice.get("delta", {}).get("content") or ""
                    if choice.get("finish_reason"):
                        stats.finish_reason = choice["finish_reason"]
                    if piece:
                        n += 1
                        if t_first is None:
                            t_first = time.perf_counter()
                            stats.ttft_s = t_first - t0
                        yield piece
            finally:
                close = getattr(it, "close", None)
                if close:
                    close()  # stops llama.cpp decoding at once on cancel
                end = time.perf_counter()
                stats.total_s = end - t0
                stats.completion_tokens = n
                if t_first is not None and n > 1 and end > t_first:
                    stats.tokens_per_s = (n - 1) / (end - t_first)

    def chat_json(self, messages: list[dict], schema: dict, **kw: Any) -> Any:
        """A completion constrained by a JSON schema, parsed."""
        gen = self.chat(messages, json_schema=schema, **kw)
        text = gen.result()
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise EngineError(
                f"the model's constrained answer did not parse ({exc}; finish: {gen.stats.finish_reason})",
                hint="raise max_tokens so the JSON answer is not cut off",
            ) from None

    @property
    def metadata(self) -> dict:
        return dict(self.load().metadata)
