"""Evaluate secure-code analysis on labelled suites: the project's own snippets and public benchmarks.

Suites
- `own`: the 280 hand-written snippets in tests/data/analysis_eval (8 languages). A case counts as
  flagged when the report's label is not "safe" (any counted finding).
- `bp`: OWASP Benchmark for Python v0.1 at ../shared/devsets/analysis/benchmark-python (1,243 Flask
  handlers). Split once, deterministically, into tune/test halves by a SHA-256 of the test file
  name (`split_of`); tune rules on `--split tune`, report `--split test` (the default). As in the
  OWASP scorecard, a case counts as flagged only when a counted finding's CWE is the expected one
  or one of its family (app.analysis.cwe.related): a cookie finding in a path-traversal case is
  not a path-traversal detection.

Figures per category and per language: precision, recall, F1, CWE top-1 (the report's first CWE is
the expected one or its family, over vulnerable cases) and the OWASP Benchmark score
(TPR - FPR). Modes: static-only (Semgrep + Bandit, no model), hybrid (static + model review) for
the starter/`--model` engine and, with `--llm PATH` (or $BASTION_BENCH_LLM), for a second, capable
model, and model-only. All in one run. Model runs take seconds per case: `--limit N` takes N cases
per suite (pairs/categories interleaved) for the model modes and reports static-only on the same
subset so the modes compare on equal ground.

    .venv/bin/python bench/eval_analysis.py                              # static, own + bp test half
    .venv/bin/python bench/eval_analysis.py --suites bp --split tune --show-errors
    .venv/bin/python bench/eval_analysis.py --modes static,hybrid --limit 24 --llm /work/cache/yardstick/model.gguf
    .venv/bin/python bench/eval_analysis.py --json /tmp/eval.json
    # hybrid vs static on the same seeded, balanced sample, per bundle (issue 24):
    BASTION_HOME=/work/cache/answers-home .venv/bin/python bench/eval_analysis.py --suites bp,juliet \
        --modes static,hybrid --sample 60 --seed 24 --bundle starter=/work/cache/bench-starter \
        --bundle yardstick=/work/cache/answers-home/bundles/yardstick --explanations /tmp/expl.jsonl
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "tests" / "data" / "analysis_eval"
BENCH_PY = ROOT.parent / "shared" / "devsets" / "analysis" / "benchmark-python"
JULIET = ROOT.parent / "shared" / "devsets" / "analysis" / "juliet-c" / "cases.jsonl"

# OWASP Benchmark category -> CWE (from expectedresults-0.1.csv; kept here to name categories).
BP_CWE = {"cmdi": 78, "codeinj": 94, "deserialization": 502, "hash": 328, "ldapi": 90, "pathtraver": 22,
          "redirect": 601, "securecookie": 614, "sqli": 89, "trustbound": 501, "weakrand": 330, "xpathi": 643,
          "xss": 79, "xxe": 611}


def split_of(name: str) -> str:
    """'tune' or 'test', fixed by a hash of the test case's file name (never by its content or label)."""
    return "test" if hashlib.sha256(name.encode("utf-8")).digest()[0] % 2 else "tune"


def load_cases(data: Path, langs: set[str] | None) -> list[dict]:
    """The project's own snippets (suite `own`)."""
    cases = [json.loads(line) for line in (data / "cases.jsonl").read_text().splitlines() if line.strip()]
    for c in cases:
        c["path"] = str(data / c["file"])
        c["category"] = c["id"].split("-")[1]
        c["match"] = "any"
    return [c for c in cases if not langs or c["lang"] in langs]


def load_benchmark_python(root: Path, split: str) -> list[dict]:
    """OWASP Benchmark for Python cases of one split half ('tune', 'test' or 'all')."""
    cases = []
    with open(root / "expectedresults-0.1.csv", newline="") as fh:
        for row in csv.reader(fh):
            if not row or row[0].startswith("#"):
                continue
            name, category, real, cwe = (x.strip() for x in row[:4])
            if split != "all" and split_of(name) != split:
                continue
            cases.append({"id": name, "lang": "python", "path": str(root / "testcode" / f"{name}.py"),
                          "vulnerable": real == "true", "cwe": f"CWE-{int(cwe)}", "category": category,
                          "match": "cwe"})
    return cases


def load_juliet(path: Path, split: str, workdir: Path) -> list[dict]:
    """Juliet C/C++ 1.3 function-level cases of one split half, each written to `workdir` as one .c file.

    Split by a hash of the test file (`source`) so a bad function and its good twin share a half. As in
    `bp`, a case counts as flagged only when a counted finding's CWE is the expected one (the test
    file's CWE, `cwe_context`) or one of its family (app.analysis.cwe.FAMILIES, e.g. a cppcheck 788 or a
    clang 131 in a CWE-122 case): a NULL-dereference finding in a leak case is not a leak detection.
    """
    cases = []
    for i, line in enumerate(path.read_text().splitlines()):
        if not line.strip():
            continue
        rec = json.loads(line)
        if split != "all" and split_of(rec["source"]) != split:
            continue
        f = workdir / f"j{i:04d}.c"
        f.write_text(rec["code"], encoding="utf-8")
        cases.append({"id": rec["id"].split("/")[-1], "lang": "c", "path": str(f), "vulnerable": bool(rec["vulnerable"]),
                      "cwe": rec["cwe_context"], "category": rec["cwe_context"], "match": "cwe"})
    return cases


def engine_value(cases: list[dict], preds: dict[str, tuple]) -> dict:
    """Per engine: the cases it flags (a counted finding of the expected CWE family carrying its evidence),
    true and false positives, and those no other engine flagged (what it adds)."""
    from app.analysis.cwe import related

    flagged_by: dict[str, set[str]] = {}
    for c in cases:
        rep = preds[c["id"]][3]
        for f in rep.findings:
            if f.counted and c["match"] == "cwe" and related(f.risk.cwe_id, c["cwe"]) or f.counted and c["match"] == "any":
                for e in f.evidence:
                    flagged_by.setdefault(e.engine, set()).add(c["id"])
    vuln = {c["id"] for c in cases if c["vulnerable"]}
    out = {}
    for eng, ids in sorted(flagged_by.items()):
        others = set().union(*(v for k, v in flagged_by.items() if k != eng))
        out[eng] = {"tp": len(ids & vuln), "fp": len(ids - vuln), "unique_tp": len((ids - others) & vuln),
                    "unique_fp": len((ids - others) - vuln)}
    print(f"{'engine':<12} {'tp':>5} {'fp':>5} {'uniqTP':>7} {'uniqFP':>7}")
    for eng, m in out.items():
        print(f"{eng:<12} {m['tp']:>5} {m['fp']:>5} {m['unique_tp']:>7} {m['unique_fp']:>7}")
    return out


def subset(cases: list[dict], limit: int) -> list[dict]:
    """`limit` cases, twins together, languages/categories interleaved (a small limit still spans them)."""
    by_id = {c["id"]: c for c in cases}
    groups: dict[str, list[list[dict]]] = defaultdict(list)
    seen: set[str] = set()
    for c in cases:
        if c["id"] in seen:
            continue
        twin = by_id.get(c.get("pair"))
        group = [c] + ([twin] if twin and twin["id"] not in seen else [])
        seen.update(x["id"] for x in group)
        key = c["lang"] if c.get("pair") else f"{c['category']}:{c['vulnerable']}"
        groups[key].append(group)
    out: list[dict] = []
    i = 0
    while len(out) < limit and any(i < len(v) for v in groups.values()):
        for key in sorted(groups):
            if i < len(groups[key]) and len(out) < limit:
                out.extend(groups[key][i][: limit - len(out)])
        i += 1
    return out


def predict(case: dict, report) -> tuple[bool, str | None, set[str]]:
    """(flagged, top CWE, CWEs of counted findings); `match == 'cwe'` counts only the expected CWE family."""
    from app.analysis.cwe import related

    counted = [f for f in report.findings if f.counted]
    cwes = {f.risk.cwe_id for f in counted}
    if case["match"] == "cwe":
        want = case["cwe"]
        hit = [f for f in counted if related(f.risk.cwe_id, want)]
        return bool(hit), report.top_cwe, cwes
    return (report.label not in (None, "safe")), report.top_cwe, cwes


def run_static(cases: list[dict]) -> dict[str, tuple]:
    from app.analysis.analyzer import analyze_files

    reports = analyze_files([Path(c["path"]) for c in cases], use_model=False, language=None)
    by_file = {r.filename: r for r in reports}
    return {c["id"]: predict(c, by_file[c["path"]]) + (by_file[c["path"]],) for c in cases}


CASES_LOG: Path | None = None


def run_model(cases: list[dict], engine, *, hybrid: bool, tag: str) -> dict[str, tuple]:
    from app.analysis import analyze_code
    from app.analysis.analyzer import analyze_files

    out = {}
    for i, c in enumerate(cases, 1):
        t0 = time.perf_counter()
        path = Path(c["path"])
        if hybrid:
            rep = analyze_files([path], engine=engine, use_model=True)[0]
        else:
            rep = analyze_code(path.read_text(), filename=path.name, engine=engine, use_model=True, use_static=False)
        out[c["id"]] = predict(c, rep) + (rep,)
        if CASES_LOG:  # one line per case, so a run cut short can still be scored
            with open(CASES_LOG, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"tag": tag, "id": c["id"], "vulnerable": c["vulnerable"], "cwe": c["cwe"],
                                     "flagged": out[c["id"]][0], "seconds": round(time.perf_counter() - t0, 2),
                                     "checks": rep.model_checks.model_dump()}) + "\n")
        print(f"  [{tag} {i}/{len(cases)}] {c['id']}: {rep.label} ({time.perf_counter() - t0:.1f}s)",
              file=sys.stderr, flush=True)
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
            cwe_any += any(related(x, c["cwe"]) for x in cwes)
            cwe_family += bool(top) and related(top, c["cwe"])
        else:
            fp += vuln
            tn += not vuln
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    fpr = fp / (fp + tn) if fp + tn else 0.0
    return {"n": len(cases), "tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": round(p, 3), "recall": round(r, 3),
            "f1": round(f1, 3), "owasp_score": round(r - fpr, 3) if tp + fn and fp + tn else None,
            "cwe_top1": round(cwe_top / n_vuln, 3) if n_vuln else None,
            "cwe_family": round(cwe_family / n_vuln, 3) if n_vuln else None,
            "cwe_any": round(cwe_any / n_vuln, 3) if n_vuln else None}


def _fmt(v) -> str:
    return f"{v:6.3f}" if isinstance(v, float) else f"{'-':>6}"


def table(name: str, cases: list[dict], preds: dict[str, tuple], *, by: tuple[str, ...] = ("lang", "category")) -> dict:
    """Print and return figures per language and per category, plus overall."""
    out: dict = {}
    print(f"\n== {name} ==")
    print(f"{'group':<22} {'n':>4} {'P':>6} {'R':>6} {'F1':>6} {'Score':>6} {'CWE@1':>6} {'CWEfam':>6} {'CWEany':>6}"
          f"    tp   fp   fn   tn")
    for key in by:
        values = sorted({c[key] for c in cases})
        if len(values) < 2 and key == "lang":
            continue
        for v in values:
            out[f"{key}:{v}"] = metrics([c for c in cases if c[key] == v], preds)
    out["overall"] = metrics(cases, preds)
    for g, m in out.items():
        print(f"{g:<22} {m['n']:>4} {_fmt(m['precision'])} {_fmt(m['recall'])} {_fmt(m['f1'])} {_fmt(m['owasp_score'])} "
              f"{_fmt(m['cwe_top1'])} {_fmt(m['cwe_family'])} {_fmt(m['cwe_any'])}   {m['tp']:>4} {m['fp']:>4} {m['fn']:>4} "
              f"{m['tn']:>4}")
    return out


def errors(cases: list[dict], preds: dict[str, tuple]) -> None:
    for c in cases:
        vuln, top, cwes, rep = preds[c["id"]]
        if vuln != c["vulnerable"] or (c["vulnerable"] and top != c["cwe"]):
            rules = sorted({f"{f.rule_id}:{f.line}" for f in rep.findings if f.counted})
            kind = "FN" if c["vulnerable"] and not vuln else "FP" if vuln and not c["vulnerable"] else "CWE"
            print(f"  {kind:<3} {c['id']:<28} {c['category']:<16} expected {c['cwe'] if c['vulnerable'] else 'safe':<9} "
                  f"got {top or 'safe':<9} {rules}")


def model_only_counts(preds_hybrid: dict[str, tuple], cases: list[dict]) -> dict:
    """Findings the model added on its own in hybrid mode, and how many sit in a vulnerable case of their CWE."""
    from app.analysis.cwe import related

    added = right = 0
    for c in cases:
        rep = preds_hybrid[c["id"]][3]
        for f in rep.findings:
            if f.source == "model":
                added += 1
                right += bool(c["vulnerable"] and related(f.risk.cwe_id, c["cwe"]))
    return {"model_findings": added, "in_vulnerable_case_of_that_cwe": right,
            "precision": round(right / added, 3) if added else None}


def balanced_sample(cases: list[dict], n: int, seed: int) -> list[dict]:
    """`n` cases drawn with `seed`: n/2 vulnerable and n/2 clean (fewer when a side has fewer), in file order."""
    rng = random.Random(seed)
    vuln = [c for c in cases if c["vulnerable"]]
    clean = [c for c in cases if not c["vulnerable"]]
    pick = rng.sample(vuln, min(len(vuln), n // 2)) + rng.sample(clean, min(len(clean), n - n // 2))
    keep = {c["id"] for c in pick}
    return [c for c in cases if c["id"] in keep]


def check_counts(preds: dict[str, tuple]) -> dict:
    """What the checks on model output kept and refused, summed over a run (`Report.model_checks`)."""
    from app.analysis.models import ModelChecks

    total = ModelChecks()
    for p in preds.values():
        total.add(p[3].model_checks)
    kinds: dict[str, int] = defaultdict(int)
    for r in total.rejects:
        kinds[f"{r.field}:{r.kind}"] += 1
    return {"prose_shown": total.prose_shown, "prose_rejected": total.prose_rejected, "rejects_by_kind": dict(kinds),
            "model_findings_kept": total.model_findings_kept, "model_findings_dropped": total.model_findings_dropped,
            "dropped_why": total.dropped_why[:40]}


def write_explanations(path: Path, suite: str, engine: str, cases: list[dict], preds: dict[str, tuple]) -> None:
    """Append every model-written text a report shows, with the flagged line, for a reviewer to read."""
    with open(path, "a", encoding="utf-8") as fh:
        for c in cases:
            rep = preds[c["id"]][3]
            lines = rep.code.splitlines()
            for f in rep.findings:
                code_line = lines[f.line - 1].strip() if 0 < f.line <= len(lines) else ""
                base = {"suite": suite, "engine": engine, "case": c["id"], "vulnerable": c["vulnerable"],
                        "line": f.line, "code": code_line, "cwe": f.risk.cwe_id, "rule": f.rule_id}
                if f.explanation_by == "model":
                    fh.write(json.dumps({**base, "kind": "model-finding" if f.model_only else "explanation",
                                         "text": f.analysis, "verified_by": f.verified_by}) + "\n")
                if f.model_reason and not f.model_reason.startswith("("):
                    fh.write(json.dumps({**base, "kind": f"reason:{f.model_verdict}", "text": f.model_reason}) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suites", default="own,bp", help="comma list of own, bp (OWASP Benchmark for Python), juliet")
    ap.add_argument("--juliet", type=Path, default=JULIET, help="Juliet C cases.jsonl")
    ap.add_argument("--data", type=Path, default=DATA, help="the own set's folder")
    ap.add_argument("--bench-python", type=Path, default=BENCH_PY, help="benchmark-python folder")
    ap.add_argument("--split", default="test", choices=["tune", "test", "all"], help="benchmark half to score")
    ap.add_argument("--modes", default="static", help="comma list of static, model, hybrid")
    ap.add_argument("--limit", type=int, default=0, help="cases per suite for the model modes (0 = all)")
    ap.add_argument("--lang", default="", help="own set: comma list of languages to keep")
    ap.add_argument("--category", default="", help="comma list of categories to keep")
    ap.add_argument("--model", type=Path, default=None, help="GGUF chat model (default: the starter bundle's, else SmolLM2)")
    ap.add_argument("--llm", type=Path, default=os.environ.get("BASTION_BENCH_LLM") or None,
                    help="a second, capable GGUF model for the model modes (default: $BASTION_BENCH_LLM)")
    ap.add_argument("--json", type=Path, default=None, help="write all figures here")
    ap.add_argument("--bundle", action="append", default=[], metavar="NAME=PATH",
                    help="a bundle whose model runs the model modes (repeatable; replaces --model/--llm); its "
                         "signer must be trusted in $BASTION_HOME")
    ap.add_argument("--sample", type=int, default=0,
                    help="score a seeded sample of N cases per suite, half vulnerable, half clean (all modes, same cases)")
    ap.add_argument("--seed", type=int, default=24, help="seed of --sample")
    ap.add_argument("--explanations", type=Path, default=None,
                    help="write the model-written text that was shown (explanations, reasons, model findings) as JSONL")
    ap.add_argument("--show-errors", action="store_true")
    ap.add_argument("--cases-log", type=Path, default=None, help="append one JSON line per model-mode case here")
    args = ap.parse_args(argv)
    global CASES_LOG
    CASES_LOG = args.cases_log
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    cats = set(filter(None, args.category.split(",")))
    suites: dict[str, list[dict]] = {}
    for s in (x.strip() for x in args.suites.split(",") if x.strip()):
        if s == "own":
            suites[s] = load_cases(args.data, set(filter(None, args.lang.split(","))) or None)
        elif s == "bp":
            if not (args.bench_python / "expectedresults-0.1.csv").is_file():
                print(f"skipping bp: {args.bench_python} not found", file=sys.stderr)
                continue
            suites[s] = load_benchmark_python(args.bench_python, args.split)
        elif s == "juliet":
            if not args.juliet.is_file():
                print(f"skipping juliet: {args.juliet} not found", file=sys.stderr)
                continue
            import tempfile

            jdir = Path(tempfile.mkdtemp(prefix="bastion-juliet-"))
            suites[s] = load_juliet(args.juliet, args.split, jdir)
        else:
            ap.error(f"unknown suite {s!r}")
        if cats:
            suites[s] = [c for c in suites[s] if c["category"] in cats]
        if args.sample:
            suites[s] = balanced_sample(suites[s], args.sample, args.seed)
    results: dict = {"split": args.split, "suites": {}}
    engines = _engines(args, modes)
    for s, cases in suites.items():
        label = f"{s} ({'split ' + args.split if s in ('bp', 'juliet') else 'all'})"
        res: dict = {"cases": len(cases), "modes": {}}
        results["suites"][s] = res
        t0 = time.perf_counter()
        static_preds = run_static(cases)
        res["static_seconds"] = round(time.perf_counter() - t0, 2)
        print(f"\n#### {label}: static-only, {len(cases)} cases in {res['static_seconds']}s (one batch)")
        if "static" in modes:
            res["modes"]["static"] = table(f"{label} static-only", cases, static_preds)
            res["engines"] = engine_value(cases, static_preds)
            if args.show_errors:
                errors(cases, static_preds)
        model_modes = [m for m in modes if m in ("model", "hybrid")]
        if not model_modes or not engines:
            continue
        sub = subset(cases, args.limit) if args.limit else cases
        res["subset"] = [c["id"] for c in sub]
        res["modes"]["static_subset"] = table(f"{label} static-only (same {len(sub)} cases as the model modes)",
                                              sub, static_preds)
        for ename, engine in engines.items():
            for mode in model_modes:
                t1 = time.perf_counter()
                preds = run_model(sub, engine, hybrid=mode == "hybrid", tag=f"{mode}:{ename}")
                secs = (time.perf_counter() - t1) / max(1, len(sub))
                key = f"{mode}:{ename}"
                res["modes"][key] = table(f"{label} {key} ({len(sub)} cases, {secs:.1f}s/case)", sub, preds)
                res["modes"][key]["seconds_per_case"] = round(secs, 2)
                if mode == "hybrid":
                    res["modes"][key]["model_added"] = model_only_counts(preds, sub)
                    res["modes"][key]["model_checks"] = check_counts(preds)
                    print(f"model-added findings: {res['modes'][key]['model_added']}")
                    print(f"model checks: {res['modes'][key]['model_checks']}")
                    if args.explanations:
                        write_explanations(args.explanations, s, ename, sub, preds)
                if args.show_errors:
                    errors(sub, preds)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def _engines(args, modes: list[str]) -> dict:
    if not any(m in ("model", "hybrid") for m in modes):
        return {}
    if args.bundle:
        return {name: _bundle_engine(Path(path)) for name, _, path in (b.partition("=") for b in args.bundle)}
    out = {"starter": _engine(args.model)}
    if args.llm:
        out["llm"] = _engine(Path(args.llm))
    return out


def _bundle_engine(path: Path):
    """The engine `bastion analyze` would use for this bundle (its model, chat template, stop and sampling)."""
    from app.bundle.loader import load_bundle
    from app.runtime import make_local_engine
    from app.settings import Settings

    eng = make_local_engine(Settings(), load_bundle(path), prompt_cache="off")
    eng.load()
    return eng


def _engine(model: Path | None):
    from app.llm.engine import EngineConfig, LlamaEngine

    if model is None:
        starter = Path("/tmp/bh/bundles/starter/llm.gguf")
        if starter.is_file():
            model = starter
        else:
            from builder.sources import smollm2_gguf

            model = smollm2_gguf()
    eng = LlamaEngine(model, EngineConfig(n_ctx=4096, temperature=0.0, max_tokens=512))
    eng.load()
    return eng


if __name__ == "__main__":
    raise SystemExit(main())
