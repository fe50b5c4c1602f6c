"""Offline install kit: size per component, build time, and install time with networking blocked.

    python bench/bench_kit.py [--bundle DIR] [--extras serve] [--kit EXISTING_KIT]

Builds a kit (or reuses `--kit`), then installs it into a fresh venv under
`unshare -n` (no network at all; needs root or user namespaces) and times each
step of install.sh. The baseline in the same run is the bare `pip install
--no-index` step: the ratio says what verification, bundle unpacking and the
doctor's smoke test add on top of installing the wheels.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", type=Path, default=None)
    ap.add_argument("--extras", default="")
    ap.add_argument("--kit", type=Path, default=None, help="time the install of an existing kit")
    ap.add_argument("--keep", action="store_true", help="keep the kit and the venv (default: delete them)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-kit-"))
    try:
        run(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path) -> None:
    if args.kit:
        kit, build_s = args.kit, float("nan")
    else:
        from builder.kit import make_kit

        t0 = time.perf_counter()
        rep = make_kit(work / "kit", bundle=args.bundle, extras=args.extras.split(","), progress=lambda m: print("·", m))
        kit, build_s = rep.path, time.perf_counter() - t0
    meta = json.loads((kit / "kit.json").read_text())
    sizes: dict[str, int] = {}
    counts: dict[str, int] = {}
    for f in meta["files"]:
        sizes[f["component"]] = sizes.get(f["component"], 0) + f["size"]
        counts[f["component"]] = counts.get(f["component"], 0) + 1

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "BASTION_"))}
    env.update(BASTION_HOME=str(work / "home"), BASTION_PREFIX=str(work / "venv"), BASTION_BIN="",
               PYTHON=sys.executable)
    # Timestamp each install.sh line as it appears, to split the time per step.
    t0 = time.perf_counter()
    proc = subprocess.Popen(["unshare", "-n", "bash", str(kit / "install.sh")], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    marks: list[tuple[float, str]] = []
    for line in proc.stdout:  # type: ignore[union-attr]
        if line.startswith("· "):
            marks.append((time.perf_counter() - t0, line[2:].strip()))
    rc = proc.wait()
    total = time.perf_counter() - t0
    if rc != 0:
        raise SystemExit(f"install.sh failed with exit {rc}")
    marks.append((total, "end"))
    steps = {re.sub(r"\s.*", "", m[1]): marks[i + 1][0] - m[0] for i, m in enumerate(marks[:-1])}
    pip_s = steps.get("installing", float("nan"))

    print(f"\nkit {kit}  (Python {meta['python']}, {meta['system']} {meta['machine']}, CMAKE_ARGS={meta['cmake_args']})")
    print(f"{'component':18} {'files':>5} {'MB':>9}")
    for comp, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        print(f"{comp:18} {counts[comp]:>5} {size / 1e6:>9.1f}")
    print(f"{'total':18} {sum(counts.values()):>5} {sum(sizes.values()) / 1e6:>9.1f}")
    print(f"\nkit build (connected): {build_s:.0f} s")
    print(f"offline install (unshare -n): {total:.0f} s total")
    for (t, name), (t2, _) in zip(marks, marks[1:]):
        print(f"  {t2 - t:6.1f} s  {name}")
    print(f"baseline pip install --no-index alone: {pip_s:.0f} s; whole install.sh / baseline = {total / pip_s:.2f}x")


if __name__ == "__main__":
    main()
