"""One-shot `ask` with and without the resident engine, against a bare llama-cpp-python prefill (issue 27).

For each bundle, in one run and interleaved by round:
  cold      a fresh process runs `app.ask.run_ask` with `engine.resident` off (loads the model, no warm cache)
  resident  the engine is started by a first question, then a *different* question is asked by a new process
  bare      a fresh process loads llama_cpp.Llama on the same GGUF and n_ctx and streams the naive RAG prompt
            (the bundle's chat system prompt, the top-k retrieved chunks in full, the question): its TTFT
            counts from the create call (model already loaded), as the issue's baseline did
Figures per question: time from process launch to the model's first token (`launch_to_token_s`), the
engine's own TTFT (`ttft_s`, from the chat call) and prompt tokens. Each cold/bare process gets a fresh
BASTION_HOME so no disk prompt cache helps it. Prints medians and the issue's ratios, plus the 1-minute load.

    OMP_WAIT_POLICY=PASSIVE python bench/bench_resident.py --bundle starter=/work/cache/bench-starter \
        --bundle yardstick=/work/cache/answers-home/bundles/yardstick --keys /work/cache/answers-home/keys --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "bastion"
QUESTIONS = [
    "How do I prevent SQL injection in Python?",
    "How should passwords be stored?",
    "What is cross-site scripting and how is it stopped?",
    "How do I avoid path traversal when serving files?",
    "What makes deserialization of untrusted data dangerous?",
    "How should session cookies be configured?",
]

ASK_CHILD = r"""
import json, sys, time
import app.ask as A
calls, kinds = [], []
orig = A.make_engine
def make(*a, **k):
    e = orig(*a, **k)
    kinds.append(type(e).__name__)
    chat = e.chat
    def timed(*x, **y):
        calls.append(time.time())
        return chat(*x, **y)
    e.chat = timed
    return e
A.make_engine = make
from app.settings import load_settings
shown = []
r = A.run_ask(sys.argv[1], settings=load_settings(), max_tokens=int(sys.argv[2]),
              on_piece=lambda p: shown or shown.append(time.time())).as_json()
t = r["timings"]
print(json.dumps({"chat_wall": calls[0] if calls else None, "ttft_s": t["ttft_s"], "prompt_tokens": t["prompt_tokens"],
                  "first_shown_wall": shown[0] if shown else None, "extractive": r["extractive"],
                  "engine": kinds[0] if kinds else None}))
"""

BARE_CHILD = r"""
import json, sys, time
from app.settings import load_settings
from app.runtime import open_bundle, make_embedder
from app.prompts import load_prompts
from app.knowledge.retrieval import Retriever
settings = load_settings()
bundle = open_bundle(settings)
prompts = load_prompts(bundle.prompts_path)
import llama_cpp
n_ctx = min(settings.engine.n_ctx, bundle.manifest.context_length)
t_load = time.time()
llm = llama_cpp.Llama(model_path=str(bundle.llm_path), n_ctx=n_ctx, n_threads=settings.engine.n_threads or None,
                      verbose=False)
load_s = time.time() - t_load
q = sys.argv[1]
hits = json.loads(sys.argv[3])
sources = "\n\n".join(f"[{i}] {h}" for i, h in enumerate(hits, 1))
msgs = [{"role": "system", "content": prompts.chat_system},
        {"role": "user", "content": f"Sources:\n{sources}\n\nQuestion: {q}\nAnswer from the sources and cite them as [n]."}]
t0 = time.time()
first = None
for chunk in llm.create_chat_completion(messages=msgs, max_tokens=int(sys.argv[2]), temperature=0.0, stream=True):
    if chunk["choices"][0].get("delta", {}).get("content"):
        first = time.time()
        break
print(json.dumps({"ttft_s": first - t0, "load_s": load_s, "launch_to_token_wall": first}))
"""


def _env(home: Path, bundle: Path, resident: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASTION_")}
    return env | {"BASTION_HOME": str(home), "BASTION_CACHE": str(home / "cache"), "BASTION_BUNDLE": str(bundle), "OMP_WAIT_POLICY": "PASSIVE",
                  "BASTION_ENGINE__RESIDENT": "true" if resident else "false", "BASTION_ENGINE__TEMPERATURE": "0",
                  "PYTHONPATH": str(ROOT), "BASTION_OFFLINE": "1"}


def _home(keys: Path | None, tmp: Path, name: str) -> Path:
    home = tmp / name
    home.mkdir(parents=True)
    if keys and keys.is_dir():
        shutil.copytree(keys, home / "keys")
    return home


def ask(q: str, env: dict, max_tokens: int) -> dict:
    t0 = time.time()
    p = subprocess.run([sys.executable, "-c", ASK_CHILD, q, str(max_tokens)], env=env, capture_output=True, text=True,
                       timeout=900)
    if p.returncode != 0:
        raise SystemExit(f"ask failed: {p.stderr[-2000:]}")
    d = json.loads(p.stdout.strip().splitlines()[-1])
    d["launch_to_token_s"] = d["chat_wall"] + d["ttft_s"] - t0
    d["launch_to_shown_s"] = (d["first_shown_wall"] - t0) if d["first_shown_wall"] else None
    return d


def top_texts(q: str, env: dict, k: int) -> list[str]:
    p = subprocess.run([str(BIN), "search", q, "--json"], env=env, capture_output=True,
                       text=True, timeout=600)
    if p.returncode != 0:
        raise SystemExit(f"search failed: {p.stderr[-2000:]}")
    data = json.loads(p.stdout)
    hits = data if isinstance(data, list) else data.get("hits", data.get("results", []))
    return [h.get("text", "") for h in hits[:k]]


def bare(q: str, env: dict, max_tokens: int, texts: list[str]) -> dict:
    t0 = time.time()
    p = subprocess.run([sys.executable, "-c", BARE_CHILD, q, str(max_tokens), json.dumps(texts)], env=env,
                       capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        raise SystemExit(f"bare failed: {p.stderr[-2000:]}")
    d = json.loads(p.stdout.strip().splitlines()[-1])
    d["launch_to_token_s"] = d.pop("launch_to_token_wall") - t0
    return d


def stop_engine(env: dict) -> None:
    subprocess.run([str(BIN), "engine", "stop"], env=env, capture_output=True, timeout=120)


def med(rows: list[dict], key: str) -> float:
    vals = [r[key] for r in rows if r.get(key) is not None]
    return round(statistics.median(vals), 3) if vals else float("nan")


def bench_bundle(name: str, bundle: Path, keys: Path | None, rounds: int, max_tokens: int, k: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-res-{name}-", dir="/tmp"))
    run_dir = tmp / "run"
    run_dir.mkdir(mode=0o700)
    rows: dict[str, list[dict]] = {"cold": [], "resident_first": [], "resident_second": [], "bare": []}
    try:
        for r in range(rounds):
            q1, q2 = QUESTIONS[(2 * r) % len(QUESTIONS)], QUESTIONS[(2 * r + 1) % len(QUESTIONS)]
            cold_env = _env(_home(keys, tmp, f"cold{r}"), bundle, resident=False)
            rows["cold"].append(ask(q2, cold_env, max_tokens))
            res_env = _env(_home(keys, tmp, f"res{r}"), bundle, resident=True) | {"XDG_RUNTIME_DIR": str(run_dir)}
            rows["resident_first"].append(ask(q1, res_env, max_tokens))  # starts the engine
            rows["resident_second"].append(ask(q2, res_env, max_tokens))
            stop_engine(res_env)
            bare_env = _env(_home(keys, tmp, f"bare{r}"), bundle, resident=False)
            rows["bare"].append(bare(q2, bare_env, max_tokens, top_texts(q2, bare_env, k)))
            print(f"  {name} round {r + 1}: " + ", ".join(f"{m} {v[-1]['launch_to_token_s']:.2f}s" for m, v in rows.items()),
                  file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = {m: {"launch_to_token_s": med(v, "launch_to_token_s"), "ttft_s": med(v, "ttft_s")} for m, v in rows.items()}
    for m in ("cold", "resident_second"):
        out[m]["prompt_tokens"] = med(rows[m], "prompt_tokens")
        out[m]["launch_to_shown_s"] = med(rows[m], "launch_to_shown_s")
    out["bare"]["load_s"] = med(rows["bare"], "load_s")
    rs = out["resident_second"]["launch_to_token_s"]
    out["ratios"] = {
        "resident second / cold one-shot (launch to first token)": round(rs / out["cold"]["launch_to_token_s"], 3),
        "resident second (launch to first token) / bare prefill (create call to first token)":
            round(rs / out["bare"]["ttft_s"], 3),
        "resident second / bare process (launch to first token, load included)":
            round(rs / out["bare"]["launch_to_token_s"], 3),
    }
    out["all"] = rows
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", action="append", required=True, help="NAME=DIR (repeatable)")
    ap.add_argument("--keys", type=Path, help="a BASTION_HOME/keys folder that trusts the bundles' signers")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=24)
    ap.add_argument("--k", type=int, default=4, help="chunks in the naive prompt")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    result = {"load_avg_1min_start": round(os.getloadavg()[0], 2), "bundles": {}}
    for spec in args.bundle:
        name, _, path = spec.partition("=")
        result["bundles"][name] = bench_bundle(name, Path(path), args.keys, args.rounds, args.max_tokens, args.k)
    result["load_avg_1min_end"] = round(os.getloadavg()[0], 2)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    for name, b in result["bundles"].items():
        print(f"{name}:")
        for m in ("cold", "resident_first", "resident_second", "bare"):
            print(f"  {m:16s} " + ", ".join(f"{k2} {v}" for k2, v in b[m].items()))
        for k2, v in b["ratios"].items():
            print(f"  ratio {k2}: {v}")
    print(f"load average (1 min): {result['load_avg_1min_start']} at start, {result['load_avg_1min_end']} at end")


if __name__ == "__main__":
    main()
