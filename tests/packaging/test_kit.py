"""The offline install kit: built here, verified, installed with networking blocked, answering."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from builder.kit import KIT_FORMAT, _component, make_kit

KIT_FILES = Path(__file__).resolve().parents[2] / "builder" / "kit_files"


def _verify(kit: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(kit / "verify_kit.py"), str(kit)], capture_output=True, text=True, timeout=120)


def _mini_kit(root: Path, **meta) -> Path:
    """A kit with two small files, hashed like make_kit does (for verifier tests)."""
    import hashlib
    import platform

    (root / "wheels").mkdir(parents=True)
    (root / "wheels" / "demo-1.0-py3-none-any.whl").write_bytes(b"PK demo wheel")
    (root / "bundle").mkdir()
    (root / "bundle" / "starter.tar").write_bytes(b"tar bytes" * 10)
    shutil.copy(KIT_FILES / "verify_kit.py", root / "verify_kit.py")
    files = []
    for p in sorted(root.rglob("*")):
        if p.is_file():
            rel = p.relative_to(root).as_posix()
            files.append({"path": rel, "sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "size": p.stat().st_size,
                          "component": _component(rel)})
    here = {"python": "%d.%d" % sys.version_info[:2], "system": platform.system(), "machine": platform.machine()}
    (root / "kit.json").write_text(json.dumps({"format": KIT_FORMAT, **here, **meta, "files": files}))
    return root


def test_verifier_accepts_a_sound_kit(tmp_path):
    r = _verify(_mini_kit(tmp_path / "kit"))
    assert r.returncode == 0, r.stderr
    assert "kit fingerprint" in r.stdout and "every file matches" in r.stdout


def test_verifier_refuses_tampered_truncated_missing_and_extra(tmp_path):
    kit = _mini_kit(tmp_path / "kit")
    (kit / "wheels" / "demo-1.0-py3-none-any.whl").write_bytes(b"PK demo wheeL")  # same size, other bytes
    tar = kit / "bundle" / "starter.tar"
    tar.write_bytes(tar.read_bytes()[:20])
    (kit / "wheels" / "evil-6.6-py3-none-any.whl").write_bytes(b"x")
    r = _verify(kit)
    assert r.returncode == 1
    assert "demo-1.0-py3-none-any.whl: sha256 does not match" in r.stderr
    assert "starter.tar: 20 bytes, kit.json says 90 (truncated copy?)" in r.stderr
    assert "evil-6.6-py3-none-any.whl: not listed in kit.json" in r.stderr
    assert "Fix: copy the kit again" in r.stderr
    (kit / "bundle" / "starter.tar").unlink()
    assert "starter.tar: missing" in _verify(kit).stderr


def test_verifier_refuses_another_python(tmp_path):
    r = _verify(_mini_kit(tmp_path / "kit", python="2.7"))
    assert r.returncode == 1 and "built for python 2.7" in r.stderr


def test_kit_as_one_tar_verifies_after_extraction(tmp_path):
    import tarfile

    from builder.kit import _tar_dir

    arc = _tar_dir(_mini_kit(tmp_path / "bastion-kit"))
    assert arc == tmp_path / "bastion-kit.tar"
    with tarfile.open(arc) as tar:
        tar.extractall(tmp_path / "laptop", filter="data")
    assert _verify(tmp_path / "laptop" / "bastion-kit").returncode == 0


def test_component_names():
    assert _component("wheels/bastion-0.1.0-py3-none-any.whl") == "bastion"
    assert _component("wheels/llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl") == "llama-cpp-python"
    assert _component("wheels/numpy-2.0-cp311-cp311-manylinux_2_17_x86_64.whl") == "dependencies"
    assert _component("bundle/starter.tar") == "bundle"
    assert _component("install.sh") == "scripts"


def _can_unshare_net() -> str | None:
    if shutil.which("unshare") is None:
        return "the `unshare` tool is not installed"
    r = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if r.returncode != 0:
        return f"`unshare -n` is not permitted here (needs root or user namespaces): {r.stderr.strip()}"
    return None


def _index_reachable(tmp: Path) -> bool:
    r = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--dest", str(tmp), "tomli-w"],
                       capture_output=True, text=True, timeout=120)
    return r.returncode == 0


@pytest.mark.slow
def test_kit_installs_offline_and_answers(starter_bundle, tmp_path):
    """Connected machine: make the kit. Air-gapped (unshare -n): install.sh, then `bastion ask`."""
    why = _can_unshare_net()
    if why:
        pytest.skip(f"cannot block networking for the install: {why}")
    if not _index_reachable(tmp_path / "probe"):
        pytest.skip("no package index reachable: the kit is made on a connected machine")

    t0 = time.perf_counter()
    rep = make_kit(tmp_path / "kit", bundle=starter_bundle, progress=print)
    build_s = time.perf_counter() - t0
    kit = rep.path
    assert {"bastion", "llama-cpp-python", "dependencies", "bundle", "scripts"} <= set(rep.sizes)
    meta = json.loads((kit / "kit.json").read_text())
    assert meta["bundle"] == "starter" and meta["cmake_args"]
    assert len(meta["files"]) == rep.files == len((kit / "SHA256SUMS").read_text().splitlines())

    # The wheel carries its package data: model profiles, knowledge notes, analysis rules, kit scripts.
    own = next((kit / "wheels").glob("bastion-*.whl"))
    names = zipfile.ZipFile(own).namelist()
    assert "builder/models/smollm2-135m.toml" in names
    assert any(n.startswith("app/knowledge/notes/") and n.endswith(".md") for n in names)
    assert any(n.startswith("app/analysis/rules/") and n.endswith(".yaml") for n in names)
    assert "builder/kit_files/install.sh" in names and "builder/kit_files/verify_kit.py" in names

    prefix, home = tmp_path / "venv", tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "BASTION_"))}
    env.update(BASTION_HOME=str(home), BASTION_PREFIX=str(prefix), BASTION_BIN="", PYTHON=sys.executable)
    t0 = time.perf_counter()
    inst = subprocess.run(["unshare", "-n", "bash", str(kit / "install.sh")], capture_output=True, text=True,
                          env=env, timeout=600)
    install_s = time.perf_counter() - t0
    assert inst.returncode == 0, inst.stdout[-3000:] + inst.stderr[-3000:]
    assert rep.fingerprint in inst.stdout  # install.sh shows the fingerprint to compare
    assert "ok   engine" in inst.stdout and "with networking blocked" in inst.stdout  # bastion doctor
    assert (home / "bundles" / "starter" / "manifest.json").is_file()

    ask = subprocess.run(["unshare", "-n", str(prefix / "bin" / "bastion"), "ask", "What is SQL injection?",
                          "--json", "--max-tokens", "24"], capture_output=True, text=True, env=env, timeout=300)
    assert ask.returncode == 0, ask.stderr
    out = json.loads(ask.stdout)
    assert out["answer"].strip() and out["bundle"] == str(home / "bundles" / "starter")
    prof = subprocess.run(["unshare", "-n", str(prefix / "bin" / "builder"), "profiles"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert prof.returncode == 0 and "smollm2-135m" in prof.stdout, prof.stderr

    sizes = ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sorted(rep.sizes.items(), key=lambda kv: -kv[1]))
    print(f"\nkit: {rep.total / 1e6:.1f} MB ({sizes}); built in {build_s:.0f}s; "
          f"offline install {install_s:.0f}s")
