"""Start `bastion serve`: load the bundle's engines, check the bind rules, run uvicorn."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from app.errors import ConfigError
from app.serve.api import ServeState, make_api
from app.serve.guard import ServeLimits, front_door_policy

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8088


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and `localhost`; an empty host or 0.0.0.0 binds everywhere."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, api_key: str | None) -> None:
    """Refuse to listen beyond loopback without an API key."""
    if is_loopback(host):
        return
    if not api_key:
        raise ConfigError(
            f"refusing to serve on {host!r} without an API key: anyone who can reach this machine could use it",
            hint="pass --api-key (or set BASTION_SERVE_API_KEY), or bind to 127.0.0.1",
        )
    if len(api_key) < 12:
        raise ConfigError("the API key is shorter than 12 characters", hint="use a long random key, e.g. `openssl rand -hex 24`")
    if len(set(api_key)) < 6:
        raise ConfigError("the API key is too repetitive (fewer than 6 different characters)",
                          hint="use a long random key, e.g. `openssl rand -hex 24`")


def read_key_file(path) -> str:
    """An API key from a file (first line), so it never shows in `ps` or shell history."""
    from pathlib import Path

    p = Path(path).expanduser()
    try:
        key = p.read_text(encoding="utf-8").strip().splitlines()[0].strip() if p.stat().st_size < 4096 else ""
    except (OSError, UnicodeDecodeError, IndexError) as exc:
        raise ConfigError(f"{p}: cannot read the API key ({exc.__class__.__name__})",
                          hint="give a small text file holding the key on its first line") from None
    if not key:
        raise ConfigError(f"{p}: no API key in the file", hint="put the key on the file's first line")
    return key


def log_requests(enabled: bool = True) -> None:
    """One access line per request on stderr (`bastion.serve.access`): method, path, status, time; never prompts."""
    import sys

    access = logging.getLogger("bastion.serve.access")
    access.propagate = False
    access.handlers.clear()
    if enabled:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S"))
        access.addHandler(handler)
        access.setLevel(logging.INFO)


def build_state(settings: Any, *, api_key: str | None = None, max_pending: int = 16, load: bool = True,
                limits: ServeLimits | None = None, serve_all: bool = True) -> ServeState:
    """Open the configured bundle and its engines (loaded now, so the first request is not slow).

    With `serve_all`, every other bundle under BASTION_HOME/bundles is listed too and
    opened on the first request that names it (`model` = its directory name).
    """
    from app.runtime import make_embedder, make_engine, open_bundle
    from app.serve.rag import make_rag

    bundle = open_bundle(settings)
    engine = make_engine(settings, bundle)
    embedder = make_embedder(settings, bundle)
    if load:
        engine.load()
        if embedder is not None:
            embedder.load()
    name = bundle.manifest.name
    return ServeState(
        engine=engine,
        model_id=name,
        embedder=embedder,
        embedder_id=f"{name}-embedder" if embedder is not None else None,
        rag=make_rag(settings, bundle, embedder, engine=engine),
        api_key=api_key,
        max_pending=max_pending,
        limits=limits or ServeLimits(),
        others=_other_bundles(settings, bundle, api_key=api_key, max_pending=max_pending, limits=limits)
        if serve_all and settings.engine.kind == "local" else {},
    )


def _other_bundles(settings: Any, current: Any, **kw: Any) -> dict:
    """name -> opener for every sound-looking bundle under BASTION_HOME/bundles except `current`."""
    from functools import partial

    from app.bundle.catalog import list_bundles

    out = {}
    for entry in list_bundles():
        if entry.manifest is None or entry.name in (current.manifest.name, f"{current.manifest.name}-embedder"):
            continue
        if entry.path.resolve() != current.root.resolve():
            out[entry.name] = partial(_open_other, settings, entry.path, entry.name, **kw)
    return out


def _open_other(settings: Any, path: Any, name: str, **kw: Any) -> ServeState:
    state = build_state(settings.model_copy(update={"bundle": path}), serve_all=False, **kw)
    state.model_id = name
    return state


def serve(settings: Any, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, api_key: str | None = None,
          max_pending: int = 16, on_ready=None, limits: ServeLimits | None = None, allow_hosts: list[str] | None = None,
          access_log: bool = True) -> None:
    """Run the API until interrupted."""
    import uvicorn

    check_bind(host, api_key)
    limits = limits or ServeLimits()
    front_door_policy(limits, host, allow_hosts, api_key=bool(api_key))
    log_requests(access_log)
    state = build_state(settings, api_key=api_key, max_pending=max_pending, limits=limits)
    if on_ready:
        on_ready(state)
    try:
        uvicorn.run(make_api(state), host=host, port=port, log_level="warning", access_log=False)
    finally:
        state.close()


class BackgroundServer:
    """uvicorn on a daemon thread, for tests and benchmarks: `.url`, `.stop()`."""

    def __init__(self, state: ServeState, *, host: str = DEFAULT_HOST, port: int = 0) -> None:
        import threading

        import uvicorn

        check_bind(host, state.api_key)
        self.state = state
        config = uvicorn.Config(make_api(state), host=host, port=port, log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="bastion-serve", daemon=True)
        self.host = host

    def start(self, timeout: float = 30.0) -> "BackgroundServer":
        import time

        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("bastion serve did not start")
            time.sleep(0.02)
        return self

    @property
    def port(self) -> int:
        return self._server.servers[0].sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
