"""Foundation figures: `bastion --help` time, `bastion ask` vs bare llama-cpp-python, peak RSS.

Usage: python bench/bench_foundation.py [--bundle DIR] [--runs 3]
The baseline (a bare llama_cpp.Llama streaming call on the same prompt, same n_ctx,
same sampling) is measured in the same run; the ratio is what matters.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROMPT = "Explain in a short paragraph how parameterised queries prevent SQL injection."
MAX_TOKENS = 96
BIN = Path(sys.executable).parent


def help_time(runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([str(BIN / "bastion"), "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bare(model: Path, n_ctx: int) -> dict:
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(model), n_ctx=n_ctx, seed=0, verbose=False)
    from app.prompts import CHAT_SYSTEM

    # The same messages `bastion ask --no-rag` sends.
    msgs = [{"role": "system", "content": CHAT_SYSTEM}, {"role": "user", "content": PROMPT}]
    t0 = time.perf_counter()
    first = None
    n = 0
    for chunk in llm.create_chat_completion(messages=msgs, max_tokens=MAX_TOKENS, temperature=0.0, seed=0, stream=True):
        piece = chunk["choices"][0].get("delta", {}).get("content")
        if piece:
            n += 1
            if first is None:
                first = time.perf_counter()
    end = time.perf_counter()
    llm.close()
    return {"ttft_s": first - t0, "tokens_per_s": (n - 1) / (end - first), "tokens": n}


def bastion_ask(bundle: Path) -> dict:
    """`bastion ask --json` in a subprocess: its own timings plus the child's peak RSS."""
    env = dict(os.environ, BASTION_OFFLINE="1", BASTION_ENGINE__TEMPERATURE="0")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    r = subprocess.run([str(BIN / "bastion"), "ask", "--json", "--no-rag", "--max-tokens", str(MAX_TOKENS),
                        "--bundle", str(bundle), PROMPT], capture_output=True, text=True, env=env, check=True)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = json.loads(r.stdout)["timings"]
    return {"ttft_s": t["ttft_s"], "tokens_per_s": t["tokens_per_s"], "tokens": t["completion_tokens"],
            "peak_rss_mb": max(rss, before) / 1024}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", type=Path, default=None)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from app.bundle import load_bundle
    from app.settings import load_settings

    bundle = load_bundle(args.bundle or load_settings().bundle_path())
    n_ctx = min(load_settings().engine.n_ctx, bundle.manifest.context_length)

    print(f"bastion --help: {help_time(5) * 1000:.0f} ms (median of 5; target < 300 ms)")
    b_runs, a_runs = [], []
    for _ in range(args.runs):  # interleave so drift hits both alike
        b_runs.append(bare(bundle.llm_path, n_ctx))
        a_runs.append(bastion_ask(bundle.root))
    med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
    print(f"bare llama-cpp-python: TTFT {med(b_runs, 'ttft_s') * 1000:.0f} ms, {med(b_runs, 'tokens_per_s'):.1f} tok/s")
    print(f"bastion ask:           TTFT {med(a_runs, 'ttft_s') * 1000:.0f} ms, {med(a_runs, 'tokens_per_s'):.1f} tok/s")
    print(f"ratio (bastion/bare) tokens/s: {med(a_runs, 'tokens_per_s') / med(b_runs, 'tokens_per_s'):.3f} (target >= 0.95)")
    print(f"ratio (bare/bastion) TTFT:     {med(b_runs, 'ttft_s') / med(a_runs, 'ttft_s'):.3f}")
    print(f"bastion ask peak RSS: {max(r['peak_rss_mb'] for r in a_runs):.0f} MB")


if __name__ == "__main__":
    main()
