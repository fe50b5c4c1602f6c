#!/usr/bin/env python3
"""Verify a Bastion offline kit before installing anything (standard library only).

Checks every file against kit.json (sha256 and size), refuses files the kit does
not list, and checks this Python and platform match the ones the kit was built
for. Prints the kit fingerprint (sha256 of kit.json): compare it with the one
printed when the kit was made. Exit status 1 on any problem.
"""

import hashlib
import json
import platform
import re
import sys
from pathlib import Path

IGNORED = {"kit.json", "SHA256SUMS"}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check(kit: Path) -> list:
    meta_path = kit / "kit.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"{meta_path}: unreadable ({exc})"]
    problems = []
    name = meta.get("bundle")
    if name is not None and not (isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name)):
        problems.append(f"kit.json: bundle name {name!r} is not a plain name (letters, digits, '.', '_', '-'); refused")
    here = {"python": "%d.%d" % sys.version_info[:2], "system": platform.system(), "machine": platform.machine()}
    for key, have in here.items():
        want = meta.get(key)
        if want and want != have:
            problems.append(f"the kit was built for {key} {want}, this machine has {have}: "
                            f"build a kit on a machine matching this one (or set PYTHON to a Python {meta.get('python')})")
    listed = set(IGNORED)
    for f in meta.get("files", []):
        rel = f["path"]
        listed.add(rel)
        p = kit / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            problems.append(f"{rel}: unsafe path in kit.json")
        elif not p.is_file():
            problems.append(f"{p}: missing")
        elif p.stat().st_size != f["size"]:
            problems.append(f"{p}: {p.stat().st_size} bytes, kit.json says {f['size']} (truncated copy?)")
        elif sha256(p) != f["sha256"]:
            problems.append(f"{p}: sha256 does not match kit.json (altered or corrupt)")
    for p in sorted(kit.rglob("*")):
        rel = p.relative_to(kit).as_posix()
        if p.is_file() and rel not in listed and "__pycache__" not in p.parts:
            problems.append(f"{p}: not listed in kit.json; remove it or copy the kit again")
    return problems


def main(argv: list) -> int:
    kit = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parent).resolve()
    problems = check(kit)
    if (kit / "kit.json").is_file():
        print(f"kit fingerprint (sha256 of kit.json): {sha256(kit / 'kit.json')}")
    if problems:
        for p in problems:
            print(f"FAIL {p}", file=sys.stderr)
        print(f"Error: the kit at {kit} failed verification ({len(problems)} problem(s)).\n"
              f"  Fix: copy the kit again from the source machine; install nothing from this copy.", file=sys.stderr)
        return 1
    print(f"OK {kit}: every file matches kit.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
