"""Two llama.cpp builds on the same machine: prompt evaluation, decoding and embedding speed.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/bench_build.py --other DIR [--model GGUF] [--rounds 3]

DIR is a site folder holding another llama-cpp-python build (e.g. one compiled with
`pip install --target DIR --no-binary llama-cpp-python` and other CMAKE_ARGS). Each
measurement runs in its own process, the installed build and DIR's alternating
(A B A B ...), so load on the machine slows both alike; medians and ratios other/installed
are printed. What `packaging/venv.sh` compiles is chosen by `app/llm/cpu_build.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
WSTG = ROOT.parent / "shared" / "devsets" / "knowledge" / "wstg" / "document"
PAGE = WSTG / "4-Web_Application_Security_Testing" / "07-Input_Validation_Testing" / "05-Testing_for_SQL_Injection.md"


def worker(model: str, embedder: str, n_prompt: int, n_chunks: int) -> dict:
    import llama_cpp

    from app.knowledge import chunk_document, load_file
    from app.knowledge.chunking import ChunkOptions
    from app.llm.embedder import Embedder
    from app.llm.native_log import silence_native_logs

    silence_native_logs()
    llm = llama_cpp.Llama(model_path=model, n_ctx=2048, n_batch=512, verbose=False)
    toks = llm.tokenize(PAGE.read_text(encoding="utf-8").encode("utf-8"))[:n_prompt]
    t = time.perf_counter()
    llm.eval(toks)
    prefill = len(toks) / (time.perf_counter() - t)
    t = time.perf_counter()
    for tok in toks[:16]:
        llm.eval([tok])
    decode = 16 / (time.perf_counter() - t)
    llm.close()
    emb = Embedder(Path(embedder), fingerprint="bench", max_tokens=256)
    files = sorted(WSTG.rglob("*.md"))[:30]
    opts = ChunkOptions(max_tokens=200, overlap_tokens=32)
    texts = [c.embed_text for f in files for c in chunk_document(load_file(f), count_tokens=emb.count_tokens,
                                                                 options=opts)][:n_chunks]
    t = time.perf_counter()
    for i in range(0, len(texts), 32):
        emb.embed(texts[i:i + 32])
    embed = len(texts) / (time.perf_counter() - t)
    return {"features": llama_cpp.llama_print_system_info().decode().strip(), "prompt_tokens": len(toks),
            "prefill_tok_s": prefill, "decode_tok_s": decode, "chunks": len(texts), "embed_chunks_s": embed}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--other", type=Path, required=True, help="site folder with the other llama-cpp-python build")
    ap.add_argument("--model", type=Path, help="chat GGUF (default: the configured bundle's)")
    ap.add_argument("--embedder", type=Path, help="embedding GGUF (default: the configured bundle's)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--prompt-tokens", type=int, default=600)
    ap.add_argument("--chunks", type=int, default=300)
    ap.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._worker:
        print(json.dumps(worker(str(args.model), str(args.embedder), args.prompt_tokens, args.chunks)))
        return 0
    if not args.model or not args.embedder:
        from app.bundle import load_bundle
        from app.settings import load_settings

        bundle = load_bundle(load_settings().bundle_path())
        args.model = args.model or bundle.file(bundle.manifest.llm.path)
        args.embedder = args.embedder or bundle.file(bundle.manifest.embedder.path)
    builds = {"installed": "", "other": str(args.other.resolve())}
    rows: dict[str, list[dict]] = {k: [] for k in builds}
    for r in range(args.rounds):
        for name, site in builds.items():
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (site, str(ROOT)) if p))
            cmd = [sys.executable, __file__, "--_worker", "--model", str(args.model), "--embedder", str(args.embedder),
                   "--prompt-tokens", str(args.prompt_tokens), "--chunks", str(args.chunks), "--other", site or "."]
            res = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if res.returncode != 0:
                raise SystemExit(f"{name} failed (rc {res.returncode}):\n{res.stderr[-3000:]}")
            row = json.loads(res.stdout.strip().splitlines()[-1])
            rows[name].append(row)
            print(f"  round {r + 1} {name:9s} prefill {row['prefill_tok_s']:6.1f} tok/s  decode "
                  f"{row['decode_tok_s']:5.1f} tok/s  embed {row['embed_chunks_s']:5.1f} chunks/s", file=sys.stderr)
    keys = ("prefill_tok_s", "decode_tok_s", "embed_chunks_s")
    med = {n: {k: round(statistics.median(x[k] for x in rs), 2) for k in keys} for n, rs in rows.items()}
    out = {"model": str(args.model), "embedder": str(args.embedder), "rounds": args.rounds,
           "load_avg": os.getloadavg(), "features": {n: rs[0]["features"] for n, rs in rows.items()},
           "medians": med, "ratios_other_over_installed": {k: round(med["other"][k] / med["installed"][k], 2)
                                                           for k in keys}}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
