"""The offline install kit: everything an air-gapped laptop needs to install Bastion, verified.

Made on a connected machine of the same OS, CPU architecture and Python version
as the laptop (llama-cpp-python is compiled here, so the laptop needs no
compiler):

```
kit/
  kit.json        what the kit holds: every file's sha256, size and component; python/platform
  SHA256SUMS      the same hashes for `sha256sum -c`
  install.sh      verify -> venv -> pip install --no-index -> unpack+verify bundle -> bastion doctor
  verify_kit.py   the verifier install.sh runs first (standard library only)
  wheels/         bastion, llama-cpp-python (built with portable flags) and every dependency
  bundle/         the starter bundle or a chosen one, packed with its hashes
```
"""

from __future__ import annotations

import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Callable

from app.bundle.hashing import sha256_file
from app.errors import BastionError

log = logging.getLogger(__name__)

BUNDLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""A bundle name install.sh may use in a path (the same pattern is checked there and in verify_kit.py)."""

KIT_FORMAT = 1
SAFE_CMAKE_ARGS = "-DGGML_NATIVE=OFF"
"""Portable llama.cpp build: the native build dies with a GP fault on some AMX CPUs inside VMs."""

Progress = Callable[[str], None]


class KitError(BastionError):
    """The kit could not be made or does not verify."""


@dataclass
class KitReport:
    path: Path
    files: int
    sizes: dict[str, int]
    """Bytes per component: bastion, llama-cpp-python, dependencies, bundle, scripts."""
    fingerprint: str
    """sha256 of kit.json: note it, and compare with what install.sh prints on the laptop."""
    seconds: float
    archive: Path | None = None
    wheels: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.sizes.values())


def project_root() -> Path | None:
    """The source checkout this code runs from (with pyproject.toml), if any."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "app").is_dir() else None


def installed_llama_version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("llama_cpp_python")
    except metadata.PackageNotFoundError:
        return None


def make_kit(
    out: Path,
    *,
    bundle: Path | None = None,
    with_bundle: bool = True,
    extras: list[str] | None = None,
    python: str | None = None,
    source: Path | None = None,
    bastion_wheel: Path | None = None,
    llama_wheel: Path | None = None,
    llama_version: str | None = None,
    pin_installed: bool = True,
    archive: bool = False,
    progress: Progress = lambda m: None,
) -> KitReport:
    """Build the kit directory at `out` (must be new or empty); optionally also `out.tar`.

    With `pin_installed` every dependency is pinned to the version installed in
    `python`'s environment (the set you ran and tested), which also spares pip's
    resolver its backtracking; without it pip picks the newest compatible versions.
    """
    t0 = time.perf_counter()
    out = Path(out).expanduser()
    if out.exists() and any(out.iterdir()):
        raise KitError(f"{out} exists and is not empty", hint="choose a new directory for the kit")
    extras = [e.strip() for e in (extras or []) if e.strip()]
    python = python or sys.executable
    target = _target(python)
    wheels = out / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)

    progress(f"collecting wheels for Python {target['python']} on {target['system']} {target['machine']}")
    _collect_wheels(wheels, python=python, extras=extras, source=source, bastion_wheel=bastion_wheel,
                    llama_wheel=llama_wheel, llama_version=llama_version or installed_llama_version(),
                    pins=_installed_pins(python) if pin_installed else [], progress=progress)
    progress("checking the wheels install with no index")
    _check_offline_resolves(wheels, python=python, extras=extras)

    bundle_name = signer = None
    if with_bundle:
        bundle_name = _add_bundle(out, bundle, progress)
        signer = _bundle_signer(Path(bundle).expanduser() if bundle else None)

    _write_scripts(out)
    meta = {
        "format": KIT_FORMAT,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "bastion_version": _wheel_version(wheels, "bastion"),
        "extras": extras,
        "bundle": bundle_name,
        "bundle_signer": signer,
        "cmake_args": os.environ.get("CMAKE_ARGS") or SAFE_CMAKE_ARGS,
        **target,
    }
    files, sizes = _hash_files(out)
    meta["files"] = files
    _write_json(out / "kit.json", meta)
    (out / "SHA256SUMS").write_text("".join(f"{f['sha256']}  {f['path']}\n" for f in files), encoding="utf-8")
    report = KitReport(path=out, files=len(files), sizes=sizes, fingerprint=sha256_file(out / "kit.json"),
                       seconds=0.0, wheels=sorted(p.name for p in wheels.glob("*.whl")))
    if archive:
        report.archive = _tar_dir(out)
        progress(f"kit archive written: {report.archive}")
    report.seconds = time.perf_counter() - t0
    return report


# -- steps -----------------------------------------------------------------------


def _target(python: str) -> dict:
    code = ("import json,platform,sys;print(json.dumps({'python':'%d.%d'%sys.version_info[:2],"
            "'system':platform.system(),'machine':platform.machine()}))")
    try:
        res = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise KitError(f"cannot run the target Python {python!r}: {exc}", hint="pass --python PATH to a working interpreter") from None
    return json.loads(res.stdout)


def _installed_pins(python: str) -> list[str]:
    """`name==version` for every distribution in `python`'s environment except Bastion itself."""
    code = ("import importlib.metadata as m, json; print(json.dumps(sorted({d.metadata['Name']: d.version "
            "for d in m.distributions() if d.metadata['Name']}.items())))")
    res = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        log.warning("could not list installed packages (%s); not pinning", res.stderr.strip()[-200:])
        return []
    return [f"{name}=={ver}" for name, ver in json.loads(res.stdout) if name.lower() != "bastion"]


def _pip(python: str, args: list[str], *, env: dict | None = None, what: str) -> str:
    cmd = [python, "-m", "pip", *args]
    log.info("running %s", " ".join(cmd))
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        tail = "\n".join((res.stderr or res.stdout).strip().splitlines()[-12:])
        raise KitError(f"{what} failed (pip exit {res.returncode}):\n{tail}",
                       hint="the kit is made on a connected machine: check the package index is reachable and "
                            "a compiler is present for llama-cpp-python (or pass --llama-wheel)")
    return res.stdout


def _collect_wheels(wheels: Path, *, python: str, extras: list[str], source: Path | None, bastion_wheel: Path | None,
                    llama_wheel: Path | None, llama_version: str | None, pins: list[str], progress: Progress) -> None:
    env = dict(os.environ)
    env.setdefault("CMAKE_ARGS", SAFE_CMAKE_ARGS)  # when llama-cpp-python is compiled (not taken from pip's cache)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    with tempfile.TemporaryDirectory(prefix="bastion-kit-") as tmp:
        constraints = Path(tmp) / "constraints.txt"
        # llama-cpp-python is pinned below; pip stays the newest (pipx needs a recent one).
        pins = [p for p in pins if not p.lower().startswith(("llama-cpp-python==", "llama_cpp_python==", "pip=="))]
        find_links = []
        if llama_wheel:
            llama_wheel = Path(llama_wheel).expanduser()
            if not llama_wheel.is_file() or not llama_wheel.name.startswith("llama_cpp_python-"):
                raise KitError(f"--llama-wheel {llama_wheel}: not a llama_cpp_python wheel file",
                               hint="pass the .whl built with `pip wheel llama-cpp-python`")
            shutil.copy2(llama_wheel, wheels / llama_wheel.name)
            llama_version = llama_wheel.name.split("-")[1]
            find_links = ["--find-links", str(wheels)]
        if llama_version:
            pins.append(f"llama-cpp-python=={llama_version}")
        constraints.write_text("\n".join(pins) + "\n", encoding="utf-8")
        if bastion_wheel:
            req = str(Path(bastion_wheel).expanduser().resolve())
        else:
            root = source or project_root()
            if root is None:
                raise KitError("no Bastion source checkout found to build its wheel",
                               hint="run from a checkout, or pass --source DIR or --bastion-wheel FILE")
            req = str(Path(root).resolve())
        spec = f"{req}[{','.join(extras)}]" if extras else req
        progress(f"pip wheel {Path(req).name}{'[' + ','.join(extras) + ']' if extras else ''} "
                 f"(llama-cpp-python {llama_version or 'latest'} with CMAKE_ARGS={env['CMAKE_ARGS']!r}, pip's cache reused)")
        # pip itself too: pipx (and a venv's pip upgrade) can then work from the kit with no index.
        _pip(python, ["wheel", "--wheel-dir", str(wheels), "-c", str(constraints), *find_links, spec, "pip"],
             env=env, what="collecting wheels")
    if not list(wheels.glob("bastion-*.whl")):
        raise KitError("pip did not produce Bastion's own wheel", hint="check the source checkout builds: pip wheel .")
    if not list(wheels.glob("llama_cpp_python-*.whl")):
        raise KitError("no llama-cpp-python wheel in the kit", hint="pass --llama-wheel FILE")


def _check_offline_resolves(wheels: Path, *, python: str, extras: list[str]) -> None:
    """Resolve the install from the wheels alone, as the laptop will (no config, no index)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    own = sorted(wheels.glob("bastion-*.whl"))[-1]
    spec = f"{own}[{','.join(extras)}]" if extras else str(own)
    _pip(python, ["install", "--dry-run", "--ignore-installed", "--no-index", "--find-links", str(wheels), spec],
         env=env, what="resolving the kit offline")


def _add_bundle(out: Path, bundle: Path | None, progress: Progress) -> str:
    from app import paths
    from app.bundle.loader import read_manifest
    from app.bundle.transport import pack

    src = Path(bundle).expanduser() if bundle else paths.starter_bundle_dir()
    if not src.exists():
        raise KitError(f"bundle not found: {src}",
                       hint="create the starter bundle with `builder starter`, pass --bundle DIR, or use --no-bundle")
    name = read_manifest(src).name
    if not BUNDLE_NAME.fullmatch(name):
        raise KitError(f"bundle name {name!r} cannot name a file in the kit (install.sh uses it as a directory name)",
                       hint="rebuild the bundle with a plain name: letters, digits, '.', '_' or '-', 64 at most")
    progress(f"packing bundle {name!r} from {src}")
    pack(src, out / "bundle" / f"{name}.tar")
    return name


def _bundle_signer(bundle: Path | None) -> str | None:
    """The public key that signed the bundle, for install.sh to trust (kit.json, and so the kit fingerprint, covers it)."""
    from app import paths
    from app.bundle.signing import TrustPolicy, check_signature, public_key_line

    src = bundle or paths.starter_bundle_dir()
    status = check_signature(src, TrustPolicy.default())
    if not status.ok:
        log.warning("bundle %s is %s: the laptop will refuse it until its signer is trusted", src, status.describe())
        return None
    key, label = TrustPolicy.default().keys[status.key_id]
    return public_key_line(key, re.sub(r"[^A-Za-z0-9._-]", "-", label)[:64])


def _write_scripts(out: Path) -> None:
    files = resources.files("builder") / "kit_files"
    for name in ("install.sh", "verify_kit.py"):
        dst = out / name
        dst.write_text((files / name).read_text(encoding="utf-8"), encoding="utf-8")
        dst.chmod(0o755)


def _component(rel: str) -> str:
    name = rel.rsplit("/", 1)[-1]
    if rel.startswith("wheels/"):
        if name.startswith("bastion-"):
            return "bastion"
        if name.startswith("llama_cpp_python-"):
            return "llama-cpp-python"
        return "dependencies"
    if rel.startswith("bundle/"):
        return "bundle"
    return "scripts"


def _hash_files(out: Path) -> tuple[list[dict], dict[str, int]]:
    files, sizes = [], {}
    for p in sorted(out.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(out).as_posix()
        if rel in ("kit.json", "SHA256SUMS"):
            continue
        comp = _component(rel)
        size = p.stat().st_size
        files.append({"path": rel, "sha256": sha256_file(p), "size": size, "component": comp})
        sizes[comp] = sizes.get(comp, 0) + size
    return files, sizes


def _wheel_version(wheels: Path, dist: str) -> str | None:
    found = sorted(wheels.glob(f"{dist}-*.whl"))
    return found[-1].name.split("-")[1] if found else None


def _write_json(path: Path, data: dict) -> None:
    from app.atomic import write_text

    write_text(path, json.dumps(data, indent=2) + "\n")


def _tar_dir(out: Path) -> Path:
    from app.atomic import atomic_path

    arc = out.with_name(out.name + ".tar")
    with atomic_path(arc) as tmp:
        with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(out, arcname=out.name)
    return arc


def platform_summary() -> str:
    return f"Python {platform.python_version()} on {platform.system()} {platform.machine()}"
