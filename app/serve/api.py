"""The OpenAI-compatible HTTP API over a bundle (FastAPI; uvicorn serves it).

Routes: GET /v1/models, POST /v1/chat/completions (stream or not; RAG with the
cited sources in an extra `citations` field and every source given in `sources`),
POST /v1/embeddings (the bundle's embedder), GET /health. Engine work runs on one `EngineWorker` per engine, so a
llama.cpp context is never used from two threads, and a full queue answers 429.
"""


import asyncio
import base64
import hmac
import logging
import struct
import threading
import time
import uuid

from app.errors import BastionError
from app.serve.guard import FrontDoor, ServeLimits
from app.serve.schemas import ChatRequest, EmbeddingRequest
from app.serve.state import ServeState, citations, finish_reason, open_reply, sources, usage, uses_rag  # noqa: F401
from app.serve.stream import ChatStream
from app.serve.worker import Busy

log = logging.getLogger(__name__)


RAG_HEADER = "x-bastion-rag"
"""`X-Bastion-RAG: off` turns retrieval off, like `"rag": false` in the body; a header because other
OpenAI-compatible servers ignore unknown headers but may reject unknown body fields. RemoteEngine sends it:
the app does its own retrieval and sends the finished prompt."""


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, kind: str = "invalid_request_error", code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code = status, message, kind, code


def make_api(state: ServeState):
    """The FastAPI application for `state` (tests and `bastion serve` both call this)."""
    from fastapi import Depends, FastAPI, HTTPException, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, StreamingResponse

    api = FastAPI(title="Bastion", version="1", docs_url=None, redoc_url=None, openapi_url=None)
    api.state.bastion = state
    api.add_middleware(FrontDoor, limits=state.limits)

    def error(status: int, message: str, kind: str, code: str | None = None) -> JSONResponse:
        return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}}, status_code=status)

    @api.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError):
        return error(exc.status, exc.message, exc.kind, exc.code)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return error(400, f"{where}: {first.get('msg')}", "invalid_request_error")

    @api.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException):  # e.g. a body that is not UTF-8 JSON
        return error(exc.status_code, str(exc.detail), "invalid_request_error")

    @api.exception_handler(Busy)
    async def _busy(_: Request, exc: Busy):
        return error(429, f"server busy: {exc}; retry shortly", "rate_limit_error", "queue_full")

    @api.exception_handler(BastionError)
    async def _bastion(_: Request, exc: BastionError):
        return error(400, str(exc), "invalid_request_error")

    def authorise(request: Request) -> None:
        if not state.api_key:
            return
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        # hmac.compare_digest (as secrets.compare_digest) takes the same time wherever the strings differ.
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode("utf-8", "replace"),
                                                                  state.api_key.encode("utf-8")):
            raise ApiError(401, "missing or wrong API key (send Authorization: Bearer <key>)", kind="authentication_error",
                           code="invalid_api_key")

    auth = [Depends(authorise)]

    @api.get("/health")
    async def health() -> dict:
        return {"status": "ok", "model": state.model_id, "queued": state.chat_worker.queued}

    @api.get("/v1/models", dependencies=auth)
    async def models() -> dict:
        data = [{"id": state.model_id, "object": "model", "created": state.created, "owned_by": "bastion"}]
        data += [{"id": name, "object": "model", "created": state.created, "owned_by": "bastion"} for name in state.others]
        if state.embedder is not None and state.embedder_id:
            data.append({"id": state.embedder_id, "object": "model", "created": state.created, "owned_by": "bastion"})
        return {"object": "list", "data": data}

    @api.post("/v1/chat/completions", dependencies=auth)
    async def chat(req: ChatRequest, request: Request):
        # Every bundle under BASTION_HOME/bundles is served by its name; others open on first use.
        st = await asyncio.to_thread(state.route, req.model) if req.model in state.others else state
        _check_model(req.model, st.model_id)
        if request.headers.get(RAG_HEADER, "").lower() == "off":
            req.rag = False
        messages = [m.plain() for m in req.messages]
        check_chat_limits(st.limits, req, messages)
        hits = await st.embed_worker.run(st.rag.retrieve, messages) if uses_rag(st, req) else []
        if req.stream:
            include_usage = bool((req.stream_options or {}).get("include_usage"))
            stream = ChatStream(st, req, messages, hits, include_usage=include_usage).start()
            return StreamingResponse(stream.events(), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        cancel = threading.Event()
        job = asyncio.ensure_future(st.chat_worker.run(_complete, st, req, messages, hits, cancel))
        while not job.done():  # a client that hangs up stops the decoding it asked for
            await asyncio.wait({job}, timeout=0.25)
            if not job.done() and await request.is_disconnected():
                cancel.set()
        text, stats, cites, given = job.result()
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": st.model_id,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": None,
                         "finish_reason": finish_reason(stats.finish_reason)}],
            "usage": usage(stats),
            "citations": cites,
            "sources": given,
            "warnings": list(stats.warnings),
        }

    @api.post("/v1/embeddings", dependencies=auth)
    async def embeddings(req: EmbeddingRequest):
        if state.embedder is None:
            raise ApiError(404, "this bundle has no embedder", code="model_not_found")
        _check_model(req.model, state.embedder_id or "", also=state.model_id)
        texts = req.texts()
        if not texts or any(not isinstance(t, str) or not t for t in texts):
            raise ApiError(400, "input must be a non-empty string or a list of non-empty strings")
        check_embedding_limits(state.limits, texts)
        vectors, tokens = await state.embed_worker.run(_embed, state.embedder, texts)
        data = [{"object": "embedding", "index": i, "embedding": _encode(v, req.encoding_format)} for i, v in enumerate(vectors)]
        return {"object": "list", "data": data, "model": state.embedder_id,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}

    return api


# -- helpers (plain functions; the engine calls run on worker threads) --------------


def _check_model(asked: str | None, served: str, *, also: str | None = None) -> None:
    if asked in (None, "", "default", served) or (also and asked == also):
        return
    raise ApiError(404, f"model {asked!r} is not served here (this server has {served!r})", code="model_not_found")


def check_text(text: str, where: str) -> None:
    """Text that cannot be UTF-8 (a lone surrogate from a `\\ud800` escape) is a client error, not a crash."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ApiError(400, f"{where}: not valid Unicode ({exc.reason} at character {exc.start})") from None


def check_chat_limits(limits: ServeLimits, req: ChatRequest, messages: list[dict]) -> None:
    if len(messages) > limits.max_messages:
        raise ApiError(400, f"{len(messages)} messages; at most {limits.max_messages} are accepted")
    total = 0
    for i, m in enumerate(messages):
        check_text(m["content"], f"messages[{i}].content")
        total += len(m["content"])
    if total > limits.max_message_chars:
        raise ApiError(413, f"messages hold {total} characters; at most {limits.max_message_chars} are accepted",
                       kind="invalid_request_error", code="request_too_large")
    asked = req.limit()
    if asked is not None and asked > limits.max_tokens:
        raise ApiError(400, f"max_tokens {asked} is over this server's limit of {limits.max_tokens}")
    check_text(req.model or "", "model")


def check_embedding_limits(limits: ServeLimits, texts: list[str]) -> None:
    if len(texts) > limits.max_embedding_inputs:
        raise ApiError(400, f"{len(texts)} inputs; at most {limits.max_embedding_inputs} per request")
    for i, t in enumerate(texts):
        if len(t) > limits.max_embedding_chars:
            raise ApiError(413, f"input[{i}] has {len(t)} characters; at most {limits.max_embedding_chars}",
                           code="request_too_large")
        check_text(t, f"input[{i}]")


def _complete(state: ServeState, req: ChatRequest, messages: list[dict], hits: list, cancel: threading.Event):
    gen = open_reply(state, req, messages, hits, cancel)
    text = gen.result()
    return text, gen.stats, citations(state, gen, text), sources(state, gen)


def _embed(embedder, texts: list[str]) -> tuple[list[list[float]], int]:
    tokens = sum(embedder.count_tokens(t) for t in texts)
    return embedder.embed(texts), tokens


def _encode(vector: list[float], fmt: str):
    if fmt == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return vector
