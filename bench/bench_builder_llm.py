"""Benchmark: the tiny (smollm2-135m) data → train → export run on CPU, with its figures.

    .venv/bin/python bench/bench_builder_llm.py [--steps 8] [--run DIR]

Runs the three stages in a child process (so its wall time and peak RSS are measured as a
whole), then prints: wall time and peak RSS, training tokens/s, merge/conversion/quantization
times, GGUF size vs f16 (the baseline), next-token agreement of the f16 and quantized GGUF with
the merged HF model, and llama.cpp generation speed of the quantized GGUF relative to the f16
one (measured here in the same run).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import sys
from builder.profiles import load_profile
from builder.rundir import RunDir
from builder.stages.data.stage import run_data
from builder.stages.train.stage import run_train
from builder.stages.export.stage import run_export
p = load_profile("smollm2-135m")
run = RunDir(sys.argv[1], profile=p.name)
say = lambda m: print("·", m, file=sys.stderr, flush=True)
run_data(run, p, progress=say, force=True)
run_train(run, p, backend="hf", overrides={"max_steps": int(sys.argv[2])}, progress=say, force=True)
run_export(run, p, progress=say, force=True)
"""


def _gen_speed(path: Path) -> float:
    from app.llm.engine import EngineConfig, LlamaEngine

    eng = LlamaEngine(path, EngineConfig(n_ctx=1024, max_tokens=64, temperature=0.0))
    try:
        gen = eng.chat([{"role": "user", "content": "List three common web vulnerabilities and one fix for each."}],
                       max_tokens=64)
        gen.result()
        return gen.stats.tokens_per_s
    finally:
        eng.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--run", type=Path, default=None)
    a = ap.parse_args()
    run = a.run or Path(tempfile.mkdtemp(prefix="bench-builder-")) / "run"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(run), str(a.steps)], env=env)
    wall = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(proc.returncode)
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    tr = json.loads((run / "train" / "train_metrics.json").read_text())
    ex = json.loads((run / "export" / "export_report.json").read_text())
    v = ex["verify"]
    q_speed = _gen_speed(run / "export" / f"model-{ex['quant']}.gguf")
    f_speed = _gen_speed(run / "export" / "model-f16.gguf")
    print(f"run dir                      {run}")
    print(f"end-to-end wall (CPU)        {wall:.1f} s   (target < 600 s)")
    print(f"peak RSS (largest process)   {rss_mb:.0f} MiB   (target < 8192 MiB)")
    print(f"training                     {tr['global_step']} steps, {tr['tokens_trained']} tokens, "
          f"{tr['tokens_per_s']} tokens/s, val loss {tr.get('eval_loss_before')} -> {tr.get('eval_loss_after')}")
    print(f"merge                        {ex['merge']['seconds']} s, max |logit diff| {ex['merge']['merge_max_abs_logit_diff']:.2e}")
    print(f"conversion to f16 GGUF       {ex['convert_s']} s")
    print(f"quantization to {ex['quant']:8}     {ex.get('quantize_s')} s")
    print(f"GGUF size                    f16 {ex['f16_bytes'] / 2**20:.1f} MiB (baseline) -> {ex['quant']} "
          f"{ex['quant_bytes'] / 2**20:.1f} MiB, ratio {ex['size_ratio']:.3f}")
    print(f"tokenizer parity             {v['tokenizer']['matched']}/{v['tokenizer']['probes']} probe texts")
    print(f"next-token agreement         f16 {v['agreement_f16']['rate']} ({v['agreement_f16']['agreed']}/"
          f"{v['agreement_f16']['positions']}), {ex['quant']} {v['agreement_quant']['rate']}")
    print(f"chat ends at stop token      {v['chat']['ends_at_stop']} ({v['chat']['finish_reason']})")
    print(f"generation speed             f16 {f_speed:.1f} tok/s (baseline), {ex['quant']} {q_speed:.1f} tok/s, "
          f"ratio {q_speed / f_speed if f_speed else float('nan'):.2f}")


if __name__ == "__main__":
    main()
