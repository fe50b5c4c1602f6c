"""Hostile archives: checked against the manifest and size caps before a byte is written."""

from __future__ import annotations

import errno
import gzip
import io
import json
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from app.bundle import load_bundle, transport
from app.bundle.transport import pack, unpack, verify_archive
from app.errors import BundleError


def _member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _archive(path: Path, members: list[tuple[str, bytes]], *, gz: bool = False) -> Path:
    with tarfile.open(path, "w:gz" if gz else "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            _member(tar, name, data)
    return path


@pytest.fixture
def spy(monkeypatch):
    """Records every member the unpacker opens for writing."""
    opened: list[str] = []
    real = transport._open_in

    def open_in(root, rel):
        opened.append(rel)
        return real(root, rel)

    monkeypatch.setattr(transport, "_open_in", open_in)
    return opened


def test_signed_bundle_round_trip_keeps_its_signature(tiny_bundle, tmp_path):
    arc = pack(tiny_bundle, tmp_path / "b.tar")
    assert verify_archive(arc) == []
    out = unpack(arc, tmp_path / "out")
    assert load_bundle(out).signature.signer == "test-session"


def test_unlisted_member_is_never_written(tiny_bundle, tmp_path, spy):
    """1 MB of archive that would write 64 MiB: refused at the header, nothing extracted."""
    arc = tmp_path / "bomb.tar.gz"
    manifest = (tiny_bundle / "manifest.json").read_bytes()
    with tarfile.open(arc, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        _member(tar, "manifest.json", manifest)
        info = tarfile.TarInfo("index/filler.bin")
        info.size = 64 * 1024 * 1024
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    assert arc.stat().st_size < 1_000_000
    with pytest.raises(BundleError, match="not listed in the manifest"):
        unpack(arc, tmp_path / "out")
    assert "index/filler.bin" not in spy and not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.unpack-*"))


def test_member_bigger_than_the_manifest_says_is_never_written(tiny_bundle, tmp_path, spy):
    manifest = (tiny_bundle / "manifest.json").read_bytes()
    arc = _archive(tmp_path / "big.tar", [("manifest.json", manifest), ("llm.gguf", b"x" * 5_000_000)])
    with pytest.raises(BundleError, match="manifest says"):
        unpack(arc, tmp_path / "out")
    assert "llm.gguf" not in spy


def test_members_before_the_manifest_are_judged_by_it_too(tiny_bundle, tmp_path, spy):
    """The manifest need not come first: unpacking reads it in a pass that writes nothing."""
    manifest = (tiny_bundle / "manifest.json").read_bytes()
    arc = _archive(tmp_path / "late.tar", [("zzz-unlisted.bin", b"x" * 1000), ("manifest.json", manifest)])
    with pytest.raises(BundleError, match="not listed in the manifest"):
        unpack(arc, tmp_path / "out")
    assert spy == []


def _pax_bomb(path: Path, payload: bytes) -> Path:
    """A tar whose first header is a PAX extended header carrying `payload` (gzip-compressed)."""
    head = tarfile.TarInfo("././@PaxHeader")
    head.type = tarfile.XHDTYPE
    head.size = len(payload)
    raw = head.tobuf(format=tarfile.USTAR_FORMAT) + payload + bytes(-len(payload) % 512)
    body = tarfile.TarInfo("manifest.json")
    raw += body.tobuf(format=tarfile.USTAR_FORMAT) + bytes(1024)
    path.write_bytes(gzip.compress(raw, 9))
    return path


def test_pax_header_redos_is_refused_before_tarfile_parses_it(tmp_path):
    """CVE-2024-6232: a few KB of gzip that CPython's tarfile chews on for a long time."""
    arc = _pax_bomb(tmp_path / "redos.tar.gz", b"1" * 8_000_000 + b" ")
    assert arc.stat().st_size < 20_000
    t0 = time.perf_counter()
    problems = verify_archive(arc)
    assert time.perf_counter() - t0 < 5
    assert problems and "extended header" in problems[0]


def test_small_malformed_pax_header_is_refused(tmp_path):
    arc = _pax_bomb(tmp_path / "bad.tar.gz", b"99 path" + b" " * 3000 + b"\n")
    problems = verify_archive(arc)
    assert problems and "malformed PAX" in problems[0]


def test_disk_full_is_reported_as_disk_full(tiny_bundle, tmp_path, monkeypatch):
    arc = pack(tiny_bundle, tmp_path / "b.tar")

    class Full(io.BytesIO):
        def write(self, b):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(transport, "_open_in", lambda root, rel: Full())
    with pytest.raises(BundleError, match="no space left") as err:
        unpack(arc, tmp_path / "out")
    assert "corrupt" not in str(err.value)
    assert not list(tmp_path.glob(".out.unpack-*"))


def test_not_enough_free_space_is_known_before_writing(tiny_bundle, tmp_path, monkeypatch, spy):
    import shutil
    from collections import namedtuple

    arc = pack(tiny_bundle, tmp_path / "b.tar")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10, 10, 0))
    with pytest.raises(BundleError, match="no space left"):
        unpack(arc, tmp_path / "out")
    assert spy == []  # known from the manifest before anything was written


# -- the offline kit's install.sh --------------------------------------------------------


def _fake_kit(tmp_path: Path, meta: dict) -> subprocess.CompletedProcess:
    """A kit with the real install.sh and verify_kit.py and the given kit.json; install.sh run on it."""
    import hashlib

    import builder

    kit = tmp_path / "kit"
    kit.mkdir()
    files = Path(builder.__file__).parent / "kit_files"
    for name in ("install.sh", "verify_kit.py"):
        (kit / name).write_bytes((files / name).read_bytes())
    meta["files"] = [{"path": n, "size": (kit / n).stat().st_size, "sha256": hashlib.sha256((kit / n).read_bytes()).hexdigest()}
                     for n in ("install.sh", "verify_kit.py")]
    (kit / "kit.json").write_text(json.dumps({"extras": [], **meta}))
    return subprocess.run(["bash", str(kit / "install.sh")], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "BASTION_PREFIX": str(tmp_path / "venv"),
                               "BASTION_BIN": "", "BASTION_HOME": str(tmp_path / "home")})


def test_kit_refuses_a_hostile_bundle_name(tmp_path):
    from builder.kit import BUNDLE_NAME

    for bad in ("../../home", "a/b", "-rf", ".hidden", "x" * 80, "a b", ""):
        assert not BUNDLE_NAME.fullmatch(bad)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    r = _fake_kit(tmp_path, {"bundle": "../../../../" + str(victim)})
    assert r.returncode != 0 and "not a plain name" in (r.stdout + r.stderr)
    assert (victim / "keep.txt").read_text() == "precious" and not (tmp_path / "venv").exists()


def test_kit_refuses_a_hostile_signer_line(tmp_path):
    r = _fake_kit(tmp_path, {"bundle": None, "bundle_signer": "ed25519:AAAA $(touch /tmp/pwned) x"})
    assert r.returncode != 0 and "not an Ed25519 public key" in r.stderr
    assert not (tmp_path / "venv").exists()


def test_kit_records_the_bundle_signer_for_the_laptop(tiny_bundle):
    import re

    from builder.kit import _bundle_signer

    line = _bundle_signer(tiny_bundle)
    assert re.fullmatch(r"ed25519:[A-Za-z0-9+/]{43}=( [A-Za-z0-9._-]{1,64})?", line)
    assert line.endswith(" test-session")
