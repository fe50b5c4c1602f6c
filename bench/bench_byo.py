"""Bring-your-own-model: create a bundle from a GGUF you did not make, and compare it with the starter.

    .venv/bin/python bench/bench_byo.py [--llm GGUF] [--name NAME] [--json OUT]

--llm defaults to BASTION_BENCH_LLM (e.g. the yardstick, /work/cache/yardstick/model.gguf;
fetch it with bench/fetch_yardstick.sh). Benchmarks only: never a test dependency.

Same run, same machine: the time `bundle create` takes (header check, template check,
link/copy, smoke test, sealing), the GGUF header check alone, and the smoke figures
(load, time to first token, tokens/s) of the new bundle next to the starter's.
Grounded-answer rate and analysis precision/recall come from bench/eval_answers.py
and bench/eval_analysis.py run with `--bundle` / `--model` on each bundle.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llm", type=Path, default=os.environ.get("BASTION_BENCH_LLM") or None)
    ap.add_argument("--name", default="byo-bench")
    ap.add_argument("--home", type=Path, default=None, help="BASTION_HOME to use (default: the current one)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if not args.llm or not args.llm.is_file():
        sys.exit("give --llm GGUF or set BASTION_BENCH_LLM (see bench/fetch_yardstick.sh)")
    if args.home:
        os.environ["BASTION_HOME"] = str(args.home)

    from app import paths
    from app.bundle import load_bundle
    from app.bundle.create import ModelSource, create_bundle
    from app.bundle.smoke import smoke_test
    from app.llm.gguf_check import check_gguf

    out: dict = {"llm": str(args.llm), "size_bytes": args.llm.stat().st_size}
    t = time.perf_counter()
    check_gguf(args.llm)
    out["header_check_s"] = round(time.perf_counter() - t, 3)

    starter = load_bundle(paths.starter_bundle_dir())
    out["starter"] = smoke_test(starter.llm_path, n_ctx=2048, stop=list(starter.manifest.chat.stop))

    t = time.perf_counter()
    dest = create_bundle(args.name, ModelSource(gguf=args.llm, kind="file", ref=str(args.llm)), force=True,
                         progress=lambda m: print(m, file=sys.stderr))
    out["create_s"] = round(time.perf_counter() - t, 2)
    m = load_bundle(dest).manifest
    out["bundle"] = {k: v for k, v in m.metrics.items() if k.startswith(("smoke.", "llm.", "fit.", "create.", "sampling."))}
    out["bundle"]["context_length"] = m.context_length
    out["bundle"]["stop"] = m.chat.stop
    s, b = out["starter"], out["bundle"]
    print(f"header check {out['header_check_s']:.2f}s; create {out['create_s']:.1f}s "
          f"({b['llm.link']}, {out['size_bytes'] / 1e9:.2f} GB)")
    print(f"{'':10} {'load s':>8} {'TTFT s':>8} {'tok/s':>8}")
    print(f"{'starter':10} {s['load_s']:8.2f} {s['ttft_s']:8.2f} {s['tokens_per_s']:8.1f}")
    print(f"{args.name:10} {b['smoke.load_s']:8.2f} {b['smoke.ttft_s']:8.2f} {b['smoke.tokens_per_s']:8.1f}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
