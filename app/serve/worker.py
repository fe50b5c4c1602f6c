"""One worker thread per engine, with a bounded queue.

A llama.cpp context is not thread-safe, so every call into one engine runs on
that engine's single worker thread, in arrival order. At most `max_pending`
jobs wait; one more is refused at once with `Busy` (the API turns it into HTTP
429) instead of piling up latency without bound.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any, Callable


class Busy(Exception):
    """The engine's queue is full."""


class EngineWorker:
    """Serialise calls to one engine on one thread; refuse beyond `max_pending` waiting."""

    def __init__(self, name: str, *, max_pending: int = 16) -> None:
        self.name = name
        self.max_pending = max_pending
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"engine-{name}")
        self._lock = threading.Lock()
        self._queued = 0  # submitted and not yet started
        self.served = 0
        self.refused = 0

    @property
    def queued(self) -> int:
        return self._queued

    def submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future:
        """Queue `fn(*args)` on the engine thread; raise `Busy` when the queue is full."""
        with self._lock:
            if self._queued >= self.max_pending:
                self.refused += 1
                raise Busy(f"{self.name}: {self._queued} requests already waiting")
            self._queued += 1

        def job() -> Any:
            with self._lock:
                self._queued -= 1
            try:
                return fn(*args)
            finally:
                self.served += 1

        return self._pool.submit(job)

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Await `fn(*args)` run on the engine thread."""
        return await asyncio.wrap_future(self.submit(fn, *args))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
