"""Where the resident engine listens, who may talk to it, and what goes over the wire.

The socket lives in a 0700 directory owned by the user (`$XDG_RUNTIME_DIR/bastion`, else
`/tmp/bastion-<uid>`), named for the resolved BASTION_HOME so two homes never share an
engine; it is created 0600. Both ends check the other's uid with SO_PEERCRED (Linux), so a
socket another user planted or a process of another user is refused even if permissions were
loosened. Messages are JSON objects, one per line (UTF-8), never larger than `MAX_LINE`.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import struct
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.errors import EngineError

VERSION = 1
MAX_LINE = 64 << 20
"""A request carries the whole prompt (sources included); 64 MiB is far above any context."""


def runtime_dir() -> Path:
    """The user-private directory for sockets (created 0700; refused if someone else owns it)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    root = Path(base) / "bastion" if base and Path(base).is_dir() else Path(f"/tmp/bastion-{os.getuid()}")
    try:
        root.mkdir(mode=0o700, parents=False, exist_ok=True)
    except FileNotFoundError:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = root.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise EngineError(f"{root} is not a private directory of this user (owner uid {st.st_uid}, "
                          f"mode {stat.S_IMODE(st.st_mode):o})",
                          hint=f"remove {root} or set engine.resident = false")
    return root


def socket_path() -> Path:
    """This BASTION_HOME's engine socket (short: AF_UNIX paths are limited to 107 bytes)."""
    from app.paths import home

    tag = hashlib.sha256(str(home().expanduser().resolve()).encode()).hexdigest()[:16]
    return runtime_dir() / f"engine-{tag}.sock"


def engine_key(settings, bundle) -> str:
    """What the running engine must match: bundle directory and manifest, engine settings."""
    es = settings.engine.model_dump(mode="json", exclude={"resident", "resident_idle_s", "remote_url",
                                                          "remote_model", "remote_api_key"})
    raw = json.dumps({"bundle": str(Path(bundle.root).resolve()), "manifest": bundle.manifest.model_dump(mode="json"),
                      "engine": es, "v": VERSION}, sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end (None where SO_PEERCRED is not available)."""
    opt = getattr(socket, "SO_PEERCRED", None)
    if opt is None:
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, opt, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", raw)
    return uid


def send(sock: socket.socket, msg: dict) -> None:
    sock.sendall(json.dumps(msg, ensure_ascii=False).encode("utf-8") + b"\n")


class Message(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class ChatRequest(BaseModel):
    """A chat request as the engine accepts it: the same bounds the in-process engine assumes of its callers."""

    model_config = ConfigDict(extra="ignore")
    messages: list[Message] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1, le=1 << 20)
    temperature: float | None = Field(None, ge=0.0, le=5.0, allow_inf_nan=False)
    json_schema: dict | None = None

    @classmethod
    def parse(cls, req: dict) -> "ChatRequest":
        """The request, or EngineError naming the first bad field."""
        try:
            return cls.model_validate(req)
        except ValidationError as exc:
            e = exc.errors()[0]
            where = ".".join(str(x) for x in e["loc"]) or "request"
            raise EngineError(f"bad chat request: {where}: {e['msg']}", hint="client and engine versions differ? "
                              "`bastion engine stop`") from None


class LineReader:
    """Reads newline-delimited JSON messages from a socket; None at end of stream."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def read(self) -> dict | None:
        while b"\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                return None
            self.buf += chunk
            if len(self.buf) > MAX_LINE:
                raise EngineError("resident engine message too large", hint="restart it: `bastion engine stop`")
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line.decode("utf-8"))
