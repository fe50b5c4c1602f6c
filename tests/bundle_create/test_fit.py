"""Hardware fit: context capped by memory, GPU layers from free GPU memory, shape from the GGUF header."""

from __future__ import annotations

from app.llm.fit import MIN_CTX, ModelShape, suggest
from app.llm.gguf_check import check_gguf

GiB = 2**30
SHAPE = ModelShape(model_bytes=4 * GiB, n_layers=32, kv_bytes_per_token=128 * 1024, trained_context=131072)


def test_context_capped_by_memory():
    big = suggest(SHAPE, memory_bytes=64 * GiB, gpu_free_bytes=0)
    small = suggest(SHAPE, memory_bytes=8 * GiB, gpu_free_bytes=0)
    assert big.n_ctx > small.n_ctx >= MIN_CTX and big.fits and small.fits
    assert big.n_ctx <= SHAPE.trained_context and big.n_ctx % 256 == 0
    used = SHAPE.model_bytes + small.n_ctx * SHAPE.kv_bytes_per_token
    assert used <= 8 * GiB * 0.7


def test_model_too_big_for_memory():
    fit = suggest(SHAPE, memory_bytes=4 * GiB, gpu_free_bytes=0)
    assert not fit.fits and "more memory" in fit.note and fit.n_ctx == MIN_CTX


def test_gpu_layers():
    assert suggest(SHAPE, memory_bytes=32 * GiB, gpu_free_bytes=80 * GiB).n_gpu_layers == -1
    part = suggest(SHAPE, memory_bytes=32 * GiB, gpu_free_bytes=2 * GiB).n_gpu_layers
    assert 0 < part < SHAPE.n_layers


def test_shape_from_gguf_and_metrics(tiny_gguf):
    shape = ModelShape.from_gguf(check_gguf(tiny_gguf))
    # 2 layers x 2 KV heads x (16 + 16) head dims x 2 bytes
    assert shape.n_layers == 2 and shape.kv_bytes_per_token == 2 * 2 * 32 * 2 and shape.trained_context == 4096
    assert ModelShape.from_metrics(shape.as_metrics()) == shape
    assert ModelShape.from_metrics({}) is None
