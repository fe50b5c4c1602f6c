"""`bastion bundle create`: the real SmolLM2 GGUF becomes a sealed bundle that answers; bad files are refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from app import paths
from app.bundle import load_bundle, verify_bundle
from tests.bundle_create.conftest import make_ollama_store, write_gguf
from tests.bundle_create.test_chat_template import ESCAPE

pytestmark = pytest.mark.slow


def bastion(*args: str, env_home=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "BASTION_HOME": str(env_home or paths.home())}
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env, timeout=600)


def test_create_from_gguf_answers_ask(home_with_starter, smollm2_gguf):
    from app.bundle.create import ModelSource, create_bundle

    msgs: list[str] = []
    out = create_bundle("smol", ModelSource(gguf=smollm2_gguf, kind="file", ref=str(smollm2_gguf)), progress=msgs.append)
    assert out == paths.bundles_dir() / "smol"
    assert verify_bundle(out) == []
    b = load_bundle(out)
    m = b.manifest
    assert m.llm == "llm.gguf" and m.embedder is not None and m.index == "index"
    assert "<|im_end|>" in m.chat.stop
    assert 512 <= m.context_length <= 8192
    assert m.metrics["llm.family"] == "smollm"
    from app.prompts import SAMPLING_PRESETS, load_prompts

    assert dict(load_prompts(b.prompts_path).sampling) == SAMPLING_PRESETS["small"]
    assert m.metrics["smoke.tokens_per_s"] > 0 and m.metrics["smoke.ttft_s"] > 0
    assert m.metrics["llm.link"] in ("hardlink", "copy")
    assert (out / "llm.gguf").stat().st_size == smollm2_gguf.stat().st_size
    assert {c.kind for c in m.components} >= {"llm", "embedder", "index", "prompts"}

    # `bundle use` switches what `ask` answers with; `bundle list` shows both.
    r = bastion("bundle", "use", "smol")
    assert r.returncode == 0, r.stderr
    r = bastion("ask", "--json", "--max-tokens", "24", "What is SQL injection?")
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert answer["answer"].strip() and answer["bundle"].endswith("/smol")
    r = bastion("bundle", "list", "--json")
    rows = {row["name"]: row for row in json.loads(r.stdout)}
    assert rows["smol"]["active"] and not rows["starter"]["active"]
    assert rows["smol"]["tokens_per_s"] > 0 and rows["smol"]["fit"]
    # --bundle NAME overrides the setting for one run.
    r = bastion("--bundle", "starter", "ask", "--json", "--no-rag", "--max-tokens", "8", "hi")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["bundle"].endswith("/starter")
    # serve: the bundle in use answers by default, every other bundle is listed and routed by name.
    from app.serve.server import build_state
    from app.settings import load_settings

    state = build_state(load_settings(), load=False)
    try:
        assert state.model_id == "smol" and list(state.others) == ["starter"]
        assert state.route("starter").model_id == "starter" and state.route("smol") is state
    finally:
        state.close()
    # The one in use cannot be removed; another can.
    r = bastion("bundle", "remove", "smol")
    assert r.returncode == 1 and "in use" in r.stderr


def test_create_from_ollama_store(home_with_starter, smollm2_gguf, tmp_path):
    store = make_ollama_store(tmp_path / "ollama", smollm2_gguf)
    r = bastion("bundle", "create", "from-ollama", "--from-ollama", "smollm2:135m", "--ollama-dir", str(store), "--json")
    assert r.returncode == 0, r.stderr
    row = json.loads(r.stdout)
    assert row["name"] == "from-ollama" and row["tokens_per_s"] > 0
    m = load_bundle(paths.bundles_dir() / "from-ollama").manifest
    assert m.metrics["source.kind"] == "ollama" and m.metrics["source.ref"] == "smollm2:135m"


def test_hostile_files_refused_in_one_line(bastion_home, tmp_path, smollm2_gguf):
    truncated = tmp_path / "cut.gguf"
    with open(smollm2_gguf, "rb") as src, open(truncated, "wb") as dst:
        dst.write(src.read(smollm2_gguf.stat().st_size // 2))
    bad_magic = tmp_path / "magic.gguf"
    bad_magic.write_bytes(b"NOPE" + os.urandom(2048))
    hostile = write_gguf(tmp_path / "hostile.gguf", template=ESCAPE)
    for path, words in ((truncated, "truncated"), (bad_magic, "bad magic"), (hostile, "Python internals")):
        r = bastion("bundle", "create", "bad", "--llm", str(path))
        assert r.returncode == 1, r.stderr
        errors = [line for line in r.stderr.splitlines() if line.startswith("Error: ")]
        assert len(errors) == 1 and words in errors[0], r.stderr
        assert "Traceback" not in r.stderr
    assert not (paths.bundles_dir() / "bad").exists()
    assert not paths.bundles_dir().exists() or not any(p.name.startswith(".bad") for p in paths.bundles_dir().iterdir())
