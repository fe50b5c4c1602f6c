"""Shared fixtures: isolated BASTION_HOME, the real starter bundle (built once per session)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# llama.cpp's OpenMP threads spin while waiting; with the engine, the embedder and server
# subprocesses sharing two cores, spinning threads starve the ones doing work (a 24 ms
# query embedding took 1.9 s). Set before llama_cpp is imported; subprocesses inherit it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Tests run the model in-process unless they opt in to the resident engine (tests/foundation/test_resident.py):
# no test leaves an engine process behind.
os.environ["BASTION_ENGINE__RESIDENT"] = "false"


def _has_cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    if _has_cuda():
        return
    skip = pytest.mark.skip(reason="needs CUDA (no GPU on this machine; run on a GPU box)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


TEST_KEY_ENV = ("BASTION_SIGNING_KEY", "BASTION_TRUST__KEYS")


@pytest.fixture(scope="session", autouse=True)
def test_signing_key(tmp_path_factory) -> str:
    """One Ed25519 key for the session: every bundle the tests seal is signed with it, every test trusts it.

    Set in the environment (subprocesses and session fixtures with their own BASTION_HOME see it) and
    written into each test's trusted-keys directory (for the tmux test, whose shell may not inherit it).
    Returns the public key line.
    """
    from app.bundle.signing import generate_key

    key = tmp_path_factory.mktemp("signing") / "test-signing.pem"
    pub = generate_key(key, label="test-session").read_text(encoding="utf-8").strip()
    os.environ["BASTION_SIGNING_KEY"] = str(key)
    os.environ["BASTION_TRUST__KEYS"] = json.dumps([pub])
    return pub


@pytest.fixture(autouse=True)
def bastion_home(tmp_path, monkeypatch, test_signing_key):
    """Every test gets its own BASTION_HOME; the cache (converter, verify cache) is shared."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("BASTION_HOME", str(home))
    monkeypatch.delenv("BASTION_CONFIG", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    for k in list(os.environ):
        if k.startswith("BASTION_") and k not in ("BASTION_HOME", "BASTION_CACHE", *TEST_KEY_ENV):
            monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("BASTION_ENGINE__RESIDENT", "false")
    (home / "keys" / "trusted").mkdir(parents=True)
    (home / "keys" / "trusted" / "test-session.pub").write_text(test_signing_key + "\n", encoding="utf-8")
    return home


@pytest.fixture(scope="session")
def starter_bundle(tmp_path_factory) -> Path:
    """The real starter bundle, built once by `builder starter` (read-only for tests)."""
    from builder.starter import build_starter

    out = tmp_path_factory.mktemp("bundles") / "starter"
    old = os.environ.get("BASTION_HOME")
    os.environ["BASTION_HOME"] = str(tmp_path_factory.mktemp("starter-home"))
    try:
        build_starter(out)
    finally:
        if old is None:
            os.environ.pop("BASTION_HOME", None)
        else:
            os.environ["BASTION_HOME"] = old
    return out


@pytest.fixture
def bundle_copy(starter_bundle, tmp_path) -> Path:
    """A writable copy of the starter bundle, for tests that damage it."""
    dst = tmp_path / "bundle"
    shutil.copytree(starter_bundle, dst)
    return dst


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    from builder.sources import smollm2_gguf

    return smollm2_gguf()


@pytest.fixture(scope="session")
def chat_engine(smollm2_gguf):
    """One loaded SmolLM2 engine shared by tests (loading costs ~1 s)."""
    from app.llm.engine import EngineConfig, LlamaEngine

    eng = LlamaEngine(smollm2_gguf, EngineConfig(n_ctx=2048, max_tokens=64, temperature=0.0))
    eng.load()
    yield eng
    eng.close()
