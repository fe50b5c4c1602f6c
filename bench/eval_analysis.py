"""Evaluate secure-code analysis on the labelled snippets in tests/data/analysis_eval.

Reports precision, recall and F1 for vulnerable-vs-safe and CWE accuracy, per language and
overall, for three modes: static-only (Semgrep + Bandit, no model), model-only (the model with
no static evidence) and hybrid (static evidence + model review). Model runs take seconds each:
`--limit N` takes N cases (pairs kept together, languages interleaved) for the model modes and
also reports static-only on that same subset so the modes compare on equal ground.

    .venv/bin/python bench/eval_analysis.py                       # static-only, all cases
    .venv/bin/python bench/eval_analysis.py --modes static,model,hybrid --limit 16
    .venv/bin/python bench/eval_analysis.py --json /tmp/eval.json --show-errors
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "tests" / "data" / "analysis_eval"


def load_cases(data: Path, langs: set[str] | None) -> list[dict]:
    cases = [json.loads(line) for line in (data / "cases.jsonl").read_text().splitlines() if line.strip()]
    return [c for c in cases if not langs or c["lang"] in langs]


def subset(cases: list[dict], limit: int) -> list[dict]:
    """`limit` cases, twins together, languages interleaved (so a small limit still spans languages)."""
    by_id = {c["id"]: c for c in cases}
    pairs: dict[str, list[list[dict]]] = defaultdict(list)
    seen: set[str] = set()
    for c in cases:
        if c["id"] in seen:
            continue
        twin = by_id.get(c.get("pair"))
        group = [c] + ([twin] if twin and twin["id"] not in seen else [])
        seen.update(x["id"] for x in group)
        pairs[c["lang"]].append(group)
    out: list[dict] = []
    i = 0
    while len(out) < limit and any(i < len(v) for v in pairs.values()):
        for lang in sorted(pairs):
            if i < len(pairs[lang]) and len(out) < limit:
                out.extend(pairs[lang][i][: limit - len(out)])
        i += 1
    return out


def predict(report) -> tuple[bool, str | None, set[str]]:
    counted = [f for f in report.findings if f.counted]
    return (report.label not in (None, "safe")), report.top_cwe, {f.risk.cwe_id for f in counted}


def run_static(cases: list[dict], data: Path) -> dict[str, tuple]:
    from app.analysis.analyzer import analyze_files

    files = [data / c["file"] for c in cases]
    reports = analyze_files(files, use_model=False, language=None)
    by_file = {r.filename: r for r in reports}
    return {c["id"]: predict(by_file[str(data / c["file"])]) + (by_file[str(data / c["file"])],) for c in cases}


def run_model(cases: list[dict], data: Path, engine, *, hybrid: bool) -> dict[str, tuple]:
    from app.analysis import analyze_code
    from app.analysis.analyzer import analyze_files

    out = {}
    for i, c in enumerate(cases, 1):
        t0 = time.perf_counter()
        path = data / c["file"]
        if hybrid:
            rep = analyze_files([path], engine=engine, use_model=True)[0]
        else:
            rep = analyze_code(path.read_text(), filename=path.name, engine=engine, use_model=True, use_static=False)
        out[c["id"]] = predict(rep) + (rep,)
        print(f"  [{'hybrid' if hybrid else 'model'} {i}/{len(cases)}] {c['id']}: {rep.label} "
              f"({time.perf_counter() - t0:.1f}s)", file=sys.stderr, flush=True)
    return out


def metrics(cases: list[dict], preds: dict[str, tuple]) -> dict:
    from app.analysis.cwe import related

    tp = fp = fn = tn = 0
    cwe_top = cwe_any = cwe_family = n_vuln = 0
    for c in cases:
        vuln, top, cwes, _rep = preds[c["id"]]
        if c["vulnerable"]:
            n_vuln += 1
            tp += vuln
            fn += not vuln
            cwe_top += top == c["cwe"]
            cwe_any += c["cwe"] in cwes
            cwe_family += bool(top) and related(top, c["cwe"])
        else:
            fp += vuln
            tn += not vuln
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"n": len(cases), "tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": round(p, 3), "recall": round(r, 3),
            "f1": round(f1, 3), "cwe_top1": round(cwe_top / n_vuln, 3) if n_vuln else None,
            "cwe_family": round(cwe_family / n_vuln, 3) if n_vuln else None,
            "cwe_any": round(cwe_any / n_vuln, 3) if n_vuln else None}


def table(name: str, cases: list[dict], preds: dict[str, tuple]) -> dict:
    rows = {}
    for lang in sorted({c["lang"] for c in cases}):
        rows[lang] = metrics([c for c in cases if c["lang"] == lang], preds)
    rows["overall"] = metrics(cases, preds)
    print(f"\n== {name} ==")
    print(f"{'language':<11} {'n':>4} {'P':>6} {'R':>6} {'F1':>6} {'CWE@1':>6} {'CWEfam':>6} {'CWEany':>6}   tp fp fn tn")
    for lang, m in rows.items():
        fmt = lambda v: f"{v:6.3f}" if isinstance(v, float) else f"{'-':>6}"
        print(f"{lang:<11} {m['n']:>4} {fmt(m['precision'])} {fmt(m['recall'])} {fmt(m['f1'])} {fmt(m['cwe_top1'])} "
              f"{fmt(m['cwe_family'])} {fmt(m['cwe_any'])}   {m['tp']:>2} {m['fp']:>2} {m['fn']:>2} {m['tn']:>2}")
    return rows


def errors(cases: list[dict], preds: dict[str, tuple]) -> None:
    for c in cases:
        vuln, top, cwes, rep = preds[c["id"]]
        if vuln != c["vulnerable"] or (c["vulnerable"] and top != c["cwe"]):
            rules = sorted({f.rule_id for f in rep.findings if f.counted})
            print(f"  {c['id']:<28} expected {c['cwe'] or 'safe':<9} got {top or 'safe':<9} {rules}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--modes", default="static", help="comma list of static, model, hybrid")
    ap.add_argument("--limit", type=int, default=0, help="cases for the model modes (0 = all)")
    ap.add_argument("--lang", default="", help="comma list of languages to keep")
    ap.add_argument("--model", type=Path, default=None, help="GGUF chat model (default: the starter bundle's, else SmolLM2)")
    ap.add_argument("--json", type=Path, default=None, help="write all figures here")
    ap.add_argument("--show-errors", action="store_true")
    args = ap.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    cases = load_cases(args.data, set(filter(None, args.lang.split(","))) or None)
    results: dict = {"cases": len(cases), "modes": {}}
    t0 = time.perf_counter()
    static_preds = run_static(cases, args.data)
    results["static_seconds"] = round(time.perf_counter() - t0, 2)
    print(f"static-only: {len(cases)} cases in {results['static_seconds']}s (one batch)")
    if "static" in modes:
        results["modes"]["static"] = table("static-only (all cases)", cases, static_preds)
        if args.show_errors:
            errors(cases, static_preds)
    model_modes = [m for m in modes if m in ("model", "hybrid")]
    if model_modes:
        sub = subset(cases, args.limit) if args.limit else cases
        engine = _engine(args.model)
        results["subset"] = [c["id"] for c in sub]
        results["modes"]["static_subset"] = table(f"static-only (same {len(sub)} cases as the model modes)", sub, static_preds)
        for mode in model_modes:
            t1 = time.perf_counter()
            preds = run_model(sub, args.data, engine, hybrid=mode == "hybrid")
            secs = time.perf_counter() - t1
            results["modes"][mode] = table(f"{mode} ({len(sub)} cases, {secs / max(1, len(sub)):.1f}s/case)", sub, preds)
            results["modes"][mode]["seconds_per_case"] = round(secs / max(1, len(sub)), 2)
            if args.show_errors:
                errors(sub, preds)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def _engine(model: Path | None):
    from app.llm.engine import EngineConfig, LlamaEngine

    if model is None:
        starter = Path("/tmp/bh/bundles/starter/llm.gguf")
        if starter.is_file():
            model = starter
        else:
            from builder.sources import smollm2_gguf

            model = smollm2_gguf()
    eng = LlamaEngine(model, EngineConfig(n_ctx=2048, temperature=0.0, max_tokens=512))
    eng.load()
    return eng


if __name__ == "__main__":
    raise SystemExit(main())
