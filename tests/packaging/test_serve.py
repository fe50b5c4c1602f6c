"""Team mode: `bastion serve` driven by the official `openai` client, and RemoteEngine against it."""

from __future__ import annotations

import base64
import json
import os
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

from app.errors import ConfigError, EngineError
from app.llm.remote import RemoteEngine, _sse_events
from app.serve.server import BackgroundServer, build_state, check_bind, is_loopback

pytestmark = pytest.mark.slow  # real SmolLM2 + MiniLM through llama.cpp behind a real HTTP server

KEY = "test-key-0123456789abcdef"
Q = [{"role": "user", "content": "What is SQL injection? Answer in one sentence."}]


@pytest.fixture(scope="module")
def state(starter_bundle, tmp_path_factory):
    from app.settings import load_settings

    old = os.environ.get("BASTION_HOME")
    os.environ["BASTION_HOME"] = str(tmp_path_factory.mktemp("serve-home"))
    try:
        st = build_state(load_settings(bundle=starter_bundle, engine={"temperature": 0.0, "max_tokens": 48},
                                       retrieval={"k": 2}))
    finally:
        if old is None:
            os.environ.pop("BASTION_HOME", None)
        else:
            os.environ["BASTION_HOME"] = old
    yield st
    st.close()


@pytest.fixture(scope="module")
def server(state):
    srv = BackgroundServer(state).start()
    yield srv
    srv.stop()


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server.url, api_key="unused-on-loopback", max_retries=0, timeout=120)


def test_models(client, state):
    ids = [m.id for m in client.models.list()]
    assert ids == [state.model_id, state.embedder_id]


def test_chat_non_stream_with_citations_field(client, state):
    r = client.chat.completions.create(model=state.model_id, messages=Q, max_tokens=24, temperature=0)
    assert r.object == "chat.completion" and r.choices[0].message.role == "assistant"
    assert len(r.choices[0].message.content.strip()) > 5
    assert r.choices[0].finish_reason in ("stop", "length")
    assert 0 < r.usage.completion_tokens <= 24 and r.usage.prompt_tokens > 5
    cites, given = r.model_extra["citations"], r.model_extra["sources"]
    assert isinstance(cites, list) and isinstance(given, list)
    assert all(c in given for c in cites)  # a citation is always one of the numbered sources
    if state.rag.enabled:  # the starter bundle indexes the security notes: the SQL injection note is given
        assert given and [s["n"] for s in given] == list(range(1, len(given) + 1))
        assert any("sql-injection" in s["path"] or "cwe-089" in s["path"] for s in given), given
        assert r.usage.prompt_tokens > 100  # the sources were put in front of the model
        plain = client.chat.completions.create(model="default", messages=Q, max_tokens=4, extra_body={"rag": False})
        assert plain.model_extra["sources"] == [] and plain.usage.prompt_tokens < r.usage.prompt_tokens


def test_citations_map_to_the_numbered_sources():
    from app.knowledge import Hit
    from app.knowledge import GroundedChat
    from app.serve.rag import KnowledgeRag

    hits = [Hit(id=str(i), text="t", source=f"notes/{i}.md", heading=f"H{i}", start_line=1, end_line=4, score=0.5)
            for i in (1, 2, 3)]
    rag = KnowledgeRag(GroundedChat(engine=None, system="s", k=3))  # citations need no engine
    cites = rag.citations("Use parameterised queries [2]. Escape output as well [3][9].", hits)
    assert [(c["n"], c["path"]) for c in cites] == [(2, "notes/2.md"), (3, "notes/3.md")]
    assert [s["n"] for s in rag.sources(hits)] == [1, 2, 3] and rag.sources(hits)[0]["lines"] == "1-4"


def _stream(client, max_tokens: int, **kw):
    pieces, finals, usage = [], [], None
    for ch in client.chat.completions.create(model="default", messages=Q, max_tokens=max_tokens, temperature=0,
                                             stream=True, stream_options={"include_usage": True}, **kw):
        if ch.choices and ch.choices[0].delta.content:
            pieces.append(ch.choices[0].delta.content)
        if ch.model_extra and "citations" in ch.model_extra:
            finals.append(ch.model_extra)
        usage = ch.usage or usage
    return pieces, finals, usage


def test_chat_stream_matches_non_stream(client):
    plain = {"extra_body": {"rag": False}}  # a short prompt: greedy decoding is reproducible
    full = client.chat.completions.create(model="default", messages=Q, max_tokens=20, temperature=0, **plain)
    pieces, finals, usage = _stream(client, 20, **plain)
    assert len(pieces) > 3
    assert "".join(pieces) == full.choices[0].message.content  # greedy: same text either way
    assert len(finals) == 1 and finals[0]["citations"] == [] and finals[0]["sources"] == []
    assert usage is not None and usage.completion_tokens >= len(pieces)  # the loop guard may join held-back tokens


def test_chat_stream_with_rag_ends_with_sources(client, state):
    pieces, finals, _ = _stream(client, 8)
    assert pieces and len(finals) == 1
    assert all(c in finals[0]["sources"] for c in finals[0]["citations"])
    assert bool(finals[0]["sources"]) == state.rag.enabled


def test_json_schema_response_format(client):
    schema = {"type": "object", "properties": {"label": {"type": "string", "enum": ["safe", "unsafe"]}},
              "required": ["label"], "additionalProperties": False}
    r = client.chat.completions.create(
        model="default", max_tokens=30, temperature=0,
        messages=[{"role": "user", "content": "Is eval(input()) safe? Answer as JSON."}],
        response_format={"type": "json_schema", "json_schema": {"name": "verdict", "schema": schema, "strict": True}},
    )
    assert json.loads(r.choices[0].message.content)["label"] in ("safe", "unsafe")


def test_embeddings_float_and_base64_match_local_embedder(client, state):
    texts = ["SQL injection in a login form", "buffer overflow"]
    local = state.embedder.embed(texts)
    as_float = client.embeddings.create(model=state.embedder_id, input=texts, encoding_format="float")
    as_b64 = client.embeddings.create(model=state.embedder_id, input=texts)  # the client's default is base64
    assert [d.index for d in as_float.data] == [0, 1]
    for i in range(2):
        assert len(as_float.data[i].embedding) == 384
        assert as_float.data[i].embedding == pytest.approx(local[i], abs=1e-6)
        assert as_b64.data[i].embedding == pytest.approx(local[i], abs=1e-6)
    assert as_float.usage.prompt_tokens > 4


def test_bad_requests_are_openai_errors(client, server):
    with pytest.raises(openai.NotFoundError, match="not served here"):
        client.chat.completions.create(model="gpt-4o", messages=Q)
    with pytest.raises(openai.BadRequestError, match="messages"):
        client.chat.completions.create(model="default", messages=[])
    r = httpx.post(f"{server.url}/embeddings", json={"input": ""}, timeout=30)
    assert r.status_code == 400 and "non-empty" in r.json()["error"]["message"]


def test_concurrent_requests_are_serialised_and_identical(client, state):
    served = state.chat_worker.served

    def one(_):
        return client.chat.completions.create(model="default", messages=Q, max_tokens=16, temperature=0,
                                              extra_body={"rag": False}).choices[0].message.content

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(one, range(4)))
    assert len(set(answers)) == 1, answers  # one llama.cpp context, never used from two threads at once
    assert state.chat_worker.served - served == 4


def test_full_queue_answers_429(server, state):
    gate = threading.Event()
    old = state.chat_worker.max_pending
    state.chat_worker.max_pending = 1
    running = waiting = None
    try:
        running = state.chat_worker.submit(gate.wait)  # occupies the engine thread
        while state.chat_worker.queued:  # until the engine thread has taken it
            time.sleep(0.01)
        waiting = state.chat_worker.submit(lambda: None)  # fills the one queue slot
        for stream in (False, True):
            r = httpx.post(f"{server.url}/chat/completions", json={"messages": Q, "stream": stream}, timeout=30)
            assert r.status_code == 429 and r.json()["error"]["code"] == "queue_full"
    finally:
        gate.set()
        for fut in (running, waiting):
            if fut is not None:
                fut.result(timeout=30)
        state.chat_worker.max_pending = old


def test_client_disconnect_stops_decoding(server, state, monkeypatch):
    seen = []
    real_chat = state.engine.chat

    def spy(*args, **kw):  # the real engine; only remembers the Generation it returns
        gen = real_chat(*args, **kw)
        seen.append(gen)
        return gen

    monkeypatch.setattr(state.engine, "chat", spy)
    body = {"messages": [{"role": "user", "content": "Write a long essay on web security with many sections."}],
            "max_tokens": 400, "temperature": 0, "stream": True, "rag": False}
    with httpx.stream("POST", f"{server.url}/chat/completions", json=body, timeout=120) as r:
        events = 0
        for line in r.iter_lines():
            events += line.startswith("data:")
            if events == 4:
                break  # the client goes away mid-answer
    state.chat_worker.submit(lambda: None).result(timeout=300)  # runs once the engine thread is free
    assert seen and seen[-1].stats.cancelled, "decoding went on after the client left"
    assert seen[-1].stats.completion_tokens < 400


def test_api_key_required_and_checked(state):
    srv = BackgroundServer(_with_key(state)).start()
    try:
        anon = openai.OpenAI(base_url=srv.url, api_key="wrong-key", max_retries=0)
        with pytest.raises(openai.AuthenticationError, match="API key"):
            anon.models.list()
        ok = openai.OpenAI(base_url=srv.url, api_key=KEY, max_retries=0)
        assert ok.models.list().data[0].id == state.model_id
        assert httpx.get(srv.url.replace("/v1", "/health")).status_code == 200  # health needs no key
        with pytest.raises(EngineError, match="refused the API key"):
            RemoteEngine(srv.url, api_key="nope").chat(Q, max_tokens=4).result()
    finally:
        srv.stop()


def _with_key(state):
    from app.serve.api import ServeState

    return ServeState(engine=state.engine, model_id=state.model_id, embedder=state.embedder,
                      embedder_id=state.embedder_id, api_key=KEY)


def test_bind_rules():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.8.0.1")
    assert not is_loopback("0.0.0.0") and not is_loopback("") and not is_loopback("10.0.0.5")
    check_bind("127.0.0.1", None)
    with pytest.raises(ConfigError, match="without an API key"):
        check_bind("0.0.0.0", None)
    with pytest.raises(ConfigError, match="shorter"):
        check_bind("0.0.0.0", "short")
    check_bind("0.0.0.0", KEY)


def test_cli_refuses_public_bind_without_key(tmp_path):
    env = {**os.environ, "BASTION_HOME": str(tmp_path)}
    env.pop("BASTION_SERVE_API_KEY", None)
    p = subprocess.run([sys.executable, "-m", "app", "serve", "--host", "0.0.0.0", "--port", "1"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 1
    assert "refusing to serve on '0.0.0.0' without an API key" in p.stderr and "--api-key" in p.stderr


# -- RemoteEngine against bastion serve ------------------------------------------------


def test_remote_engine_streams_and_measures(server):
    eng = RemoteEngine(server.url, model="default", temperature=0.0, max_tokens=20)
    gen = eng.chat(Q)
    pieces = list(gen)
    assert len(pieces) > 3 and gen.text == "".join(pieces)
    assert gen.stats.ttft_s is not None and gen.stats.tokens_per_s > 0
    assert gen.stats.finish_reason in ("stop", "length")
    assert gen.extra.get("citations") == [] and gen.extra.get("sources") == []  # the app does its own RAG
    assert eng.count_tokens("abcdefgh") == 2  # approximation: 4 characters per token


def test_remote_engine_json_and_cancel(server):
    eng = RemoteEngine(server.url + "/", temperature=0.0)  # trailing slash and /v1 are normalised
    schema = {"type": "object", "properties": {"cwe": {"type": "integer"}}, "required": ["cwe"]}
    out = eng.chat_json([{"role": "user", "content": "Which CWE id is SQL injection? JSON."}], schema, max_tokens=20)
    assert isinstance(out["cwe"], int)
    cancel = threading.Event()
    gen = eng.chat(Q, max_tokens=200, cancel=cancel)
    got = []
    for piece in gen:
        got.append(piece)
        if len(got) == 3:
            cancel.set()
    assert len(got) == 3 and gen.stats.cancelled and gen.stats.finish_reason == "cancelled"
    assert eng.chat(Q, max_tokens=4).result()  # the server is free again after the cancel


def test_remote_engine_unreachable_and_bad_url():
    with pytest.raises(EngineError, match="unreachable"):
        RemoteEngine("http://127.0.0.1:9/v1").chat(Q, max_tokens=4).result()
    with pytest.raises(EngineError, match="not an http"):
        RemoteEngine("ftp://x")


def test_settings_remote_engine_answers_bastion_ask(server, tmp_path):
    from app.ask import run_ask
    from app.settings import load_settings

    s = load_settings(bundle=tmp_path / "no-bundle-here",
                      engine={"kind": "remote", "remote_url": server.url, "temperature": 0.0, "max_tokens": 12})
    out = run_ask("What is XSS?", settings=s).as_json()
    assert out["answer"].strip() and "@ 127.0.0.1" in out["model"] and out["bundle"] is None


def test_sse_parser():
    lines = [": keep-alive", "data: {\"a\":", "data: 1}", "", "event: x", "data:[DONE]", ""]
    assert list(_sse_events(iter(lines))) == ['{"a":\n1}', "[DONE]"]


def test_base64_layout_is_little_endian_float32():
    from app.serve.api import _encode

    raw = base64.b64decode(_encode([1.0, -2.5], "base64"))
    assert struct.unpack("<2f", raw) == (1.0, -2.5)
