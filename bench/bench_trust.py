"""Does the model layer ever make analysis worse? Static-only vs hybrid on the OWASP Benchmark for Python.

Same run, same cases, same static evidence: the static reports are computed once and the hybrid
mode runs the model layer on copies of them. Reported for both modes: precision / recall / F1
(a case counts as flagged when a counted finding's CWE is in the case's CWE family), plus for
hybrid: model-only CRITICAL findings (must be 0), true positives lost to a model dispute (must be
0), disputes of true findings (the label stood), explanations replaced, and the fix state of every
finding (verified / proposed / none; JSONL per finding with --out).

The split is the one bench/eval_analysis.py uses: a case is in the test half when the first byte
of sha256(file name) is odd. Report the test half (the default).

    .venv/bin/python bench/bench_trust.py --limit 60                     # starter model (SmolLM2-135M)
    .venv/bin/python bench/bench_trust.py --llm /work/cache/yardstick/model.gguf --limit 60
    BASTION_BENCH_LLM=/path/model.gguf .venv/bin/python bench/bench_trust.py --static-only
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_PY = ROOT.parent / "shared" / "devsets" / "analysis" / "benchmark-python"


def split_of(name: str) -> str:
    return "test" if hashlib.sha256(name.encode("utf-8")).digest()[0] % 2 else "tune"


def load_cases(root: Path, split: str) -> list[dict]:
    cases = []
    with open(root / "expectedresults-0.1.csv", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            if not row or row[0].startswith("#"):
                continue
            name, cat, real, cwe = row[0].strip(), row[1].strip(), row[2].strip() == "true", f"CWE-{row[3].strip()}"
            path = root / "testcode" / f"{name}.py"
            if path.is_file() and (split == "all" or split_of(path.name) == split):
                cases.append({"name": name, "path": path, "category": cat, "vuln": real, "cwe": cwe})
    return cases


def stratified(cases: list[dict], limit: int) -> list[dict]:
    """`limit` cases spread over categories and over vulnerable/safe, deterministic."""
    groups: dict[tuple, list[dict]] = {}
    for c in sorted(cases, key=lambda c: hashlib.sha256(c["name"].encode()).hexdigest()):
        groups.setdefault((c["category"], c["vuln"]), []).append(c)
    out: list[dict] = []
    i = 0
    while len(out) < limit and any(i < len(g) for g in groups.values()):
        for key in sorted(groups):
            if i < len(groups[key]) and len(out) < limit:
                out.append(groups[key][i])
        i += 1
    return out


def _family(cwe: str) -> set[str]:
    from app.analysis.cwe import FAMILIES

    fam = {cwe}
    for f in FAMILIES:
        if cwe in f:
            fam |= f
    # the benchmark's categories and the CWE a rule may rightly report for them
    extra = {"CWE-328": {"CWE-327", "CWE-916"}, "CWE-327": {"CWE-328"}, "CWE-330": {"CWE-338"},
             "CWE-338": {"CWE-330"}, "CWE-94": {"CWE-95"}, "CWE-95": {"CWE-94"}, "CWE-614": {"CWE-1004"},
             "CWE-501": set(), "CWE-79": {"CWE-80"}}
    return fam | extra.get(cwe, set())


def flagged(case: dict, report) -> bool:
    fam = _family(case["cwe"])
    return any(f.counted and f.risk.cwe_id in fam for f in report.findings)


def scores(cases: list[dict], reports: dict[str, object]) -> dict:
    tp = fp = fn = tn = 0
    for c in cases:
        hit = flagged(c, reports[c["name"]])
        if c["vuln"]:
            tp, fn = tp + hit, fn + (not hit)
        else:
            fp, tn = fp + hit, tn + (not hit)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4)}


def fix_states(reports) -> dict:
    out = {"verified": 0, "proposed": 0, "none": 0}
    for r in reports:
        for f in r.findings:
            if not f.model_only:
                out[f.fix.state] += 1
    return out


def engine_for(llm: str | None):
    from app.llm.engine import EngineConfig, LlamaEngine

    if llm in (None, "", "starter"):
        from builder.sources import smollm2_gguf

        path = smollm2_gguf()
    else:
        path = Path(llm)
    eng = LlamaEngine(path, EngineConfig(n_ctx=4096, max_tokens=512, temperature=0.0))
    eng.load()
    return eng, path.name


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench-python", type=Path, default=BENCH_PY)
    ap.add_argument("--split", default="test", choices=["tune", "test", "all"])
    ap.add_argument("--limit", type=int, default=0, help="cases for both modes (0 = the whole split half)")
    ap.add_argument("--llm", default=os.environ.get("BASTION_BENCH_LLM", "starter"),
                    help="GGUF for the hybrid mode ('starter' = the starter bundle's SmolLM2-135M)")
    ap.add_argument("--static-only", action="store_true")
    ap.add_argument("--out", type=Path, help="folder for summary.json and findings.jsonl")
    args = ap.parse_args(argv)

    from app.analysis.analyzer import _model_and_verify, analyze_files

    if not (args.bench_python / "expectedresults-0.1.csv").is_file():
        print(f"benchmark not found at {args.bench_python}", file=sys.stderr)
        return 2
    cases = load_cases(args.bench_python, args.split)
    if args.limit:
        cases = stratified(cases, args.limit)
    by_path = {str(c["path"]): c for c in cases}
    t0 = time.perf_counter()
    static_reports = analyze_files([c["path"] for c in cases], use_model=False)
    t_static = time.perf_counter() - t0
    static = {by_path[r.filename]["name"]: r for r in static_reports if r.filename in by_path}
    summary: dict = {"split": args.split, "cases": len(cases), "vulnerable": sum(c["vuln"] for c in cases),
                     "static": {**scores(cases, static), "seconds_per_file": round(t_static / max(1, len(cases)), 3),
                                "fixes": fix_states(static.values())}}
    rows = [("static", c, static[c["name"]]) for c in cases]
    if not args.static_only:
        engine, name = engine_for(args.llm)
        hybrid_reports = [r.model_copy(deep=True) for r in static_reports]
        t1 = time.perf_counter()
        def progress(done: int, total: int, what: str, *_found: int) -> None:
            print(f"[{done}/{total}] {Path(what).name} {time.perf_counter() - t1:.0f}s", file=sys.stderr, flush=True)

        _model_and_verify(hybrid_reports, engine=engine, use_model=True, use_static=True, cancel=None,
                          progress=progress)
        for r in hybrid_reports:
            r.settle()
        t_hybrid = time.perf_counter() - t1
        hybrid = {by_path[r.filename]["name"]: r for r in hybrid_reports if r.filename in by_path}
        lost = [c["name"] for c in cases if c["vuln"] and flagged(c, static[c["name"]]) and not flagged(c, hybrid[c["name"]])]
        found = [f for r in hybrid.values() for f in r.findings]
        summary["hybrid"] = {
            **scores(cases, hybrid), "llm": name,
            "seconds_per_file_model": round(t_hybrid / max(1, len(cases)), 3),
            "model_only_findings": sum(f.model_only for f in found),
            "model_only_critical": sum(f.model_only and f.label == "critical" for f in found),
            "model_only_counted": sum(f.model_only and f.counted for f in found),
            "true_positives_lost_to_disputes": len(lost), "lost_cases": lost,
            "disputes": sum(f.model_verdict == "dispute" for f in found),
            "disputes_of_true_findings": sum(f.model_verdict == "dispute" and f.risk.cwe_id in _family(c["cwe"])
                                             for c in cases if c["vuln"] for f in hybrid[c["name"]].findings),
            "confirms": sum(f.model_verdict == "confirm" for f in found),
            "explanations_by_model": sum(f.explanation_by == "model" and not f.model_only for f in found),
            "fixes": fix_states(hybrid.values()),
            "model_patches": {"verified": sum(f.fix.author == "model" and f.fix.verified for f in found),
                              "proposed": sum(f.fix.author == "model" and not f.fix.verified for f in found)},
        }
        rows += [("hybrid", c, hybrid[c["name"]]) for c in cases]
    print(json.dumps(summary, indent=2))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        with open(args.out / "findings.jsonl", "w", encoding="utf-8") as fh:
            for mode, c, r in rows:
                for f in r.findings:
                    fh.write(json.dumps({"mode": mode, "case": c["name"], "vuln": c["vuln"], "expected": c["cwe"],
                                         "line": f.line, "cwe": f.risk.cwe_id, "label": f.label, "counted": f.counted,
                                         "model_only": f.model_only, "verdict": f.model_verdict,
                                         "reason": f.model_reason, "fix_state": f.fix.state,
                                         "fix_author": f.fix.author, "fix_notes": f.fix.notes,
                                         "diff": f.fix.diff}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
