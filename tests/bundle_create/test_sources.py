"""Reading a local Ollama store and the Hugging Face cache, offline, with no Ollama process."""

from __future__ import annotations

import json

import pytest

from app.bundle.hf_cache import HFCacheError, find_gguf
from app.bundle.ollama_store import OllamaError, find_model, list_models, parse_ref
from tests.bundle_create.conftest import make_ollama_store, place


def test_parse_ref():
    assert parse_ref("qwen2.5") == ("registry.ollama.ai", "library", "qwen2.5", "latest")
    assert parse_ref("qwen2.5:7b-instruct-q4_K_M")[3] == "7b-instruct-q4_K_M"
    assert parse_ref("me/model:v1") == ("registry.ollama.ai", "me", "model", "v1")
    assert parse_ref("hf.co/org/model:Q4") == ("hf.co", "org", "model", "Q4")
    for bad in ("../etc:passwd", "a/b/c/d", "x:..", ""):
        with pytest.raises(OllamaError):
            parse_ref(bad)


def test_ollama_store_finds_blob(tmp_path, tiny_gguf):
    store = make_ollama_store(tmp_path / "models", tiny_gguf, params={"stop": ["<|im_end|>", "<|im_start|>"]})
    m = find_model("smollm2:135m", root=store)
    assert m.gguf.read_bytes() == tiny_gguf.read_bytes()
    assert m.gguf.name == f"sha256-{m.sha256}"
    assert m.params["stop"] == ["<|im_end|>", "<|im_start|>"]
    assert list_models(store) == ["smollm2:135m"]


def test_ollama_missing_model_lists_what_is_there(tmp_path, tiny_gguf):
    store = make_ollama_store(tmp_path / "models", tiny_gguf)
    with pytest.raises(OllamaError, match=r"not found.*smollm2:135m"):
        find_model("llama3.1:8b", root=store)


def test_ollama_damaged_blob_refused(tmp_path, tiny_gguf):
    store = make_ollama_store(tmp_path / "models", tiny_gguf)
    blob = find_model("smollm2:135m", root=store).gguf
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF
    blob.unlink()  # may be a hard link to the fixture; never write through it
    blob.write_bytes(bytes(data))
    with pytest.raises(OllamaError, match="does not match"):
        find_model("smollm2:135m", root=store)


def test_ollama_hostile_digest_refused(tmp_path, tiny_gguf):
    store = make_ollama_store(tmp_path / "models", tiny_gguf)
    mpath = store / "manifests/registry.ollama.ai/library/smollm2/135m"
    manifest = json.loads(mpath.read_text())
    manifest["layers"][0]["digest"] = "sha256:../../../../etc/passwd"
    mpath.write_text(json.dumps(manifest))
    with pytest.raises(OllamaError, match="not a sha256 digest"):
        find_model("smollm2:135m", root=store)


def test_ollama_models_env(tmp_path, tiny_gguf, monkeypatch):
    store = make_ollama_store(tmp_path / "elsewhere", tiny_gguf)
    monkeypatch.setenv("OLLAMA_MODELS", str(store))
    assert find_model("smollm2:135m").gguf.is_file()


def _hf_cache(root, repo, files, *, commit="a" * 40):
    base = root / ("models--" + repo.replace("/", "--"))
    (base / "refs").mkdir(parents=True)
    (base / "refs" / "main").write_text(commit)
    snap = base / "snapshots" / commit
    snap.mkdir(parents=True)
    for name, src in files.items():
        blob = base / "blobs" / f"blob-{name}"
        place(src, blob)
        (snap / name).symlink_to(blob)
    return root


def test_hf_cache_single_gguf(tmp_path, tiny_gguf, monkeypatch):
    root = _hf_cache(tmp_path / "hub", "org/Tiny-GGUF", {"tiny-q4_k_m.gguf": tiny_gguf})
    monkeypatch.setenv("HF_HUB_CACHE", str(root))
    path = find_gguf("org/Tiny-GGUF")
    assert path.read_bytes() == tiny_gguf.read_bytes()


def test_hf_cache_picks_q4_k_m_or_asks(tmp_path, tiny_gguf):
    root = _hf_cache(tmp_path / "hub", "org/M-GGUF", {"m-Q8_0.gguf": tiny_gguf, "m-Q4_K_M.gguf": tiny_gguf})
    assert find_gguf("org/M-GGUF", root=root).name == "blob-m-Q4_K_M.gguf"
    assert find_gguf("org/M-GGUF", root=root, filename="m-Q8_0.gguf").name == "blob-m-Q8_0.gguf"
    root2 = _hf_cache(tmp_path / "hub2", "org/N", {"a.gguf": tiny_gguf, "b.gguf": tiny_gguf})
    with pytest.raises(HFCacheError, match="several GGUF files"):
        find_gguf("org/N", root=root2)


def test_hf_cache_missing_repo(tmp_path):
    with pytest.raises(HFCacheError, match="not in the Hugging Face cache"):
        find_gguf("org/Nothing", root=tmp_path)
    with pytest.raises(HFCacheError, match="not a Hugging Face repository"):
        find_gguf("../../etc", root=tmp_path)
