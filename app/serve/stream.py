"""One streamed chat completion: generated on the engine thread, relayed as SSE on the event loop."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from typing import Any, AsyncIterator

from app.errors import BastionError
from app.serve.state import ServeState, citations, finish_reason, open_reply, sources, usage


class _End:
    def __init__(self, gen: Any = None, error: BaseException | None = None) -> None:
        self.gen, self.error = gen, error


class ChatStream:
    """`start()` queues the generation (a full queue raises `Busy` before any byte is sent);
    `events()` yields the SSE body: role, one chunk per piece, a final chunk carrying
    `citations`, a usage chunk when asked, then `[DONE]`. A client that goes away
    cancels decoding at the next token."""

    def __init__(self, state: ServeState, req, messages: list[dict], hits: list, *, include_usage: bool) -> None:
        self.state, self.req, self.messages, self.hits = state, req, messages, hits
        self.include_usage = include_usage
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue = asyncio.Queue()
        self.cancel = threading.Event()
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())

    def start(self) -> "ChatStream":
        self.state.chat_worker.submit(self._produce)
        return self

    def _put(self, item: Any) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, item)

    def _produce(self) -> None:  # runs on the engine thread
        if self.cancel.is_set():
            self._put(_End())
            return
        try:
            gen = open_reply(self.state, self.req, self.messages, self.hits, self.cancel)
            for piece in gen:
                self._put(piece)
            self._put(_End(gen))
        except BaseException as exc:  # reported to the client as an error event
            self._put(_End(error=exc))

    def _event(self, choices: list, **extra: Any) -> str:
        body = {"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                "model": self.state.model_id, "choices": choices, **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    def _delta(self, delta: dict, finish: str | None = None, **extra: Any) -> str:
        return self._event([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}], **extra)

    async def events(self) -> AsyncIterator[str]:
        try:
            yield self._delta({"role": "assistant", "content": ""})
            text = ""
            while True:
                item = await self.queue.get()
                if isinstance(item, str):
                    text += item
                    yield self._delta({"content": item})
                    continue
                break
            if item.error is not None:
                err = item.error
                msg = str(err) if isinstance(err, BastionError) else f"generation failed: {err.__class__.__name__}: {err}"
                yield f"data: {json.dumps({'error': {'message': msg, 'type': 'server_error'}})}\n\n"
            elif item.gen is not None:
                stats = item.gen.stats
                yield self._delta({}, finish_reason(stats.finish_reason), citations=citations(self.state, item.gen, text),
                                  sources=sources(self.state, item.gen), warnings=list(stats.warnings))
                if self.include_usage:
                    yield self._event([], usage=usage(stats))
            yield "data: [DONE]\n\n"
        finally:
            self.cancel.set()
