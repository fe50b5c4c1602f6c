"""Factories that turn settings + a bundle into engines. No globals, no singletons."""

from __future__ import annotations

from app.bundle import Bundle, load_bundle
from app.errors import BundleError, ConfigError
from app.llm.embedder import Embedder
from app.llm.engine import ChatEngine, EngineConfig, LlamaEngine
from app.settings import Settings


def open_bundle(settings: Settings, *, verify: bool = True) -> Bundle:
    """The configured bundle; with `verify`, its signer must be trusted (settings `trust`) and its files intact."""
    from app.bundle.signing import TrustPolicy

    return load_bundle(settings.bundle_path(), verify=verify, trust=TrustPolicy.from_settings(settings))


def make_engine(settings: Settings, bundle: Bundle | None, *, prompt_cache: str = "ram") -> ChatEngine:
    """The chat engine the settings ask for: local llama.cpp on the bundle, or a remote server.

    `prompt_cache` ("ram", "disk", "off"): where a local engine keeps KV states of earlier prompts
    (`app.llm.prompt_cache`); sessions (TUI, serve) keep them in RAM, one-shot `ask` on disk.
    """
    es = settings.engine
    if es.kind == "remote":
        if not es.remote_url:
            raise ConfigError("engine.kind is 'remote' but engine.remote_url is empty", hint="set engine.remote_url in settings")
        from app.llm.remote import RemoteEngine

        return RemoteEngine(es.remote_url, model=es.remote_model, api_key=es.remote_api_key, n_ctx=es.n_ctx,
                            temperature=es.temperature, max_tokens=es.max_tokens)
    if bundle is None:
        raise BundleError("no bundle loaded", hint="create the starter bundle with `builder starter`")
    if es.resident:  # the model stays loaded in a per-user engine process; in-process when it cannot start
        from app.llm.resident.client import connect_resident

        engine = connect_resident(settings, bundle)
        if engine is not None:
            return engine
    return make_local_engine(settings, bundle, prompt_cache=prompt_cache)


def make_local_engine(settings: Settings, bundle: Bundle, *, prompt_cache: str = "ram") -> LlamaEngine:
    """A llama.cpp engine on the bundle's model in this process."""
    es = settings.engine
    m = bundle.manifest
    cfg = EngineConfig(
        n_ctx=es.n_ctx,
        n_threads=es.n_threads,
        n_gpu_layers=es.n_gpu_layers,
        temperature=es.temperature,
        max_tokens=es.max_tokens,
        seed=es.seed,
        stop=list(m.chat.stop),
        chat_template=m.chat.template,
        sampling=_sampling(settings, bundle),
        prompt_lookup=es.prompt_lookup,
    )
    engine = LlamaEngine(bundle.llm_path, cfg, context_length=m.context_length)
    if prompt_cache != "off":
        from app.llm.prompt_cache import make_prompt_cache

        sha = next((c.sha256 for c in m.components if c.path == m.llm), str(bundle.llm_path))
        # A saved state holds the KV cache in the context's layout (V transposed unless flash attention
        # is on): it must only load into a context of the same layout.
        from app.llm.lookup import flash_attention_for

        layout = f"flash_attn={flash_attention_for(bundle.llm_path, cfg.exact_batches)}"
        cfg.prompt_cache = make_prompt_cache(prompt_cache, fingerprint=f"{sha}|{layout}", n_ctx=engine.n_ctx)
    return engine


def _sampling(settings: Settings, bundle: Bundle):
    """The bundle's sampling preset (prompts.toml [sampling]) with the settings' overrides."""
    from app.prompts import load_prompts, sampling_for

    return sampling_for(load_prompts(bundle.prompts_path), settings)


def make_embedder(settings: Settings, bundle: Bundle) -> Embedder | None:
    e = bundle.manifest.embedder
    if e is None:
        return None
    return Embedder(bundle.file(e.path), fingerprint=e.fingerprint, max_tokens=e.max_tokens,
                    n_threads=settings.engine.n_threads, normalize=e.normalize)
