"""A chat engine on a remote OpenAI-compatible server (llama.cpp server, vLLM, `bastion serve`).

`RemoteEngine` implements the same `ChatEngine` protocol as `LlamaEngine`:
streaming `chat()` returning a `Generation`, `cancel`, `chat_json()` under a JSON
schema (sent as `response_format: {"type": "json_schema", ...}`), and the token
budget. Token counts are an approximation (about 4 characters per token, the
usual figure for English BPE vocabularies): the remote tokenizer is not
available locally, so the budget keeps a safety margin instead.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from typing import Any, Iterator
from urllib.parse import urlsplit

from app.errors import EngineError
from app.llm.budget import Budget, fit_messages
from app.llm.engine import Generation, GenStats, StreamMeter

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 4.0
"""Approximation used by `count_tokens` (the remote tokenizer is not local)."""


class RemoteEngine:
    """Chat completions from `base_url` (e.g. http://127.0.0.1:8088/v1), streamed over SSE."""

    def __init__(
        self,
        base_url: str,
        *,
        model: str = "default",
        api_key: str | None = None,
        n_ctx: int = 4096,
        temperature: float = 0.2,
        max_tokens: int = 512,
        timeout: float = 300.0,
    ) -> None:
        url = base_url.rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise EngineError(f"engine.remote_url {base_url!r} is not an http(s) URL", hint="use e.g. http://127.0.0.1:8088/v1")
        if not parts.path.rstrip("/").endswith("/v1"):
            url += "/v1"
        self.base_url = url
        self.model = model
        self.api_key = api_key
        self.n_ctx = n_ctx
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.name = f"{model} @ {parts.netloc}"
        self.load_seconds: float | None = None
        """Nothing is loaded here: the server holds the model."""

    @property
    def loaded(self) -> bool:
        return True

    def load(self) -> "RemoteEngine":
        """Nothing to load (the server holds the model); here so every engine has the same interface."""
        return self

    # -- tokens (approximate) ----------------------------------------------------
    def count_tokens(self, text: str) -> int:
        """Approximate token count: ceil(characters / 4). The remote tokenizer is not local."""
        return math.ceil(len(text) / CHARS_PER_TOKEN)

    def fit(self, messages: list[dict], max_tokens: int) -> Budget:
        return fit_messages(messages, count=self.count_tokens, n_ctx=self.n_ctx, reserve=max_tokens)

    # -- HTTP --------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        # The app retrieves and cites on its own side: `bastion serve` must not add its sources
        # on top (other servers ignore the header).
        h = {"Accept": "text/event-stream", "X-Bastion-RAG": "off"}
        if self.api_key:
            h["Authorization"] = f"Bearer {self.api_key}"
        return h

    def list_models(self) -> list[str]:
        """Model ids the server offers (GET /v1/models)."""
        import httpx

        try:
            r = httpx.get(f"{self.base_url}/models", headers=self._headers(), timeout=30)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        self._check(r)
        return [m["id"] for m in r.json().get("data", [])]

    def _unreachable(self, exc: Exception) -> EngineError:
        return EngineError(
            f"remote engine {self.base_url} unreachable ({exc.__class__.__name__}: {exc})",
            hint="start the server (e.g. `bastion serve`) or fix engine.remote_url in settings",
        )

    def _check(self, r) -> None:
        if r.status_code < 400:
            return
        try:
            r.read()
            body = r.json()
            detail = body.get("error", {}).get("message") if isinstance(body.get("error"), dict) else body.get("detail")
        except Exception:  # a non-JSON error page
            detail = None
        detail = detail or (r.text[:200] if r.is_stream_consumed else "")
        if r.status_code in (401, 403):
            raise EngineError(f"remote engine {self.base_url} refused the API key (HTTP {r.status_code})",
                              hint="set engine.remote_api_key to the server's key")
        if r.status_code in (429, 503):
            raise EngineError(f"remote engine {self.base_url} is busy (HTTP {r.status_code}: {detail})", hint="retry in a moment")
        raise EngineError(f"remote engine {self.base_url} answered HTTP {r.status_code}: {detail}",
                          hint="check engine.remote_model and the server's log")

    # -- generation ----------------------------------------------------------------
    def chat(
        self,
        messages: list[dict],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        json_schema: dict | None = None,
        cancel: threading.Event | None = None,
        extra: dict | None = None,
    ) -> Generation:
        """Start a streaming chat completion on the server; iterate the result for pieces."""
        max_tokens = max_tokens or self.max_tokens
        cancel = cancel or threading.Event()
        stats = GenStats()
        budget = self.fit(messages, max_tokens)
        stats.dropped_messages = budget.dropped
        stats.prompt_tokens = budget.prompt_tokens
        stats.context_used = budget.used_fraction
        body: dict[str, Any] = {
            "model": self.model,
            "messages": budget.messages,
            "max_tokens": max_tokens,
            "temperature": self.temperature if temperature is None else temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if json_schema is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "answer", "schema": json_schema, "strict": True}}
        if extra:
            body.update(extra)
        extras: dict[str, Any] = {}
        gen = Generation(self._stream(body, stats, cancel, extras), stats, cancel, loop_guard=json_schema is None)
        gen.extra = extras  # type: ignore[attr-defined]  # server extras (e.g. `citations`) land here
        return gen

    def _stream(self, body: dict, stats: GenStats, cancel: threading.Event, extras: dict) -> Iterator[str]:
        import httpx

        meter = StreamMeter(stats)
        try:
            with httpx.stream("POST", f"{self.base_url}/chat/completions", json=body, headers=self._headers(),
                              timeout=httpx.Timeout(self.timeout, connect=10.0)) as r:
                self._check(r)
                for event in _sse_events(r.iter_lines()):
                    if cancel.is_set():
                        stats.cancelled = True
                        stats.finish_reason = "cancelled"
                        break  # leaving the block closes the connection: the server stops decoding
                    if event == "[DONE]":
                        break
                    chunk = json.loads(event)
                    if chunk.get("usage"):
                        stats.prompt_tokens = chunk["usage"].get("prompt_tokens", stats.prompt_tokens)
                    for key in ("citations", "sources"):
                        if key in chunk:
                            extras[key] = chunk[key]
                    if not chunk.get("choices"):
                        continue
                    choice = chunk["choices"][0]
                    if choice.get("finish_reason"):
                        stats.finish_reason = choice["finish_reason"]
                    piece = (choice.get("delta") or {}).get("content") or ""
                    if piece:
                        meter.piece()
                        yield piece
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        finally:
            meter.finish()

    def chat_json(self, messages: list[dict], schema: dict, **kw: Any) -> Any:
        """A completion constrained by a JSON schema on the server, parsed."""
        return self.chat(messages, json_schema=schema, **kw).result_json(
            whose="the remote model's", hint="raise max_tokens, or check that the server supports response_format json_schema")

    def close(self) -> None:
        """Nothing to release: each request opens its own connection."""


def _sse_events(lines: Iterator[str]) -> Iterator[str]:
    """The `data:` payloads of a server-sent event stream, one per event."""
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue  # comment / keep-alive
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)
