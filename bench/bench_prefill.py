"""Prefill: the app's engine against a bare llama-cpp-python `Llama` on the same RAG prompt, same n_ctx.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/bench_prefill.py [--bundle DIR] [--rounds 2]
        [--question Q] [--variants bare,bare-t2,app,app-t2,app-no-template]

The messages are the ones `bastion ask` sends for the question (the bundle's system prompt, its sources
fitted to the context by `GroundedChat`). Each variant loads the model (excluded from the figure), then
times one completion from the call to the first content piece (max_tokens 1, temperature 0), which is
prompt evaluation plus one decode:

  bare             `llama_cpp.Llama(model, n_ctx)` with llama-cpp-python's defaults
                   (n_threads = cpu_count // 2, n_batch 512), `create_chat_completion(stream=True)`
  bare-t2          the same with n_threads = the machine's cores
  app              `make_local_engine(settings, bundle, prompt_cache="off")` as `bastion ask` builds it, `.chat()`
  app-t2           the same with engine.n_threads = the machine's cores
  app-no-template  `app` without the bundle's chat template (the template renders in a bounded child process)

Variants run interleaved (A B C A B C ...); medians and ratios to `bare`, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTION = "How should I store user passwords?"


def rag_messages(settings, bundle, engine, question: str) -> list[dict]:
    from app.knowledge import GroundedChat
    from app.knowledge.prompt_format import build_rag_messages

    chat = GroundedChat.open(settings, bundle, engine=engine)
    try:
        hits = chat.fit_sources(question, chat.retrieve(question), system=chat.system, max_tokens=None)
        return build_rag_messages(question, hits, system=chat.system)
    finally:
        chat.close()


def time_bare(model: Path, n_ctx: int, messages: list[dict], threads: int | None) -> tuple[float, int]:
    import llama_cpp

    kw = {"n_threads": threads} if threads else {}
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=n_ctx, verbose=False, **kw)
    try:
        t0 = time.perf_counter()
        for chunk in llm.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0, stream=True):
            if chunk["choices"][0].get("delta", {}).get("content"):
                break
        took = time.perf_counter() - t0
        return took, llm.n_tokens
    finally:
        llm.close()


def time_app(settings, bundle, messages: list[dict], *, threads: int | None, template: bool) -> tuple[float, int]:
    from app.runtime import make_local_engine

    engine = make_local_engine(settings, bundle, prompt_cache="off")
    if threads:
        engine.config.n_threads = threads
    if not template:
        engine.config.chat_template = None
    engine.load()
    try:
        t0 = time.perf_counter()
        gen = engine.chat(messages, max_tokens=1, temperature=0.0)
        for _ in gen:
            break
        took = time.perf_counter() - t0
        return took, gen.stats.prompt_tokens
    finally:
        engine.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", default=None)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--question", default=QUESTION)
    ap.add_argument("--variants", default="bare,bare-t2,app,app-t2,app-no-template")
    a = ap.parse_args()
    from app.llm.native_log import silence_native_logs
    from app.runtime import make_local_engine, open_bundle
    from app.settings import load_settings

    silence_native_logs()
    settings = load_settings(**({"bundle": a.bundle} if a.bundle else {}))
    bundle = open_bundle(settings)
    probe = make_local_engine(settings, bundle, prompt_cache="off")
    messages = rag_messages(settings, bundle, probe, a.question)
    n_ctx = probe.n_ctx
    probe.close()
    cores = os.cpu_count() or 1
    runs = {
        "bare": lambda: time_bare(bundle.llm_path, n_ctx, messages, None),
        "bare-t2": lambda: time_bare(bundle.llm_path, n_ctx, messages, cores),
        "app": lambda: time_app(settings, bundle, messages, threads=None, template=True),
        "app-t2": lambda: time_app(settings, bundle, messages, threads=cores, template=True),
        "app-no-template": lambda: time_app(settings, bundle, messages, threads=None, template=False),
    }
    chosen = [v.strip() for v in a.variants.split(",") if v.strip()]
    times: dict[str, list[float]] = {v: [] for v in chosen}
    tokens: dict[str, int] = {}
    load0 = os.getloadavg()[0]
    for _ in range(a.rounds):
        for v in chosen:
            took, n = runs[v]()
            times[v].append(took)
            tokens[v] = n
    print(f"bench_prefill: {bundle.manifest.name} ({bundle.llm_path.name}), n_ctx {n_ctx}, {cores} cores, "
          f"{a.rounds} rounds interleaved, load average {load0:.2f} -> {os.getloadavg()[0]:.2f}")
    base = statistics.median(times["bare"]) if "bare" in times else None
    print(f"{'variant':<17}{'tokens':>8}{'first piece (s)':>17}{'tokens/s':>10}{'/ bare':>8}")
    for v in chosen:
        med = statistics.median(times[v])
        ratio = f"{med / base:.2f}" if base else "-"
        print(f"{v:<17}{tokens[v]:>8}{med:>17.2f}{tokens[v] / med:>10.0f}{ratio:>8}")


if __name__ == "__main__":
    main()
