"""The HTTP front door of `bastion serve`: Host/Origin allow-list, body size cap, access log.

One pure ASGI middleware, so it runs before FastAPI reads or parses a byte:

- **Host and Origin**: a browser page on another site can reach a loopback
  server through DNS rebinding (its own name resolving to 127.0.0.1) or a
  cross-origin POST. Only requests whose `Host` (and `Origin`, when sent) name
  an allowed host get through; by default the loopback names plus the address
  the server is bound to (Ollama's CVE-2024-28224 was this hole). 403 otherwise.
- **Body size**: a `Content-Length` over the cap is refused with 413 before the
  body is read; a chunked body is counted as it arrives and cut off at the cap.
- **Access log**: one line per request on the `bastion.serve.access` logger:
  method, path (no query string), status, milliseconds. Never a prompt.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

access_log = logging.getLogger("bastion.serve.access")

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass
class ServeLimits:
    """What one request may ask for; over a limit is a 413 or 400 with a message."""

    max_body_bytes: int = 2 * 1024 * 1024
    max_messages: int = 256
    max_message_chars: int = 200_000
    """Total characters across a request's messages."""
    max_tokens: int = 4096
    """Largest `max_tokens` a client may ask for."""
    max_embedding_inputs: int = 256
    max_embedding_chars: int = 32_000
    """Longest single embedding input, in characters."""
    allowed_hosts: list[str] = field(default_factory=lambda: list(LOOPBACK_NAMES))
    """Host names a request may address (the Host header); `*` allows any."""
    allowed_origins: list[str] | None = None
    """Hosts a browser page may call from (the Origin header); None: the allowed hosts, never `*` by default."""


def host_of(value: str) -> str:
    """The host part of a Host header or Origin URL, lower-case, without port or brackets."""
    value = value.strip().lower()
    if "://" in value:
        value = urlsplit(value).netloc
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value[1:]
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def allowed_hosts_for(bind_host: str, extra: list[str] | None = None) -> list[str]:
    """Loopback names, the bound address (unless it is a wildcard) and any the user adds."""
    hosts = list(LOOPBACK_NAMES)
    if bind_host and bind_host not in ("0.0.0.0", "::", ""):
        hosts.append(host_of(bind_host))
    hosts.extend(host_of(h) if h != "*" else "*" for h in (extra or []))
    return list(dict.fromkeys(hosts))


def front_door_policy(limits: ServeLimits, bind_host: str, extra: list[str] | None, *, api_key: bool) -> None:
    """Set who may call: DNS rebinding matters to a server that trusts its network position (no key).

    Without a key (loopback only) the Host must be a loopback name or one the user allowed. With a
    key, any Host is accepted unless `--allow-host` names some (clients reach a team server by many
    names), but a browser Origin must still be loopback, the bound address or an allowed host.
    """
    hosts = allowed_hosts_for(bind_host, extra)
    limits.allowed_origins = [h for h in hosts if h != "*"] if "*" not in hosts else ["*"]
    limits.allowed_hosts = hosts if (not api_key or extra) else ["*"]


class FrontDoor:
    """ASGI middleware: host/origin check, body cap, access log."""

    def __init__(self, app, limits: ServeLimits) -> None:
        self.app = app
        self.limits = limits
        self.allowed = {h.lower() for h in limits.allowed_hosts}
        origins = limits.allowed_origins if limits.allowed_origins is not None else \
            [h for h in limits.allowed_hosts if h != "*"] or list(LOOPBACK_NAMES)
        self.origins = {h.lower() for h in origins}

    @staticmethod
    def _ok(value: str | None, allowed: set[str]) -> bool:
        if "*" in allowed:
            return True
        return value is not None and host_of(value) in allowed

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        status = {"code": 500}

        async def send_logged(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self._handle(scope, receive, send_logged)
        finally:
            access_log.info("%s %s %d %.0fms", scope.get("method", "?"), scope.get("path", "?"), status["code"],
                            (time.perf_counter() - t0) * 1000)

    async def _handle(self, scope, receive, send):
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if not self._ok(headers.get("host"), self.allowed):
            return await _refuse(send, 403, "Host header is not an allowed host name for this server "
                                            "(add it with `bastion serve --allow-host`)", "forbidden")
        if "origin" in headers and not self._ok(headers["origin"], self.origins):
            return await _refuse(send, 403, "cross-origin requests from this Origin are not allowed", "forbidden")
        cap = self.limits.max_body_bytes
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return await _refuse(send, 400, "Content-Length is not a number", "invalid_request_error")
            if int(length) > cap:
                return await _refuse(send, 413, f"request body of {length} bytes is over the {cap}-byte limit",
                                     "request_too_large")
        # Read the (capped) body here, so nothing behind this door ever holds more than the cap.
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before sending its body
            seen += len(message.get("body", b""))
            if seen > cap:
                return await _refuse(send, 413, f"request body is over the {cap}-byte limit", "request_too_large")
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # later calls wait for the disconnect, as the app expects

        await self.app(scope, replay, send)


async def _refuse(send, status: int, message: str, kind: str) -> None:
    body = json.dumps({"error": {"message": message, "type": kind, "param": None, "code": None}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
