"""Speed features keep their answers: batched embedding parity, prompt caches, prompt-lookup decoding.

No timings here (bench/bench_speed.py measures them); these check that the fast paths
give the same vectors and the same greedy text as the plain ones.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.bundle import load_bundle
from app.llm.embedder import Embedder
from app.llm.engine import EngineConfig, LlamaEngine
from app.llm.prompt_cache import make_prompt_cache

pytestmark = pytest.mark.slow

TEXTS = [
    "SQL injection through string concatenation",
    "Use parameterised queries; never build SQL from user input. " * 12,
    "路径遍历漏洞：用户控制的文件名必须规范化后再检查前缀。",
    "def handler(request): return eval(request.args['q'])",
    "",
    "x",
    "A very long chunk of text about cross-site scripting, output encoding and CSP. " * 60,
] + [f"note {i}: validate input {i} against an allow-list before use" for i in range(30)]

SQL_SOURCE = ("Parameterised queries keep user input out of the SQL text: the driver sends the statement and the "
              "values separately, so a quote in the input cannot end the string.")


def _one_source(system: str, source: str, question: str) -> list[dict]:
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"<source n=1>{source}</source>\n\nQuestion: {question}"}]


PROMPT = _one_source("Answer from the sources. Quote them where you can.", SQL_SOURCE,
                     "How do parameterised queries prevent SQL injection? Quote the source.")


@pytest.fixture(scope="module")
def embedder_gguf(starter_bundle):
    m = load_bundle(starter_bundle).manifest
    return starter_bundle / m.embedder.path, m.embedder


def test_batched_embedding_matches_one_at_a_time(embedder_gguf):
    import llama_cpp

    path, spec = embedder_gguf
    # The reference: llama-cpp-python's own embed, one text per call, as the embedder did before batching.
    ref_llm = llama_cpp.Llama(model_path=str(path), embedding=True, n_ctx=spec.max_tokens, n_batch=spec.max_tokens,
                              n_ubatch=spec.max_tokens, verbose=False)
    ref = np.array([ref_llm.embed(t, normalize=True, truncate=True) for t in TEXTS])
    ref_llm.close()
    emb = Embedder(path, fingerprint=spec.fingerprint, max_tokens=spec.max_tokens, batch_tokens=1024)
    got = np.array(emb.embed(TEXTS))
    assert got.shape == ref.shape
    cos = (got * ref).sum(axis=1) / np.linalg.norm(got, axis=1) / np.linalg.norm(ref, axis=1)
    assert cos.min() >= 0.9999, cos
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)
    # Several texts really shared a decode, and splitting the same list differently changes nothing.
    again = np.array(emb.embed(TEXTS[:3]) + emb.embed(TEXTS[3:]))
    assert (again * got).sum(axis=1).min() >= 0.9999
    emb.close()


def _greedy(engine: LlamaEngine, messages=PROMPT, max_tokens: int = 48) -> str:
    return engine.chat(messages, max_tokens=max_tokens, temperature=0.0).result()


QUOTING = _one_source("Answer from the sources. Copy their sentences word for word.",
                      SQL_SOURCE + " Never build SQL by concatenating or formatting strings with user input.",
                      "Repeat the source's two sentences exactly.")


def _long_rag_prompt() -> list[dict]:
    """~900 tokens of the starter notes as sources: past the context length where kernels switch paths."""
    from pathlib import Path

    import app.knowledge

    notes = sorted((Path(app.knowledge.__file__).parent / "notes").glob("*.md"))[:4]
    sources = "".join(f"<source n={i}>{' '.join(f.read_text(encoding='utf-8').split()[:160])}</source>\n"
                      for i, f in enumerate(notes, 1))
    return [{"role": "system", "content": "Answer from the sources and quote them."},
            {"role": "user", "content": sources + "\nQuestion: What do the sources say about validating input? Quote them."}]


def test_prompt_lookup_keeps_the_text_and_really_drafts(smollm2_gguf, chat_engine):
    """Greedy and sampled text with prompt-lookup equals plain decoding's, short and long prompts, with
    the app's sampling preset (penalties), and drafts were really kept."""
    from app.llm.engine import Sampling
    from app.prompts import SAMPLING_PRESETS

    fast = LlamaEngine(smollm2_gguf, EngineConfig(n_ctx=2048, max_tokens=64, temperature=0.0, prompt_lookup=10))
    app_cfg = dict(n_ctx=2048, max_tokens=96, sampling=Sampling(**SAMPLING_PRESETS["small"]))
    app_plain, app_fast = LlamaEngine(smollm2_gguf, EngineConfig(**app_cfg)), LlamaEngine(smollm2_gguf, EngineConfig(**app_cfg, prompt_lookup=10))
    try:
        long = _long_rag_prompt()
        assert chat_engine.fit(long, 64).prompt_tokens > 600
        for msgs in (PROMPT, QUOTING, long):
            # Both from an empty context: how a prompt's prefill is split into batches changes its logits
            # (the shared chat_engine holds earlier tests' prompts, whose prefix it would reuse).
            chat_engine.load().reset(), fast.load().reset()
            plain = _greedy(chat_engine, msgs)
            assert plain.strip()
            assert _greedy(fast, msgs) == plain
        assert fast.lookup.active, fast.lookup.reason
        drafter = fast.load().draft_model
        assert drafter.kept >= 8 and drafter.drafted >= drafter.kept  # the check batches did the work
        # Sampling (temperature 0.8, same seed) draws the same tokens too: the logits are bit-identical.
        chat_engine.load().reset(), fast.load().reset()
        warm = chat_engine.chat(QUOTING, max_tokens=48, temperature=0.8).result()
        assert fast.chat(QUOTING, max_tokens=48, temperature=0.8).result() == warm
        # The starter's preset: temperature 0.2 with repeat, presence and frequency penalties.
        for msgs in (QUOTING, long):
            app_fast.load().reset(), app_plain.load().reset()
            assert app_fast.chat(msgs).result() == app_plain.chat(msgs).result()
        assert app_fast.lookup.active
    finally:
        for e in (fast, app_plain, app_fast):
            e.close()


def test_prompt_lookup_stays_off_where_batches_round_differently(smollm2_gguf, tmp_path):
    """A K-quant model (Q4_K, requantized from the Q4_1 one here) is refused from its header; with an
    F16 KV cache forced, the probe refuses it; either way it decodes plainly with the plain text."""
    import ctypes

    import llama_cpp

    qk = tmp_path / "smollm2-q4_k.gguf"
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype, params.allow_requantize, params.nthread = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_S, True, 2
    assert llama_cpp.llama_model_quantize(str(smollm2_gguf).encode(), str(qk).encode(), ctypes.byref(params)) == 0
    cfg = dict(n_ctx=2048, max_tokens=48, temperature=0.0)
    plain, fast = LlamaEngine(qk, EngineConfig(**cfg)), LlamaEngine(qk, EngineConfig(**cfg, prompt_lookup=10))
    probe_only = LlamaEngine(smollm2_gguf, EngineConfig(**cfg, prompt_lookup=10, exact_batches=False))
    try:
        assert _greedy(fast, QUOTING, 48) == _greedy(plain, QUOTING, 48)
        assert not fast.lookup.active and "Q4_K" in fast.lookup.reason
        assert fast.load().draft_model is None
        probe_only.load()
        assert not probe_only.lookup.active and "exact_batches" in probe_only.lookup.reason
    finally:
        for e in (plain, fast, probe_only):
            e.close()


def test_the_probe_tells_exact_from_inexact_contexts(smollm2_gguf):
    """`batch_invariant` is a real check: the same Q4_1 weights pass with flash attention, fail without
    (the default kernel rounds differently in a batch) and fail with an F32 KV cache, which is exact
    only in short contexts (the probe looks past 300 tokens)."""
    import llama_cpp

    from app.llm.lookup import batch_invariant, exact_llama_class

    cls = exact_llama_class()
    f32 = dict(type_k=llama_cpp.GGML_TYPE_F32, type_v=llama_cpp.GGML_TYPE_F32)
    for kw, expected in ((dict(flash_attn=True), True), (dict(flash_attn=False), False), (dict(flash_attn=False, **f32), False)):
        llm = cls(model_path=str(smollm2_gguf), n_ctx=1024, verbose=False, check_span=11, **kw)
        try:
            assert batch_invariant(llm, 11) is expected, kw
        finally:
            llm.close()


def test_ram_cache_restores_a_prompt_after_another_one(smollm2_gguf, chat_engine):
    plain = _greedy(chat_engine)
    cache = make_prompt_cache("ram", fingerprint="test", n_ctx=2048)
    eng = LlamaEngine(smollm2_gguf, EngineConfig(n_ctx=2048, max_tokens=64, temperature=0.0, prompt_cache=cache))
    try:
        assert _greedy(eng) == plain
        other = [{"role": "user", "content": "Say hello."}]
        _greedy(eng, other, max_tokens=8)  # the live context now holds another prompt
        assert len(cache.cache_state) >= 2
        assert max(s.scores.shape[0] for s in cache.cache_state.values()) == 1  # lean entries
        assert _greedy(eng) == plain  # restored from the cache, same text
    finally:
        eng.close()


def test_disk_cache_survives_the_engine_and_recovers_from_damage(smollm2_gguf, chat_engine, tmp_path):
    plain = _greedy(chat_engine)

    def fresh():
        cache = make_prompt_cache("disk", fingerprint="test", n_ctx=2048, root=tmp_path)
        return LlamaEngine(smollm2_gguf, EngineConfig(n_ctx=2048, max_tokens=64, temperature=0.0, prompt_cache=cache)), cache

    eng, cache = fresh()
    assert _greedy(eng) == plain
    eng.close()
    assert len(cache.cache) == 1
    folder = cache.cache.directory
    cache.cache.close()
    eng, cache = fresh()  # a new process would see the same folder
    assert cache.cache.directory == folder and len(cache.cache) == 1
    assert _greedy(eng) == plain
    eng.close()
    # A damaged entry is a miss, not a failed answer.
    for f in __import__("pathlib").Path(folder).rglob("*.val"):
        f.write_bytes(b"not a pickle")
    cache.cache.close()
    eng, cache = fresh()
    assert _greedy(eng) == plain
    eng.close()
    # Another model or context size gets another folder.
    other = make_prompt_cache("disk", fingerprint="other", n_ctx=2048, root=tmp_path)
    assert other.cache.directory != folder


def test_the_app_turns_prompt_lookup_on_from_settings(starter_bundle):
    """`engine.prompt_lookup` (default 10) reaches the engine; the starter's Q4_1 weights take it; 0 turns it off
    without changing the attention kernel (so the text is the same either way)."""
    from app.runtime import make_engine
    from app.settings import load_settings

    on = make_engine(load_settings(bundle=starter_bundle), load_bundle(starter_bundle), prompt_cache="off")
    off = make_engine(load_settings(bundle=starter_bundle, engine={"prompt_lookup": 0}), load_bundle(starter_bundle),
                      prompt_cache="off")
    try:
        assert on.config.prompt_lookup == 10 and off.config.prompt_lookup == 0
        on.load(), off.load()
        assert on.lookup.active, on.lookup.reason
        assert off.lookup is None and off.load().draft_model is None
        assert on.load().context_params.flash_attn_type == off.load().context_params.flash_attn_type
        msgs = [{"role": "user", "content": "Name one OWASP Top 10 category."}]
        assert on.chat(msgs, max_tokens=32).result() == off.chat(msgs, max_tokens=32).result()
    finally:
        on.close(), off.close()
