"""`bastion serve` under N concurrent clients on loopback: throughput and latency.

    python bench/bench_serve.py [--bundle DIR] [--clients 1,2,4,8] [--requests 8] [--max-tokens 32]

Starts `bastion serve` as a subprocess on 127.0.0.1 (a free port), waits for it, then
for each client count N runs `--requests` chat completions per level from N threads
with the official `openai` client (bounded by `--time-limit` seconds per level).
Prints requests/s, completion tokens/s, p50/p95 latency and time to first token
(streamed), and each level's throughput as a ratio of the 1-client baseline measured
in the same run. One llama.cpp context serves every request in turn, so throughput
should stay flat (ratio ~1) while latency grows with N; the queue bound keeps it finite.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "What is SQL injection and how do I prevent it?",
    "How does cross-site scripting work?",
    "What is a path traversal vulnerability?",
    "How should passwords be stored?",
    "What is server-side request forgery?",
    "Why is deserialization of untrusted data dangerous?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(bundle: Path | None, port: int, queue: int) -> subprocess.Popen:
    import httpx

    cmd = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port), "--queue", str(queue)]
    if bundle:
        cmd += ["--bundle", str(bundle)]
    env = dict(os.environ, BASTION_HOME=os.environ.get("BASTION_HOME") or tempfile.mkdtemp(prefix="bench-serve-"))
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bastion serve exited: {proc.stderr.read()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("bastion serve did not come up in 180 s")


def one_request(client, i: int, max_tokens: int, rag: bool = True) -> tuple[float, float | None, int]:
    """(latency, ttft, completion tokens) for one streamed completion."""
    t0 = time.perf_counter()
    ttft = None
    tokens = 0
    stream = client.chat.completions.create(
        model="default", messages=[{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}],
        max_tokens=max_tokens, temperature=0.0, stream=True, stream_options={"include_usage": True},
        extra_body=None if rag else {"rag": False})
    for ch in stream:
        if ch.choices and ch.choices[0].delta.content and ttft is None:
            ttft = time.perf_counter() - t0
        if ch.usage:
            tokens = ch.usage.completion_tokens
    return time.perf_counter() - t0, ttft, tokens


def level(url: str, n: int, requests: int, max_tokens: int, time_limit: float, rag: bool = True) -> dict:
    import openai

    client = openai.OpenAI(base_url=url, api_key="bench", max_retries=0, timeout=600)
    results: list[tuple[float, float | None, int]] = []
    errors: list[str] = []
    counter = iter(range(requests))
    lock = threading.Lock()
    t_start = time.perf_counter()

    def worker() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None or time.perf_counter() - t_start > time_limit:
                return
            try:
                r = one_request(client, i, max_tokens, rag)
            except Exception as exc:  # a 429 or a dropped connection is a result too
                with lock:
                    errors.append(exc.__class__.__name__)
                continue
            with lock:
                results.append(r)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t_start
    lat = sorted(r[0] for r in results)
    ttfts = sorted(r[1] for r in results if r[1] is not None)
    toks = sum(r[2] for r in results)
    pct = lambda xs, q: xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else float("nan")  # noqa: E731
    return {"clients": n, "done": len(results), "errors": len(errors), "wall_s": wall,
            "req_per_s": len(results) / wall, "tok_per_s": toks / wall,
            "p50_s": statistics.median(lat) if lat else float("nan"), "p95_s": pct(lat, 0.95),
            "ttft_p50_s": statistics.median(ttfts) if ttfts else float("nan"), "ttft_p95_s": pct(ttfts, 0.95)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", type=Path, default=None, help="bundle directory (default: the starter bundle)")
    ap.add_argument("--clients", default="1,2,4,8")
    ap.add_argument("--requests", type=int, default=8, help="requests per level")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per level before no new request starts")
    ap.add_argument("--queue", type=int, default=16)
    ap.add_argument("--no-rag", action="store_true", help="plain chat (no retrieval, short prompts)")
    args = ap.parse_args()

    port = free_port()
    proc = start_server(args.bundle, port, args.queue)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        level(url, 1, 1, 8, 60)  # warm-up: first-request costs (grammar, caches) out of the figures
        rows = [level(url, int(n), max(args.requests, int(n)), args.max_tokens, args.time_limit, not args.no_rag)
                for n in args.clients.split(",")]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    base = rows[0]["req_per_s"] or float("nan")
    print(f"bastion serve on 127.0.0.1, {'plain chat' if args.no_rag else 'RAG'}, {args.max_tokens} max tokens/answer, "
          f"{args.requests} requests per level; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'clients':>7} {'done':>5} {'err':>4} {'req/s':>7} {'tok/s':>7} {'p50 s':>7} {'p95 s':>7} "
          f"{'ttft50':>7} {'ttft95':>7} {'vs 1 client':>11}")
    for r in rows:
        print(f"{r['clients']:>7} {r['done']:>5} {r['errors']:>4} {r['req_per_s']:>7.2f} {r['tok_per_s']:>7.1f} "
              f"{r['p50_s']:>7.2f} {r['p95_s']:>7.2f} {r['ttft_p50_s']:>7.2f} {r['ttft_p95_s']:>7.2f} "
              f"{r['req_per_s'] / base:>10.2f}x")


if __name__ == "__main__":
    main()
