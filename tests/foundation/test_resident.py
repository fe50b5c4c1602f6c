"""The resident engine through its socket: same text as in-process, cancel, kill -9 of either end,
bundle/settings change, and other users refused. Real SmolLM2 (the starter bundle's model).

Every test stops its engine (and kills the pid if it lingers); the idle timeout is short as well.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from app.errors import EngineError

MSG = [{"role": "user", "content": "Name one way to prevent SQL injection."}]
N = 24


@pytest.fixture
def resident(monkeypatch, starter_bundle):
    """Settings with the resident engine on, a short private runtime dir, and a guaranteed stop."""
    run = tempfile.mkdtemp(prefix="bre-", dir="/tmp")  # short: AF_UNIX paths are capped at 107 bytes
    monkeypatch.setenv("XDG_RUNTIME_DIR", run)
    monkeypatch.setenv("BASTION_ENGINE__RESIDENT", "true")
    monkeypatch.setenv("BASTION_ENGINE__RESIDENT_IDLE_S", "60")
    from app.llm.resident.client import engine_status, stop_engine
    from app.runtime import open_bundle
    from app.settings import load_settings

    settings = load_settings(bundle=starter_bundle)
    yield settings, open_bundle(settings)
    hello = engine_status()
    stop_engine()
    if hello:
        try:
            os.kill(hello["pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass


def _client(settings, bundle):
    from app.llm.resident.client import ResidentEngine
    from app.runtime import make_engine

    eng = make_engine(settings, bundle)
    assert isinstance(eng, ResidentEngine), "the resident engine did not start (see the .log next to its socket)"
    return eng


def _in_process_text(settings, bundle) -> str:
    from app.runtime import make_local_engine

    eng = make_local_engine(settings, bundle, prompt_cache="off")
    try:
        return eng.chat(MSG, max_tokens=N).result()
    finally:
        eng.close()


def test_socket_stream_equals_in_process_and_cancel_works(resident):
    settings, bundle = resident
    expected = _in_process_text(settings, bundle)
    eng = _client(settings, bundle)
    gen = eng.chat(MSG, max_tokens=N)
    pieces = list(gen)
    assert len(pieces) > 1 and "".join(pieces) == expected == gen.text
    assert gen.stats.completion_tokens > 0 and gen.stats.ttft_s is not None
    assert eng.count_tokens("SELECT * FROM users") > 0
    from app.llm.resident.protocol import socket_path

    p = socket_path()
    assert oct(p.stat().st_mode & 0o777) == "0o600" and oct(p.parent.stat().st_mode & 0o777) == "0o700"

    gen = eng.chat(MSG, max_tokens=200)
    it = iter(gen)
    next(it)
    gen.cancel()
    rest = list(it)
    assert gen.stats.finish_reason == "cancelled" and len(rest) < 50
    assert eng.chat(MSG, max_tokens=N).result() == expected  # the engine is free again


def test_engine_killed_mid_stream_then_next_command_works(resident):
    settings, bundle = resident
    eng = _client(settings, bundle)
    expected = eng.chat(MSG, max_tokens=N).result()
    gen = eng.chat(MSG, max_tokens=200)
    it = iter(gen)
    next(it)
    os.kill(eng.pid, signal.SIGKILL)
    with pytest.raises(EngineError, match="stopped in the middle"):
        list(it)
    eng2 = _client(settings, bundle)  # stale socket found, a fresh engine started
    assert eng2.pid != eng.pid
    assert eng2.chat(MSG, max_tokens=N).result() == expected


CLIENT = """
import os, sys
os.environ["BASTION_ENGINE__RESIDENT"] = "true"
from app.runtime import make_engine, open_bundle
from app.settings import load_settings
s = load_settings(bundle=sys.argv[1])
eng = make_engine(s, open_bundle(s))
assert type(eng).__name__ == "ResidentEngine"
for piece in eng.chat([{"role": "user", "content": "Write a long essay about web security."}], max_tokens=400):
    print("piece", flush=True)
    break
import time; time.sleep(60)
"""


def test_client_killed_mid_stream_leaves_engine_usable(resident, starter_bundle):
    settings, bundle = resident
    eng = _client(settings, bundle)
    expected = eng.chat(MSG, max_tokens=N).result()
    child = subprocess.Popen([sys.executable, "-c", CLIENT, str(starter_bundle)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "piece"
    finally:
        child.kill()  # SIGKILL, mid-stream
        child.wait()
    assert eng.chat(MSG, max_tokens=N).result() == expected  # the generation lock was released
    assert _client(settings, bundle).pid == eng.pid  # same engine, not a restart


def test_changed_settings_replace_the_engine(resident, monkeypatch):
    settings, bundle = resident
    first = _client(settings, bundle)
    from app.settings import load_settings

    monkeypatch.setenv("BASTION_ENGINE__N_CTX", "2048")
    other = load_settings(bundle=bundle.root)
    second = _client(other, bundle)
    assert second.pid != first.pid and second.n_ctx == 2048
    with pytest.raises(ProcessLookupError):
        for _ in range(100):
            os.kill(first.pid, 0)
            time.sleep(0.05)


def _as_nobody(fn) -> int:
    """Run `fn` in a forked child as uid/gid 65534; its exit status."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            os._exit(fn())
        except BaseException:
            os._exit(99)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to act as a second user (setuid)")
def test_other_user_cannot_connect(resident):
    import socket

    settings, bundle = resident
    eng = _client(settings, bundle)
    from app.llm.resident.protocol import socket_path

    path = str(socket_path())

    def connect() -> int:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(path)
        except PermissionError:
            return 10  # the 0700 directory / 0600 socket stopped it
        try:
            s.sendall(b'{"op": "hello"}\n')
            data = s.recv(1000)
        except OSError:  # a broken pipe or a reset: the engine hung up before (or while) it was asked
            data = b""
        return 20 if not data else 30  # 20: the engine hung up on it (SO_PEERCRED); 30: it was served

    assert _as_nobody(connect) == 10
    # Permissions loosened by mistake: the peer-credential check still refuses the other uid.
    d = os.path.dirname(path)
    run = os.path.dirname(d)  # the test's own XDG_RUNTIME_DIR (mkdtemp, 0700) must let the other user through too
    os.chmod(run, 0o755)
    os.chmod(d, 0o755)
    os.chmod(path, 0o666)
    try:
        assert _as_nobody(connect) == 20
    finally:
        os.chmod(path, 0o600)
        os.chmod(d, 0o700)
        os.chmod(run, 0o700)
    assert eng.count_tokens("still serving its owner") > 0
