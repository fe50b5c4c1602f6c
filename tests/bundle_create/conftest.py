"""Fixtures: small GGUFs written with the `gguf` package, and an Ollama store laid out like Ollama's."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from app import paths

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def write_gguf(path: Path, *, arch: str = "llama", template: str | None = CHATML, n_tensors: int = 2) -> Path:
    """A small, valid GGUF (a few f32 tensors, a vocabulary, a chat template); never loaded by llama.cpp."""
    import numpy as np
    from gguf import GGUFWriter

    w = GGUFWriter(str(path), arch)
    w.add_name("tiny-test")
    w.add_context_length(4096)
    w.add_block_count(2)
    w.add_embedding_length(64)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_token_list(["<s>", "</s>", "<|im_start|>", "<|im_end|>", "a", "b"])
    w.add_bos_token_id(0)
    w.add_eos_token_id(3)
    if template is not None:
        w.add_chat_template(template)
    for i in range(n_tensors):
        w.add_tensor(f"blk.{i}.weight", np.full((8, 64), i, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture
def tiny_gguf(tmp_path) -> Path:
    return write_gguf(tmp_path / "tiny.gguf")


def place(src: Path, dst: Path) -> None:
    """Hard-link when possible (the SmolLM2 GGUF is ~100 MB), else copy."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_ollama_store(root: Path, gguf: Path, *, name: str = "smollm2", tag: str = "135m",
                      params: dict | None = None) -> Path:
    """An Ollama models directory: manifests/registry.ollama.ai/library/NAME/TAG + blobs/sha256-<hex>."""
    blobs = root / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    layers = []
    model_digest = _digest(gguf)
    place(gguf, blobs / f"sha256-{model_digest}")
    layers.append({"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{model_digest}",
                   "size": gguf.stat().st_size})
    for media, body in (("application/vnd.ollama.image.template", b"{{ .Prompt }}"),
                        ("application/vnd.ollama.image.params", json.dumps(params or {"stop": ["<|im_end|>"]}).encode())):
        d = hashlib.sha256(body).hexdigest()
        (blobs / f"sha256-{d}").write_bytes(body)
        layers.append({"mediaType": media, "digest": f"sha256:{d}", "size": len(body)})
    config = json.dumps({"model_format": "gguf", "model_family": "llama"}).encode()
    cd = hashlib.sha256(config).hexdigest()
    (blobs / f"sha256-{cd}").write_bytes(config)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": f"sha256:{cd}",
                           "size": len(config)},
                "layers": layers}
    mdir = root / "manifests" / "registry.ollama.ai" / "library" / name
    mdir.mkdir(parents=True, exist_ok=True)
    (mdir / tag).write_text(json.dumps(manifest))
    return root


@pytest.fixture
def home_with_starter(bastion_home, starter_bundle):
    """BASTION_HOME whose bundles/starter is the session's starter bundle, signed by this home's local key.

    Files are hard-linked (cp -al), never written; only manifest.sig is new.
    """
    from app.bundle.signing import SIGNATURE_NAME, sign_bundle

    dst = paths.starter_bundle_dir()
    dst.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-al", str(starter_bundle), str(dst)], check=True)
    (dst / SIGNATURE_NAME).unlink(missing_ok=True)
    sign_bundle(dst)
    return bastion_home
