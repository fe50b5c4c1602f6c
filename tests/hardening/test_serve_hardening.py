"""`bastion serve` against hostile clients: Host/Origin, sizes, bad Unicode, keys, disconnects, logs, paths."""

from __future__ import annotations

import logging
import threading
import time

import httpx
import pytest

pytest.importorskip("fastapi")

from app.errors import ConfigError  # noqa: E402
from app.llm.engine import Generation, GenStats  # noqa: E402
from app.serve.api import ServeState, make_api  # noqa: E402
from app.serve.guard import ServeLimits, allowed_hosts_for, host_of  # noqa: E402
from app.serve.rag import kb_roots, public_path  # noqa: E402
from app.serve.server import BackgroundServer, check_bind, read_key_file  # noqa: E402

KEY = "k3y-0123456789abcdef"


class SlowEngine:
    """Stands in for llama.cpp where the model is not what is tested: one piece every 50 ms, honours cancel."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self.pieces = 0

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1

    def chat(self, messages, *, max_tokens=None, temperature=None, json_schema=None, cancel=None):
        cancel = cancel or threading.Event()
        stats = GenStats()

        def pieces():
            for i in range(max_tokens or 40):
                if cancel.is_set():
                    self.cancelled.set()
                    stats.finish_reason = "cancelled"
                    return
                time.sleep(0.05)
                self.pieces += 1
                yield f"w{i} "
            stats.finish_reason = "length"

        return Generation(pieces(), stats, cancel, loop_guard=False)


class FakeEmbedder:
    fingerprint = "f" * 64

    def count_tokens(self, text):
        return len(text.split())

    def embed(self, texts):
        return [[0.0, 1.0] for _ in texts]


@pytest.fixture
def state():
    st = ServeState(engine=SlowEngine(), model_id="tiny", embedder=FakeEmbedder(), embedder_id="tiny-embedder",
                    limits=ServeLimits(max_body_bytes=64 * 1024, max_messages=8, max_tokens=64, max_embedding_inputs=4,
                                       max_embedding_chars=1000))
    yield st
    st.close()


@pytest.fixture
def client(state):
    transport = httpx.ASGITransport(app=make_api(state))
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8088")


def chat_body(content="hi", **extra):
    return {"messages": [{"role": "user", "content": content}], "max_tokens": 2, "rag": False, **extra}


async def test_dns_rebinding_host_is_refused(client):
    r = await client.get("/v1/models", headers={"Host": "attacker.example:8088"})
    assert r.status_code == 403 and "Host" in r.json()["error"]["message"]
    for host in ("localhost:8088", "127.0.0.1", "[::1]:8088"):
        assert (await client.get("/v1/models", headers={"Host": host})).status_code == 200


async def test_cross_origin_browser_request_is_refused(client):
    r = await client.post("/v1/chat/completions", json=chat_body(), headers={"Origin": "https://attacker.example"})
    assert r.status_code == 403
    ok = await client.post("/v1/chat/completions", json=chat_body(), headers={"Origin": "http://localhost:3000"})
    assert ok.status_code == 200


def test_allowed_hosts_follow_the_bind_address():
    assert "10.0.0.5" in allowed_hosts_for("10.0.0.5")
    assert "0.0.0.0" not in allowed_hosts_for("0.0.0.0")
    assert host_of("http://[::1]:80") == "::1" and host_of("Example.COM.:1") == "example.com"


async def test_oversized_body_is_413_before_it_is_read(client):
    r = await client.post("/v1/chat/completions", content=b"{" + b" " * 100_000 + b"}",
                          headers={"Content-Type": "application/json"})
    assert r.status_code == 413


async def test_oversized_chunked_body_is_413(client):
    async def chunks():
        for _ in range(20):
            yield b" " * 8192

    r = await client.post("/v1/chat/completions", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


async def test_too_many_messages_tokens_and_inputs_are_400(client):
    many = {"messages": [{"role": "user", "content": "x"}] * 9, "rag": False}
    assert (await client.post("/v1/chat/completions", json=many)).status_code == 400
    assert (await client.post("/v1/chat/completions", json=chat_body(max_tokens=100_000))).status_code == 400
    r = await client.post("/v1/embeddings", json={"input": ["a"] * 5})
    assert r.status_code == 400 and "at most 4" in r.json()["error"]["message"]
    assert (await client.post("/v1/embeddings", json={"input": "a" * 2000})).status_code == 413


async def test_lone_surrogate_and_bad_utf8_are_400_not_500(client):
    body = b'{"messages": [{"role": "user", "content": "\\ud800 hello"}], "rag": false}'
    r = await client.post("/v1/chat/completions", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "Unicode" in r.json()["error"]["message"]
    r = await client.post("/v1/embeddings", content=b'{"input": "\\udfff"}', headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = await client.post("/v1/chat/completions", content=b'{"messages": [{"role": "user", "content": "\xff\xfe"}]}',
                          headers={"Content-Type": "application/json"})
    assert r.status_code == 400


async def test_wrong_key_is_401_and_right_key_works(state):
    state.api_key = KEY
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_api(state)), base_url="http://127.0.0.1") as c:
        assert (await c.get("/v1/models", headers={"Authorization": "Bearer " + KEY[:-1] + "X"})).status_code == 401
        assert (await c.get("/v1/models", headers={"Authorization": ("Bearer é" + KEY).encode("latin-1")})).status_code == 401
        assert (await c.get("/v1/models", headers={"Authorization": "Bearer " + KEY})).status_code == 200


def test_weak_keys_refused_and_key_read_from_file(tmp_path):
    with pytest.raises(ConfigError):
        check_bind("0.0.0.0", "aaaaaaaaaaaaaaaa")
    check_bind("0.0.0.0", KEY)
    f = tmp_path / "key"
    f.write_text(KEY + "\n")
    assert read_key_file(f) == KEY
    f.write_text("")
    with pytest.raises(ConfigError):
        read_key_file(f)


async def test_request_lines_are_logged_without_prompt_text(client, caplog):
    caplog.set_level(logging.INFO, logger="bastion.serve.access")
    await client.post("/v1/chat/completions?secret=1", json=chat_body("my secret prompt"))
    lines = [r.getMessage() for r in caplog.records if r.name == "bastion.serve.access"]
    assert lines and lines[-1].startswith("POST /v1/chat/completions 200 ")
    assert not any("secret" in line for line in lines)


def test_abandoned_non_streaming_request_stops_decoding(state):
    srv = BackgroundServer(state).start()
    try:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(srv.url + "/chat/completions", json=chat_body(max_tokens=60), timeout=0.5)
        assert state.engine.cancelled.wait(5), "decoding went on after the client left"
        assert state.engine.pieces < 40
    finally:
        srv.stop()


def test_api_paths_are_relative(tmp_path):
    class KB:
        name = "notes"

        def file_states(self):
            return {"/home/alice/secret-project/docs/a.md": 1, "/home/alice/secret-project/docs/sub/b.md": 1}

    roots = kb_roots([KB()])
    assert public_path("/home/alice/secret-project/docs/sub/b.md", roots["notes"]) == "sub/b.md"
    assert public_path("/etc/elsewhere/c.md", roots["notes"]) == "c.md"
    assert public_path("cwe/cwe-89.md", None) == "cwe/cwe-89.md"


def test_keyed_team_server_accepts_any_host_but_not_foreign_origins():
    from app.serve.guard import FrontDoor, front_door_policy

    keyless = ServeLimits()
    front_door_policy(keyless, "127.0.0.1", None, api_key=False)
    assert "*" not in keyless.allowed_hosts
    team = ServeLimits()
    front_door_policy(team, "0.0.0.0", None, api_key=True)
    door = FrontDoor(None, team)
    assert door._ok("bastion.corp.example:8088", door.allowed)
    assert not door._ok("https://attacker.example", door.origins)
    named = ServeLimits()
    front_door_policy(named, "0.0.0.0", ["bastion.corp.example"], api_key=True)
    door = FrontDoor(None, named)
    assert door._ok("bastion.corp.example", door.allowed) and not door._ok("other.example", door.allowed)
    assert door._ok("https://bastion.corp.example", door.origins)
