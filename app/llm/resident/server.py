"""The resident engine process: `python -m app.llm.resident.server`, started by the client.

It reads its job (settings, bundle directory, engine key, idle timeout) as one JSON object on
stdin, starts loading the model, and serves the socket from `protocol.socket_path()` until it
has been idle `idle_s` seconds or is told to stop. It never listens on the network.

Requests, one JSON line each; answers likewise:
  hello  -> key, pid, name, n_ctx, max_tokens, loaded, load_seconds
  load   -> loaded, load_seconds (waits for the model)
  count  {texts}                              -> counts
  chat   {messages, max_tokens, temperature, json_schema}
         -> {piece} ... then {done, stats}; a line from the client meanwhile (or its hang-up)
            cancels, and decoding stops at the next token
  stop   -> {ok}; the process exits
Errors come back as {error, hint}.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

from app.errors import BastionError, EngineError
from app.llm.resident import protocol

log = logging.getLogger("bastion.engine")


class EngineServer:
    def __init__(self, engine, *, key: str, idle_s: float, path: Path) -> None:
        self.engine = engine
        self.key = key
        self.idle_s = idle_s
        self.path = path
        self.last_active = time.monotonic()
        self.active = 0
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self.load_error: Exception | None = None
        self.loaded = threading.Event()
        self._sock: socket.socket | None = None
        self._inode: int | None = None

    # -- lifecycle -----------------------------------------------------------------
    def load_in_background(self) -> None:
        def run() -> None:
            try:
                self.engine.load()
            except Exception as exc:  # reported to every client that asks for the model
                self.load_error = exc
            finally:
                self.loaded.set()
        threading.Thread(target=run, name="engine-load", daemon=True).start()

    def bind(self) -> None:
        """Create the socket 0600 under a temporary name and move it into place (never half-made)."""
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        tmp.unlink(missing_ok=True)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            s.bind(str(tmp))
        finally:
            os.umask(old)
        os.chmod(tmp, 0o600)
        s.listen(socket.SOMAXCONN)  # a burst of clients waits in the queue instead of failing
        os.replace(tmp, self.path)
        self._inode = self.path.stat().st_ino
        s.settimeout(0.5)
        self._sock = s

    def serve(self) -> None:
        assert self._sock is not None
        try:
            while not self.stopping.is_set():
                try:
                    conn, _ = self._sock.accept()
                except socket.timeout:
                    with self._lock:
                        idle = self.active == 0 and time.monotonic() - self.last_active > self.idle_s
                    if idle:
                        log.info("idle for %.0fs: exiting", self.idle_s)
                        break
                    continue
                uid = protocol.peer_uid(conn)
                if uid is not None and uid != os.getuid():
                    log.warning("refused a connection from uid %s", uid)
                    conn.close()
                    continue
                threading.Thread(target=self._handle, args=(conn,), daemon=True).start()
        finally:
            self.close()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        try:  # only our own socket: a newer engine may already have taken the name
            if self._inode is not None and self.path.stat().st_ino == self._inode:
                self.path.unlink()
        except FileNotFoundError:
            pass

    # -- one connection ------------------------------------------------------------
    def _handle(self, conn: socket.socket) -> None:
        with self._lock:
            self.active += 1
        reader = protocol.LineReader(conn)
        try:
            while True:
                try:
                    req = reader.read()
                except (ValueError, RecursionError, EngineError) as exc:  # not JSON, too deep, too long: refuse, hang up
                    protocol.send(conn, {"error": f"bad request ({type(exc).__name__}: {str(exc)[:100]})",
                                         "hint": "one JSON object per line"})
                    return
                if req is None:
                    return
                self._touch()
                if not isinstance(req, dict):
                    protocol.send(conn, {"error": "bad request (not a JSON object)", "hint": "one JSON object per line"})
                    return
                op = req.get("op")
                if op == "chat":  # one chat per connection: the watcher owns the read side from here
                    self._chat(conn, reader, req)
                    return
                else:
                    try:
                        reply = self._answer(op, req)
                    except Exception as exc:  # wrong types in a request (texts not strings ...)
                        reply = {"error": f"bad request ({type(exc).__name__}: {str(exc)[:100]})", "hint": None}
                    protocol.send(conn, reply)
                    if op == "stop":
                        self.stopping.set()
                        return
        except (BrokenPipeError, ConnectionResetError, OSError, ValueError) as exc:
            log.info("client gone (%s)", exc)
        except Exception:  # a bad request must never take the engine down: log it, drop this connection
            log.exception("request failed")
        finally:
            conn.close()
            with self._lock:
                self.active -= 1
                self.last_active = time.monotonic()

    def _touch(self) -> None:
        with self._lock:
            self.last_active = time.monotonic()

    def _answer(self, op: str | None, req: dict) -> dict:
        eng = self.engine
        if op == "hello":
            return {"key": self.key, "pid": os.getpid(), "version": protocol.VERSION, "name": eng.name,
                    "n_ctx": eng.n_ctx, "max_tokens": eng.config.max_tokens, "loaded": eng.loaded,
                    "load_seconds": eng.load_seconds, "idle_s": self.idle_s}
        if op == "stop":
            return {"ok": True}
        err = self._model_error()
        if err:
            return err
        if op == "load":
            return {"loaded": True, "load_seconds": eng.load_seconds}
        if op == "count":
            return {"counts": [eng.count_tokens(t) for t in req.get("texts", [])]}
        return {"error": f"unknown request {op!r}", "hint": "client and engine versions differ: `bastion engine stop`"}

    def _model_error(self) -> dict | None:
        self.loaded.wait()
        if self.load_error is not None:
            from app.errors import BastionError

            e = self.load_error
            return {"error": str(e), "hint": e.hint if isinstance(e, BastionError) else None}
        return None

    def _chat(self, conn: socket.socket, reader: protocol.LineReader, req: dict) -> None:
        err = self._model_error()
        if err:
            protocol.send(conn, err)
            return
        cancel = threading.Event()

        def watch() -> None:  # any line from the client, or its hang-up, cancels
            try:
                reader.read()
            except Exception:
                pass
            cancel.set()
        threading.Thread(target=watch, daemon=True).start()
        try:
            chat = protocol.ChatRequest.parse(req)
            gen = self.engine.chat([m.model_dump() for m in chat.messages], max_tokens=chat.max_tokens,
                                   temperature=chat.temperature, json_schema=chat.json_schema, cancel=cancel)
        except Exception as exc:
            protocol.send(conn, {"error": str(exc), "hint": exc.hint if isinstance(exc, BastionError) else None})
            return
        gone = False
        try:
            for piece in gen:
                if gone:
                    continue  # draining: the cancelled engine stops at its next token and frees its lock
                try:
                    protocol.send(conn, {"piece": piece})
                except OSError:
                    gone = True
                    cancel.set()
                self._touch()
        except Exception as exc:  # e.g. messages the chat template cannot render: this request fails, not the engine
            if not gone:
                protocol.send(conn, {"error": str(exc)[:300], "hint": exc.hint if isinstance(exc, BastionError) else None})
            return
        if not gone:
            protocol.send(conn, {"done": True, "stats": asdict(gen.stats)})


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    job = json.loads(sys.stdin.read())
    from app.bundle import load_bundle
    from app.bundle.signing import TrustPolicy
    from app.runtime import make_local_engine
    from app.settings import Settings

    settings = Settings(**job["settings"])
    bundle = load_bundle(Path(job["bundle"]), verify=True, trust=TrustPolicy.from_settings(settings))
    engine = make_local_engine(settings, bundle, prompt_cache="ram")
    server = EngineServer(engine, key=job["key"], idle_s=float(job["idle_s"]), path=Path(job["socket"]))
    server.bind()
    # "ready" goes out before the model loads: llama-cpp-python points fd 1 at /dev/null while it
    # loads, so a line printed meanwhile was lost and the client waited for the idle exit (the
    # intermittent first-hello failure of session 5). fd 1 then goes to /dev/null for good so the
    # pipe closes.
    print("ready", flush=True)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    server.load_in_background()
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
