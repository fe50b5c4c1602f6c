"""What the API routes share: the served bundle's engines and retrieval, and the reply helpers.

Its own module so that the routes (`app.serve.api`) and the SSE relay (`app.serve.stream`) both
import it and neither imports the other.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from app.knowledge.answer import Answer
from app.knowledge.retrieval import Hit
from app.llm.engine import ChatEngine, GenStats
from app.serve.guard import ServeLimits
from app.serve.rag import NoRag, Rag
from app.serve.schemas import ChatRequest
from app.serve.worker import EngineWorker


@dataclass
class ServeState:
    """Everything the routes need; built by `app.serve.server.build_state`."""

    engine: ChatEngine
    model_id: str
    embedder: Any = None
    embedder_id: str | None = None
    rag: Rag = field(default_factory=NoRag)
    api_key: str | None = None
    max_pending: int = 16
    limits: ServeLimits = field(default_factory=ServeLimits)
    created: int = field(default_factory=lambda: int(time.time()))
    chat_worker: EngineWorker = field(init=False)
    embed_worker: EngineWorker = field(init=False)

    def __post_init__(self) -> None:
        self.chat_worker = EngineWorker("chat", max_pending=self.max_pending)
        self.embed_worker = EngineWorker("embed", max_pending=self.max_pending)

    others: dict = field(default_factory=dict)
    """Other bundles served by name: name -> a function that opens its ServeState (on first request)."""
    _opened: dict = field(default_factory=dict, init=False, repr=False)
    _open_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def route(self, model: str | None) -> "ServeState":
        """The state serving `model`: this bundle's, or another bundle's (opened once, then kept)."""
        if model in (None, "", "default", self.model_id) or model not in self.others:
            return self
        with self._open_lock:
            if model not in self._opened:
                self._opened[model] = self.others[model]()
            return self._opened[model]

    def close(self) -> None:
        self.chat_worker.close()
        self.embed_worker.close()
        self.rag.close()
        for other in self._opened.values():
            other.close()



def uses_rag(state: ServeState, req: ChatRequest) -> bool:
    """RAG unless the client turned it off (`"rag": false`) or asked for JSON output."""
    return req.rag and req.schema() is None and state.rag.enabled


def open_reply(state: ServeState, req: ChatRequest, messages: list[dict], hits: list[Hit],
               cancel: threading.Event) -> Answer:
    """Start the answer (on the chat thread): grounded in `hits` with RAG, else plain or JSON-constrained."""
    if uses_rag(state, req):
        return state.rag.start(messages, hits, max_tokens=req.limit(), temperature=req.temperature, cancel=cancel)
    gen = state.engine.chat(messages, max_tokens=req.limit(), temperature=req.temperature, json_schema=req.schema(),
                            cancel=cancel)
    return Answer.plain(gen)


def citations(state: ServeState, reply: Answer, text: str) -> list[dict]:
    """The sources the answer cites (numbered as they were given to the model)."""
    return state.rag.citations(text, reply.hits)


def sources(state: ServeState, reply: Answer) -> list[dict]:
    """Every numbered source the model was given (`citations` is the cited subset)."""
    return state.rag.sources(reply.hits)


def finish_reason(reason: str | None) -> str:
    return reason if reason in ("stop", "length") else "stop"


def usage(stats: GenStats) -> dict:
    return {"prompt_tokens": stats.prompt_tokens, "completion_tokens": stats.completion_tokens,
            "total_tokens": stats.prompt_tokens + stats.completion_tokens}
