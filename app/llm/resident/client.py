"""`ResidentEngine`: the `ChatEngine` protocol spoken to the resident engine process.

`connect_resident` finds the engine for this BASTION_HOME (starting it when there is none, or
replacing it when it runs another bundle or other engine settings) and returns a client, or
None when no engine can be started, so the caller falls back to in-process. Text, stats,
finish reasons and loop stops are the server's `LlamaEngine`'s, unchanged: the client adds no
loop guard of its own. Cancelling sends a line; the server stops at the next token.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any, Iterator

from app.errors import EngineError
from app.llm.budget import Budget, fit_messages
from app.llm.engine import EngineConfig, Generation, GenStats
from app.llm.resident import protocol

log = logging.getLogger(__name__)

START_TIMEOUT_S = 120.0
"""Bundle verification and engine set-up before the socket exists (the model loads after)."""


def _connect(path: Path, timeout: float | None = 5.0) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        end = time.monotonic() + (timeout or 5.0)
        while True:
            try:
                s.connect(str(path))
                break
            except BlockingIOError:  # EAGAIN: the engine's accept queue is full for a moment; wait our turn
                if time.monotonic() > end:
                    raise
                time.sleep(0.02)
        uid = protocol.peer_uid(s)
        if uid is not None and uid != os.getuid():
            raise EngineError(f"{path} is served by uid {uid}, not this user", hint=f"remove {path}")
    except BaseException:
        s.close()
        raise
    return s


def _request(path: Path, msg: dict, timeout: float | None = 5.0) -> dict:
    with _connect(path, timeout) as s:
        protocol.send(s, msg)
        reply = protocol.LineReader(s).read()
    if reply is None:
        raise EngineError("the resident engine hung up", hint="run the command again; it restarts")
    return reply


def engine_status() -> dict | None:
    """The running engine's hello (pid, model, key, …), or None when none answers."""
    path = protocol.socket_path()
    try:
        return _request(path, {"op": "hello"}) | {"socket": str(path)}
    except (OSError, EngineError, ValueError):
        return None


def stop_engine(wait_s: float = 10.0) -> dict | None:
    """Ask the running engine to exit; its hello when there was one, else None."""
    hello = engine_status()
    if hello is None:
        return None
    path = protocol.socket_path()
    try:
        _request(path, {"op": "stop"})
    except (OSError, EngineError, ValueError):
        pass
    _wait_gone(hello.get("pid"), wait_s)
    return hello


def _wait_gone(pid: int | None, wait_s: float) -> None:
    end = time.monotonic() + wait_s
    while pid and time.monotonic() < end and _alive(pid):
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    """Whether `pid` still runs. An engine this process spawned stays a zombie until reaped, and
    `kill(pid, 0)` succeeds on a zombie: without the reap, a replaced engine looked alive for the whole wait."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:  # not our child: init reaps it
        pass
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@contextmanager
def _start_lock(path: Path):
    """One starter at a time per socket: two commands at once get one engine."""
    fd = os.open(str(path.with_suffix(".lock")), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def connect_resident(settings, bundle) -> "ResidentEngine | None":
    """A client of this user's resident engine for `bundle`, started if needed; None to run in-process."""
    try:
        path = protocol.socket_path()
        key = protocol.engine_key(settings, bundle)
        with _start_lock(path):
            hello = _hello(path)
            if hello is not None and hello.get("key") != key:
                log.info("resident engine %s runs another bundle or settings: replacing it", hello.get("pid"))
                try:
                    _request(path, {"op": "stop"})
                except (OSError, EngineError, ValueError):
                    pass
                _wait_gone(hello.get("pid"), 10.0)
                hello = None
            if hello is None:
                _spawn(settings, bundle, path, key)
                hello = _hello(path, timeout=60.0)  # a fresh engine on a busy machine: its model loads meanwhile
            if hello is None or hello.get("key") != key:
                raise EngineError("the resident engine did not answer after it started")
        return ResidentEngine(path, hello, settings=settings, bundle=bundle)
    except Exception as exc:  # any failure to reach an engine: the caller runs the model in-process
        log.warning("resident engine unavailable (%s): running the model in this process", exc)
        return None


def _hello(path: Path, timeout: float = 5.0) -> dict | None:
    try:
        return _request(path, {"op": "hello"}, timeout)
    except (FileNotFoundError, ConnectionRefusedError):
        path.unlink(missing_ok=True)  # a socket left by a killed engine: nobody answers it
        return None
    except (OSError, ValueError) as exc:
        log.info("resident engine at %s did not answer (%s)", path, exc)
        return None


def _spawn(settings, bundle, path: Path, key: str) -> None:
    job = {"settings": settings.model_dump(mode="json"), "bundle": str(Path(bundle.root).resolve()), "key": key,
           "idle_s": settings.engine.resident_idle_s, "socket": str(path)}
    logf = os.open(str(path.with_suffix(".log")), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    env = dict(os.environ, OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"))
    try:
        proc = subprocess.Popen([sys.executable, "-m", "app.llm.resident.server"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=logf, start_new_session=True, close_fds=True,
                                cwd="/", env=env)
    finally:
        os.close(logf)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(job).encode())
    proc.stdin.close()
    ready: list[bytes] = []
    reader = threading.Thread(target=lambda: ready.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(START_TIMEOUT_S)
    proc.stdout.close()
    if not ready or not ready[0].startswith(b"ready"):
        if proc.poll() is None:
            proc.kill()
        raise EngineError(f"the resident engine did not start (see {path.with_suffix('.log')})")


class ResidentEngine:
    """The bundle's model in the resident engine, behind the same interface as `LlamaEngine`."""

    def __init__(self, path: Path, hello: dict, *, settings=None, bundle=None) -> None:
        self.path = path
        self.pid = hello.get("pid")
        self.name = hello["name"]
        self.n_ctx = int(hello["n_ctx"])
        self.config = EngineConfig(n_ctx=self.n_ctx, max_tokens=int(hello["max_tokens"]))
        self.load_seconds = hello.get("load_seconds")
        self._loaded = bool(hello.get("loaded"))
        self._settings, self._bundle = settings, bundle
        self._ctl: socket.socket | None = None
        self._ctl_reader: protocol.LineReader | None = None
        self._ctl_lock = threading.Lock()
        self.resident = True

    @property
    def loaded(self) -> bool:
        return self._loaded

    @property
    def max_tokens(self) -> int:
        return self.config.max_tokens

    # -- control connection -----------------------------------------------------------
    def _call(self, msg: dict, timeout: float | None = None) -> dict:
        with self._ctl_lock:
            for attempt in (0, 1):
                try:
                    if self._ctl is None:
                        self._ctl = _connect(self.path, timeout=10.0)
                        self._ctl.settimeout(timeout)
                        self._ctl_reader = protocol.LineReader(self._ctl)
                    protocol.send(self._ctl, msg)
                    reply = self._ctl_reader.read()
                    if reply is None:
                        raise ConnectionResetError("hung up")
                    break
                except (OSError, EngineError) as exc:
                    self._drop_ctl()
                    if attempt or not self._restart():
                        raise EngineError(f"the resident engine is gone ({exc})",
                                          hint="run the command again, or set engine.resident = false") from None
        if "error" in reply:
            raise EngineError(reply["error"], hint=reply.get("hint"))
        return reply

    def _drop_ctl(self) -> None:
        if self._ctl is not None:
            self._ctl.close()
        self._ctl = self._ctl_reader = None

    def _restart(self) -> bool:
        """The engine died between requests (killed, idle exit): start a fresh one once."""
        if self._settings is None or self._bundle is None:
            return False
        fresh = connect_resident(self._settings, self._bundle)
        if fresh is None:
            return False
        self.pid, self._loaded = fresh.pid, fresh._loaded
        return True

    def load(self) -> "ResidentEngine":
        reply = self._call({"op": "load"})
        self.load_seconds = reply.get("load_seconds")
        self._loaded = True
        return self

    def count_tokens(self, text: str) -> int:
        return self._call({"op": "count", "texts": [text]})["counts"][0]

    def fit(self, messages: list[dict], max_tokens: int) -> Budget:
        return fit_messages(messages, count=self.count_tokens, n_ctx=self.n_ctx, reserve=max_tokens)

    def close(self) -> None:
        """Closes this client's connection; the engine stays for the next command."""
        with self._ctl_lock:
            self._drop_ctl()

    # -- generation ------------------------------------------------------------------
    def chat(self, messages: list[dict], *, max_tokens: int | None = None, temperature: float | None = None,
             json_schema: dict | None = None, cancel: threading.Event | None = None) -> Generation:
        cancel = cancel or threading.Event()
        stats = GenStats()
        budget = self.fit(messages, max_tokens or self.config.max_tokens)  # known before the first piece, as in-process
        stats.prompt_tokens, stats.dropped_messages, stats.context_used = budget.prompt_tokens, budget.dropped, budget.used_fraction
        req = {"op": "chat", "messages": messages, "max_tokens": max_tokens, "temperature": temperature,
               "json_schema": json_schema}
        # The server's Generation already ran the loop guard; a second one here would hold text back twice.
        return Generation(self._stream(req, stats, cancel), stats, cancel, loop_guard=False)

    def _open_chat(self, req: dict) -> socket.socket:
        for attempt in (0, 1):
            try:
                s = _connect(self.path, timeout=10.0)
                protocol.send(s, req)
                return s
            except (OSError, EngineError) as exc:
                if attempt or not self._restart():
                    raise EngineError(f"the resident engine is gone ({exc})",
                                      hint="run the command again, or set engine.resident = false") from None
        raise AssertionError("unreachable")

    def _stream(self, req: dict, stats: GenStats, cancel: threading.Event) -> Iterator[str]:
        t0 = time.perf_counter()
        s = self._open_chat(req)
        s.settimeout(0.1)  # wake up to notice a cancel while the model is still reading the prompt
        reader = protocol.LineReader(s)
        sent_cancel = False
        try:
            while True:
                if cancel.is_set() and not sent_cancel:
                    protocol.send(s, {"op": "cancel"})
                    sent_cancel = True
                try:
                    msg = reader.read()
                except socket.timeout:
                    continue
                except OSError:
                    msg = None
                if msg is None:
                    raise EngineError("the resident engine stopped in the middle of the answer",
                                      hint="ask again: the next command starts a fresh engine")
                if "error" in msg:
                    raise EngineError(msg["error"], hint=msg.get("hint"))
                if "piece" in msg:
                    if stats.ttft_s is None:
                        stats.ttft_s = time.perf_counter() - t0  # as this process saw it, socket included
                    yield msg["piece"]
                    continue
                if msg.get("done"):
                    theirs = msg.get("stats") or {}
                    own_ttft = stats.ttft_s
                    for f in fields(GenStats):
                        if f.name in theirs and f.name != "warnings":
                            setattr(stats, f.name, theirs[f.name])
                    stats.ttft_s = own_ttft if own_ttft is not None else stats.ttft_s
                    stats.total_s = time.perf_counter() - t0
                    return
        finally:
            s.close()  # a consumer that stops early hangs up: the server cancels

    def chat_json(self, messages: list[dict], schema: dict, **kw: Any) -> Any:
        return self.chat(messages, json_schema=schema, **kw).result_json()
