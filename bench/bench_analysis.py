"""Benchmark secure-code analysis.

1. Static-only throughput of `analyze_path(tree, use_model=False)` on a real source tree
   (default: a package in this venv's site-packages), in files/s and lines/s, against running
   Bandit and Semgrep directly (their own CLIs, same rules, same tree) in the same run.
2. Model mode on a bundle (default: the starter bundle): seconds per snippet (p50/p95) and tokens/s.

    .venv/bin/python bench/bench_analysis.py
    .venv/bin/python bench/bench_analysis.py --tree .venv/lib/python3.11/site-packages/rich --snippets 6
    .venv/bin/python bench/bench_analysis.py --skip-model --json /tmp/bench.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _lines(files: list[Path]) -> int:
    n = 0
    for f in files:
        try:
            with open(f, "rb") as fh:
                n += sum(1 for _ in fh)
        except OSError:
            pass
    return n


def bench_static(src: Path, repeat: int) -> dict:
    import shutil
    import tempfile

    from app.analysis import analyze_path
    from app.analysis.semgrep_runner import RULES_DIR, _env, semgrep_binary
    from app.analysis.walker import walk

    # Work on a copy outside any venv/.gitignore'd folder so that every tool sees the same files
    # (Semgrep's own defaults would skip a tree under .venv), without caches (__pycache__).
    tmp = Path(tempfile.mkdtemp(prefix="bastion-bench-"))
    tree = tmp / src.name
    shutil.copytree(src, tree, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    files, _ = walk(tree, max_bytes=2_000_000)
    lines = _lines(files)
    bin_dir = Path(sys.executable).parent
    ours, direct_semgrep, direct_bandit = [], [], []
    n_findings = 0
    scanned = {}
    for _ in range(repeat):
        t0 = time.perf_counter()
        reports = analyze_path(tree, use_model=False)
        ours.append(time.perf_counter() - t0)
        n_findings = sum(len(r.findings) for r in reports)

        t0 = time.perf_counter()
        out = subprocess.run([semgrep_binary(), "scan", "--config", str(RULES_DIR), "--json", "--quiet", "--metrics=off",
                              "--disable-version-check", "--no-git-ignore", str(tree)],
                             capture_output=True, text=True, env=_env())
        direct_semgrep.append(time.perf_counter() - t0)
        scanned["semgrep_direct_files"] = len(json.loads(out.stdout or "{}").get("paths", {}).get("scanned", []))

        t0 = time.perf_counter()
        out = subprocess.run([str(bin_dir / "bandit"), "-r", str(tree), "-f", "json", "-q"], capture_output=True, text=True)
        direct_bandit.append(time.perf_counter() - t0)
        try:
            scanned["bandit_direct_files"] = len(json.loads(out.stdout).get("metrics", {})) - 1
        except json.JSONDecodeError:
            scanned["bandit_direct_files"] = None
    t_ours, t_sg, t_b = min(ours), min(direct_semgrep), min(direct_bandit)
    shutil.rmtree(tmp, ignore_errors=True)
    return {
        "tree": str(src), "files": len(files), "lines": lines, "findings": n_findings, **scanned,
        "ours_s": round(t_ours, 2), "semgrep_direct_s": round(t_sg, 2), "bandit_direct_s": round(t_b, 2),
        "files_per_s": round(len(files) / t_ours, 1), "lines_per_s": round(lines / t_ours),
        "overhead_vs_sequential_direct": round(t_ours / (t_sg + t_b), 3),
        "overhead_vs_slowest_direct": round(t_ours / max(t_sg, t_b), 3),
        "repeat": repeat,
    }


def bench_model(bundle: Path, n: int) -> dict:
    from app.analysis import analyze_code
    from app.runtime import make_engine, open_bundle
    from app.settings import load_settings

    settings = load_settings(bundle=bundle)
    engine = make_engine(settings, open_bundle(settings))
    t0 = time.perf_counter()
    engine.load()
    load_s = time.perf_counter() - t0
    data = ROOT / "tests" / "data" / "analysis_eval"
    cases = [json.loads(l) for l in (data / "cases.jsonl").read_text().splitlines() if l.strip()]
    picked, langs = [], set()
    for c in cases:  # one vulnerable snippet per language first
        if c["vulnerable"] and c["lang"] not in langs:
            picked.append(c)
            langs.add(c["lang"])
    picked = picked[:n]
    per, model_s, tps, toks = [], [], [], []
    verdicts = {"confirm": 0, "dispute": 0, "none": 0}
    patches = {"model_proposed": 0, "model_verified": 0, "rule_proposed": 0, "rule_verified": 0, "model_only_findings": 0}
    for c in picked:
        path = data / c["file"]
        t0 = time.perf_counter()
        rep = analyze_code(path.read_text(), filename=path.name, engine=engine)
        per.append(time.perf_counter() - t0)
        model_s.append(rep.timings.get("model", 0.0))
        if rep.timings.get("model_tokens_per_s"):
            tps.append(rep.timings["model_tokens_per_s"])
        toks.append(rep.timings.get("model_tokens", 0))
        for f in rep.findings:
            if f.source == "model":
                patches["model_only_findings"] += 1
                continue
            verdicts[f.model_verdict or "none"] += 1
            if f.fix.code is not None:
                patches[f"{f.fix.author}_proposed"] += 1
                patches[f"{f.fix.author}_verified"] += f.fix.verified
        print(f"  {c['id']}: {per[-1]:.1f}s total, model {model_s[-1]:.1f}s, {toks[-1]:.0f} tokens", file=sys.stderr)

    def pct(xs, q):
        xs = sorted(xs)
        return round(xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))], 2) if xs else None

    return {"bundle": str(bundle), "snippets": len(picked), "load_s": round(load_s, 2),
            "s_per_snippet_p50": pct(per, 0.5), "s_per_snippet_p95": pct(per, 0.95),
            "model_s_p50": pct(model_s, 0.5), "model_s_p95": pct(model_s, 0.95),
            "tokens_per_s_mean": round(statistics.mean(tps), 2) if tps else None,
            "completion_tokens_mean": round(statistics.mean(toks), 1) if toks else None,
            "static_findings_model_verdicts": verdicts, "patches": patches}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    site = Path(sysconfig.get_paths()["purelib"])
    ap.add_argument("--tree", type=Path, default=site / "rich")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--bundle", type=Path, default=Path("/tmp/bh/bundles/starter"))
    ap.add_argument("--snippets", type=int, default=6)
    ap.add_argument("--skip-model", action="store_true")
    ap.add_argument("--skip-static", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    os.environ.setdefault("BASTION_HOME", "/tmp/bastion-bench-home")
    out = {"cpus": os.cpu_count()}
    if not args.skip_static:
        s = out["static"] = bench_static(args.tree.resolve(), args.repeat)
        print(f"static-only on {s['tree']}: {s['files']} files, {s['lines']} lines, {s['findings']} findings")
        print(f"  bastion analyze_path: {s['ours_s']}s = {s['files_per_s']} files/s, {s['lines_per_s']} lines/s")
        print(f"  direct: semgrep {s['semgrep_direct_s']}s ({s.get('semgrep_direct_files')} files), "
              f"bandit {s['bandit_direct_s']}s")
        print(f"  overhead ratio vs running both directly one after the other: {s['overhead_vs_sequential_direct']} "
              f"(vs the slower one alone: {s['overhead_vs_slowest_direct']})")
    if not args.skip_model:
        m = out["model"] = bench_model(args.bundle, args.snippets)
        print(f"model mode ({m['bundle']}, {m['snippets']} snippets, load {m['load_s']}s): "
              f"{m['s_per_snippet_p50']}s p50 / {m['s_per_snippet_p95']}s p95 per snippet "
              f"(model part {m['model_s_p50']}s / {m['model_s_p95']}s), {m['tokens_per_s_mean']} tokens/s, "
              f"{m['completion_tokens_mean']} tokens per answer")
        print(f"  model verdicts on static findings: {m['static_findings_model_verdicts']}; patches: {m['patches']}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
