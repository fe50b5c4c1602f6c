"""Write the public dev sets as seed-format training data for `builder build` (outside the repo).

The seed format (DEVELOPERS.md, seed 002) is Alpaca: `instruction`, `input` = the code, `output` = JSON
with `analysis`, `label`, `risk`, `solution`. Each record names its half (`split`: `tune` -> train,
`test` -> the held-out split the eval analyses), split exactly as bench/eval_analysis.py splits the
suites, so a build trains on the tune halves and is measured on the test halves.

- BenchmarkPython (OWASP, 1,243 Flask handlers): one review per handler; the label comes from
  expectedresults (real vulnerability or not), the CWE from its category. The analysis text is a
  sentence per category: the suite labels verdicts, it does not explain them.
- Juliet-C (NIST, 1,414 bad/good function pairs): one review per function, split by test file.
- WSTG (OWASP testing guide): its Markdown chapters are copied as the retrieval corpus (`--wstg`).

    .venv/bin/python bench/devsets_seed.py --out /work/cache/devseed [--limit-per-half 300] [--wstg]
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from eval_analysis import BENCH_PY, BP_CWE, split_of  # noqa: E402  (the suites' one split)

from app.analysis.cwe import NAMES  # noqa: E402

DEVSETS = ROOT.parent / "shared" / "devsets"
JULIET = DEVSETS / "analysis" / "juliet-c" / "cases.jsonl"
WSTG = DEVSETS / "knowledge" / "wstg" / "document"
INSTRUCTION = ("Review this code for security vulnerabilities. Answer in JSON with analysis, label, risk "
               "and solution.")
# OWASP Benchmark categories whose weakness is configuration-grade rather than an injection
MEDIUM = {"hash", "weakrand", "securecookie", "trustbound", "redirect"}
BP_WHY = {
    "cmdi": "request data reaches an operating-system command", "codeinj": "request data is evaluated as code",
    "deserialization": "request data is deserialised", "hash": "a weak hash algorithm protects the value",
    "ldapi": "request data is placed in an LDAP filter", "pathtraver": "request data names a file path",
    "redirect": "request data chooses the redirect target", "securecookie": "a cookie is set without the Secure flag",
    "sqli": "request data is placed in an SQL statement", "trustbound": "request data is stored in the session",
    "weakrand": "a non-cryptographic random generator makes a security value",
    "xpathi": "request data is placed in an XPath query", "xss": "request data is written into the HTML response",
    "xxe": "an XML parser resolves external entities in request data",
}


def _record(code: str, *, vulnerable: bool, cwe: str, why: str, label: str, split: str, language: str) -> dict:
    name = NAMES.get(cwe, cwe)
    if vulnerable:
        out = {"analysis": f"Here {why} without a check or sanitiser that makes it safe ({cwe}, {name}).",
               "label": label, "risk": f"{cwe} {name}", "solution": ""}
    else:
        out = {"analysis": f"This looks like {name}, but on this path the value is constant, checked or "
                           "sanitised before it is used, so it is not exploitable.",
               "label": "safe", "risk": "", "solution": ""}
    return {"instruction": INSTRUCTION, "input": code, "language": language, "output": json.dumps(out),
            "split": split}


def benchmark_python(limit: int | None) -> list[dict]:
    rows = list(csv.reader((BENCH_PY / "expectedresults-0.1.csv").read_text().splitlines()))
    out, per_half = [], Counter()
    for row in rows:
        if not row or row[0].startswith("#"):
            continue
        name, cat, real = row[0].strip(), row[1].strip(), row[2].strip() == "true"
        half = split_of(name)
        if limit and per_half[half] >= limit:
            continue
        per_half[half] += 1
        code = (BENCH_PY / "testcode" / f"{name}.py").read_text(encoding="utf-8")
        out.append(_record(code, vulnerable=real, cwe=f"CWE-{BP_CWE[cat]}", why=BP_WHY[cat],
                           label="medium" if cat in MEDIUM else "high", split=half, language="python"))
    return out


def juliet(limit: int | None) -> list[dict]:
    out, per_half = [], Counter()
    for line in JULIET.read_text().splitlines():
        if not line.strip():
            continue
        c = json.loads(line)
        half = split_of(c["source"])  # by test file: a bad function and its good twin share a half
        if limit and per_half[half] >= limit:
            continue
        per_half[half] += 1
        cwe = c["cwe"]
        out.append(_record(c["code"], vulnerable=bool(c["vulnerable"]), cwe=cwe,
                           why=f"the code has the weakness {cwe} names", label="high", split=half, language="c"))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--limit-per-half", type=int, default=None, help="cases per suite and half (default: all)")
    ap.add_argument("--wstg", action="store_true", help="copy the WSTG chapters as the corpus")
    a = ap.parse_args()
    sec = a.out / "security"
    sec.mkdir(parents=True, exist_ok=True)
    for name, rows in (("benchmark_python", benchmark_python(a.limit_per_half)), ("juliet_c", juliet(a.limit_per_half))):
        (sec / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        halves = Counter((r["split"], json.loads(r["output"])["label"] != "safe") for r in rows)
        print(f"{name}: {len(rows)} records; " + ", ".join(f"{s} {'vulnerable' if v else 'safe'} {n}"
                                                           for (s, v), n in sorted(halves.items())))
    if a.wstg:
        dst = a.out / "corpus" / "wstg"
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(WSTG, dst)
        print(f"wstg: {sum(1 for _ in dst.rglob('*.md'))} chapters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
