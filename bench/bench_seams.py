"""Issue 28: the restructuring (one grounded-chat service, typed sources) is not slower than before.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/bench_seams.py --base-tree DIR [--bundle DIR] [--rounds 5]

`--base-tree` is a checkout of the commit before the change (`git worktree add /tmp/base <commit>`); both
trees run on this venv (`PYTHONPATH` picks the tree), interleaved base/head/base/head so a loaded machine
slows both alike. Each tree has its own cache folder and its prompt cache is emptied before every run, so
every `ask` is a first question (no prefill skipped). Measured per run:

  ask        `python -m app ask --json Q` with knowledge: wall time, and the engine's TTFT and the time from
             process start to the first piece (what the user waits for)
  ask-plain  the same with `--no-rag` (the service's plain path)
  help       `python -m app --help` wall time
  import     `import app.knowledge, app.serve.api, app.tui.app` wall time

Prints medians per tree and head/base ratios (≤ 1.05 reads as "not slower", given run-to-run noise).
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

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ["How do I prevent SQL injection in Python?", "What is server-side request forgery and how is it blocked?",
             "How should passwords be stored?", "What does a Content-Security-Policy header do?",
             "How do I avoid path traversal when serving files?"]
MAX_TOKENS = "48"


def _env(tree: Path, cache: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree), "BASTION_CACHE": str(cache), "OMP_WAIT_POLICY": "PASSIVE"}


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr[-2000:]}")
    return wall, out.stdout


def run_once(tree: Path, cache: Path, bundle: str | None, question: str) -> dict[str, float]:
    shutil.rmtree(cache / "prompt-cache", ignore_errors=True)
    env = _env(tree, cache)
    py = sys.executable
    base = [py, "-m", "app"] + (["--bundle", bundle] if bundle else [])
    res: dict[str, float] = {}
    wall, out = _timed(base + ["ask", "--json", "--max-tokens", MAX_TOKENS, question], env)
    timings = json.loads(out)["timings"]
    res["ask"] = wall
    res["ask ttft"] = timings["ttft_s"] or 0.0
    shutil.rmtree(cache / "prompt-cache", ignore_errors=True)
    wall, _ = _timed(base + ["ask", "--json", "--no-rag", "--max-tokens", MAX_TOKENS, question], env)
    res["ask-plain"] = wall
    res["help"], _ = _timed([py, "-m", "app", "--help"], env)
    res["import"], _ = _timed([py, "-c", "import app.knowledge, app.serve.api, app.tui.app"], env)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-tree", type=Path, required=True)
    ap.add_argument("--bundle", default=None)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    trees = {"base": a.base_tree.resolve(), "head": ROOT}
    caches = {name: Path(tempfile.mkdtemp(prefix=f"seams-{name}-")) for name in trees}
    for name in trees:  # warm-up: the private copy of the bundle index is made once per cache folder
        run_once(trees[name], caches[name], a.bundle, QUESTIONS[0])
    results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    load = os.getloadavg()[0]
    for r in range(a.rounds):
        q = QUESTIONS[r % len(QUESTIONS)]
        order = ["base", "head"] if r % 2 == 0 else ["head", "base"]
        for name in order:
            results[name].append(run_once(trees[name], caches[name], a.bundle, q))
    print(f"bench_seams: {a.rounds} rounds, interleaved; load average at start {load:.2f}; cpus {os.cpu_count()}")
    print(f"{'figure':<12}{'base (s)':>10}{'head (s)':>10}{'head/base':>11}")
    for key in results["base"][0]:
        b = statistics.median(x[key] for x in results["base"])
        h = statistics.median(x[key] for x in results["head"])
        print(f"{key:<12}{b:>10.3f}{h:>10.3f}{(h / b if b else float('nan')):>11.2f}")
    for c in caches.values():
        shutil.rmtree(c, ignore_errors=True)


if __name__ == "__main__":
    main()
