"""What quantisation costs a built model on held-out security text: perplexity of the f16 and the quantised
GGUF, and the mean KL divergence of the quantised model's next-token distribution from the f16 one's
(issue 26, item 4), both models evaluated by llama.cpp on the same token windows in one run.

Text: the WSTG chapters that answer the question set's test half (the data stage never trains on those
files, builder.eval_questions), cut into windows of `--ctx` tokens.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/bench_quant.py --export /work/cache/run26/export \
        [--base-export DIR] [--windows 24] [--ctx 512]

Prints one row per GGUF: perplexity, mean KL from f16 (nats/token), top-1 agreement with f16, tokens.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
QUESTIONS = ROOT / "bench/data/wstg_questions.jsonl"
CORPUS = ROOT.parent / "shared/devsets/knowledge/wstg/document"


def held_out_text() -> str:
    from builder.eval_questions import split_of

    names = set()
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if split_of(q["id"]) == "test":
            names.update(Path(f).name for f in q.get("files", []))
    paths = sorted(p for p in CORPUS.rglob("*.md") if p.name in names)
    return "\n\n".join(p.read_text(encoding="utf-8", errors="replace") for p in paths)


def log_softmax(x: np.ndarray) -> np.ndarray:
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def window_logprobs(llm, tokens: list[int]) -> np.ndarray:
    """log p(next token) over the vocabulary at each position of one window (positions 0..n-2)."""
    llm.reset()
    llm.eval(tokens)
    return log_softmax(np.asarray(llm.scores[: len(tokens) - 1], dtype=np.float64))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--export", type=Path, required=True, help="a run's export folder (model-f16.gguf + the quantised one)")
    ap.add_argument("--windows", type=int, default=24)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    import llama_cpp

    f16 = args.export / "model-f16.gguf"
    quant = [p for p in sorted(args.export.glob("model-*.gguf")) if p.name != f16.name]
    if not f16.is_file() or not quant:
        raise SystemExit(f"{args.export}: needs model-f16.gguf and a quantised model-*.gguf (run the export stage)")
    models = {p.name: llama_cpp.Llama(str(p), n_ctx=args.ctx, n_batch=args.ctx, logits_all=True, verbose=False)
              for p in [f16, *quant]}
    ref = models[f16.name]
    toks = ref.tokenize(held_out_text().encode("utf-8"), add_bos=False, special=False)
    step = args.ctx - 1
    windows = [[ref.token_bos()] + toks[i:i + step] for i in range(0, len(toks) - step, step)][: args.windows]
    stats = {name: {"nll": 0.0, "kl": 0.0, "agree": 0, "n": 0} for name in models}
    for w in windows:
        target = np.asarray(w[1:])
        lp_ref = window_logprobs(ref, w)
        for name, llm in models.items():
            lp = lp_ref if llm is ref else window_logprobs(llm, w)
            s = stats[name]
            s["nll"] -= float(lp[np.arange(len(target)), target].sum())
            s["kl"] += float((np.exp(lp_ref) * (lp_ref - lp)).sum())
            s["agree"] += int((lp.argmax(-1) == lp_ref.argmax(-1)).sum())
            s["n"] += len(target)
    out = {}
    print(f"{len(windows)} windows of {args.ctx} tokens of held-out WSTG text ({sum(len(w) - 1 for w in windows)} "
          f"predicted tokens)")
    print(f"{'gguf':<28} {'perplexity':>10} {'KL vs f16':>10} {'top-1 = f16':>12}")
    for name, s in stats.items():
        row = {"perplexity": round(math.exp(s["nll"] / s["n"]), 4), "kl_vs_f16": round(s["kl"] / s["n"], 5),
               "top1_agreement": round(s["agree"] / s["n"], 4), "tokens": s["n"],
               "bytes": (args.export / name).stat().st_size}
        out[name] = row
        print(f"{name:<28} {row['perplexity']:>10.3f} {row['kl_vs_f16']:>10.4f} {row['top1_agreement']:>12.3f}")
    ppl = [r["perplexity"] for r in out.values()]
    print(f"quantised / f16 perplexity: {ppl[1] / ppl[0]:.4f}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
