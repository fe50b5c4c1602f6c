"""TUI figures: cold start to first paint, Enter-to-first-visible-token overhead, idle memory.

Usage: python bench/bench_tui.py --bundle DIR [--runs 3]

1. Cold start: the real `bastion` binary in tmux; time from spawn until the chat screen is on
   the terminal (first paint), and until the status line says the model is ready. Baseline in
   the same run: a bare `python -c "import textual"` process start.
2. Enter to first visible token: the real app under `App.run_test()`, the model already loaded;
   for each question the time from the Enter key to the first answer piece drawn, against the
   engine's own time to first token for that same generation (GenStats.ttft_s). The overhead
   (difference) is UI + prompt assembly/tokenising (+ retrieval with knowledge on).
3. Idle memory: RSS of the `bastion` process after the model loaded, against a bare
   llama-cpp-python process holding the same model (same n_ctx).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BIN = Path(sys.executable).with_name("bastion")
QUESTIONS = ["What is SQL injection?", "Name one way to prevent XSS.", "What does CWE-22 describe?"]


def _capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


def _descendant_rss_kb(pid: int) -> int:
    """RSS of the largest process under `pid` (the bastion python process)."""
    best = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        todo += [int(c) for c in children]
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                best = max(best, int(line.split()[1]))
    return best


def cold_start(bundle: Path, runs: int) -> dict:
    if not shutil.which("tmux"):
        return {"skipped": "tmux not installed"}
    paint, ready, rss = [], [], []
    for _ in range(runs):
        home = Path(tempfile.mkdtemp(prefix="bench-tui-"))
        (home / "config.toml").write_text(f'bundle = "{bundle}"\n[engine]\nn_ctx = 2048\n')
        session = f"bench-{uuid.uuid4().hex[:8]}"
        t0 = time.perf_counter()
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "36",
                        f"env BASTION_HOME={home} {BIN}; sleep 30"], check=True)
        t_paint = t_ready = None
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline and t_ready is None:
            screen = _capture(session)
            now = time.perf_counter()
            if t_paint is None and "History" in screen and "tok/s" in screen:
                t_paint = now - t0
            if "ready │" in screen:
                t_ready = now - t0
            time.sleep(0.01)
        if t_ready is None:
            print("bastion did not become ready; screen was:\n" + _capture(session), file=sys.stderr)
        time.sleep(1.0)  # idle
        pane_pid = int(subprocess.run(["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"],
                                      capture_output=True, text=True).stdout.split()[0])
        rss.append(_descendant_rss_kb(pane_pid) / 1024)
        subprocess.run(["tmux", "send-keys", "-t", session, "C-q"])
        time.sleep(0.5)
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)
        paint.append(t_paint or float("nan"))
        ready.append(t_ready or float("nan"))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import textual.app"], check=True)
    bare = time.perf_counter() - t0
    return {"first_paint_s": statistics.median(paint), "model_ready_s": statistics.median(ready),
            "idle_rss_mb": statistics.median(rss), "baseline_python_textual_import_s": bare,
            "runs": runs}


def bare_llama_rss(bundle: Path) -> float:
    code = ("import llama_cpp,sys,time;l=llama_cpp.Llama(model_path=sys.argv[1],n_ctx=2048,verbose=False);"
            "print(open('/proc/self/status').read())")
    out = subprocess.run([sys.executable, "-c", code, str(bundle / "llm.gguf")], capture_output=True, text=True).stdout
    return next(int(l.split()[1]) for l in out.splitlines() if l.startswith("VmRSS:")) / 1024


async def first_token(bundle: Path, kb: str) -> dict:
    from app.settings import Settings
    from app.tui.app import make_app

    os.environ["BASTION_HOME"] = tempfile.mkdtemp(prefix="bench-tui-")
    app = make_app(Settings(bundle=bundle, engine={"n_ctx": 2048, "max_tokens": 16}), cursor_blink=False)
    rows = []
    async with app.run_test(size=(120, 36)) as pilot:
        while not app.engine_ready.is_set() or app.chat_screen is None:
            await pilot.pause(0.05)
        chat = app.chat_screen
        select = chat.query_one("#kb")
        while not any(v == kb for _, v in select._options):
            await pilot.pause(0.05)
        select.value = kb
        await pilot.pause(0.5)
        for q in QUESTIONS:
            await chat.action_new_chat()
            chat.query_one("#input").text = q
            await pilot.press("enter")
            while not chat.turn_done.is_set() or chat.busy:
                await pilot.pause(0.01)
            t = chat.timing
            if "first_visible" in t and t.get("engine_ttft"):
                visible = t["first_visible"] - t["enter"]
                rows.append((visible, t["engine_ttft"]))
    visible = statistics.median(r[0] for r in rows)
    ttft = statistics.median(r[1] for r in rows)
    return {"kb": kb, "enter_to_visible_ms": visible * 1000, "engine_ttft_ms": ttft * 1000,
            "overhead_ms": (visible - ttft) * 1000, "ratio": visible / ttft, "questions": len(rows)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--kb", action="append", help="knowledge choices to time (default: none and bundle)")
    ap.add_argument("--skip-cold", action="store_true", help="only time Enter-to-first-token")
    args = ap.parse_args()
    bundle = args.bundle.resolve()
    for kb in args.kb or ["none", "bundle"]:
        r = asyncio.run(first_token(bundle, kb))
        print(f"Enter to first visible token (knowledge={kb}): {r['enter_to_visible_ms']:.0f} ms vs engine TTFT "
              f"{r['engine_ttft_ms']:.0f} ms -> overhead {r['overhead_ms']:.0f} ms (ratio {r['ratio']:.2f}, "
              f"median of {r['questions']})", flush=True)
    if args.skip_cold:
        return
    cs = cold_start(bundle, args.runs)
    print(f"cold start to first paint: {cs.get('first_paint_s', float('nan')):.2f} s "
          f"(model ready {cs.get('model_ready_s', float('nan')):.2f} s; baseline python+textual import "
          f"{cs.get('baseline_python_textual_import_s', float('nan')):.2f} s)")
    bare = bare_llama_rss(bundle)
    print(f"idle RSS: {cs.get('idle_rss_mb', float('nan')):.0f} MB vs bare llama-cpp-python with the model "
          f"{bare:.0f} MB (ratio {cs.get('idle_rss_mb', float('nan')) / bare:.2f})")


if __name__ == "__main__":
    main()
