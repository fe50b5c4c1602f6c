"""Bundle transport: pack / verify / unpack, and every hostile or damaged archive is refused."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.bundle import FORMAT_VERSION, Manifest, verify_bundle
from app.bundle.transport import pack, safe_member_name, unpack, verify_archive
from app.bundle.writer import seal
from app.errors import BundleError


def _small_bundle(root: Path) -> Path:
    """A sealed bundle with made-up weights (hashing does not care what the bytes mean)."""
    root.mkdir(parents=True)
    (root / "llm.gguf").write_bytes(b"GGUF" + bytes(range(256)) * 400)
    (root / "prompts.toml").write_text('[chat]\nsystem = "be brief"\n')
    (root / "index").mkdir()
    (root / "index" / "chunks.jsonl").write_text('{"id": 1}\n')
    seal(root, Manifest(format_version=FORMAT_VERSION, name="tiny", profile="test", prompts="prompts.toml", index="index"))
    return root


@pytest.fixture
def bundle(tmp_path) -> Path:
    return _small_bundle(tmp_path / "src")


@pytest.fixture
def archive(bundle, tmp_path) -> Path:
    return pack(bundle, tmp_path / "tiny.tar")


def _hostile(tmp_path: Path, bundle: Path, extra: tarfile.TarInfo, data: bytes | None = None) -> Path:
    """A well-formed packed bundle with one extra hostile member appended."""
    out = tmp_path / "hostile.tar"
    with tarfile.open(out, "w") as tar:
        for p in sorted(bundle.rglob("*")):
            if p.is_file():
                tar.add(p, arcname=p.relative_to(bundle).as_posix())
        tar.addfile(extra, io.BytesIO(data) if data is not None else None)
    return out


def test_round_trip(bundle, archive, tmp_path):
    assert verify_archive(archive) == []
    dest = unpack(archive, tmp_path / "out" / "tiny")
    assert verify_bundle(dest) == []
    assert (dest / "index" / "chunks.jsonl").read_text() == '{"id": 1}\n'
    assert not [p for p in dest.parent.iterdir() if p.name.startswith(".")], "staging left behind"


def test_gzip_round_trip(bundle, tmp_path):
    arc = pack(bundle, tmp_path / "tiny.tar.gz")
    with open(arc, "rb") as fh:
        assert fh.read(2) == b"\x1f\x8b"
    assert verify_archive(arc) == []
    assert verify_bundle(unpack(arc, tmp_path / "gz")) == []


def test_tampered_archive_is_refused(archive, tmp_path):
    raw = bytearray(archive.read_bytes())
    pos = raw.find(bytes(range(256)))
    raw[pos + 100] ^= 0xFF
    archive.write_bytes(bytes(raw))
    problems = verify_archive(archive)
    assert len(problems) == 1 and "llm.gguf" in problems[0] and "altered" in problems[0]
    with pytest.raises(BundleError, match=r"refusing .*llm.gguf.*altered") as err:
        unpack(archive, tmp_path / "t")
    assert "copy it again" in str(err.value)
    assert not (tmp_path / "t").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".t.unpack")]


@pytest.mark.parametrize("keep", [0.3, 0.97])
def test_truncated_archive_is_refused(archive, tmp_path, keep):
    raw = archive.read_bytes()
    archive.write_bytes(raw[: int(len(raw) * keep)])
    problems = verify_archive(archive)
    assert problems and "truncated" in problems[0]
    with pytest.raises(BundleError, match="truncated"):
        unpack(archive, tmp_path / "t")
    assert not (tmp_path / "t").exists()


def test_truncated_gzip_is_refused(bundle, tmp_path):
    arc = pack(bundle, tmp_path / "tiny.tgz")
    arc.write_bytes(arc.read_bytes()[:-200])
    assert "truncated" in verify_archive(arc)[0]


def test_not_an_archive(tmp_path):
    f = tmp_path / "x.tar"
    f.write_text("hello, not a tar")
    assert "not a readable tar archive" in verify_archive(f)[0]


@pytest.mark.parametrize("name", ["../evil.txt", "/tmp/evil.txt", "index/../../evil.txt", "C:/evil.txt", "a\\..\\evil"])
def test_path_traversal_is_refused(bundle, tmp_path, name):
    info = tarfile.TarInfo(name)
    info.size = 4
    arc = _hostile(tmp_path, bundle, info, b"evil")
    assert any("unsafe path" in p for p in verify_archive(arc))
    with pytest.raises(BundleError, match="unsafe path"):
        unpack(arc, tmp_path / "dest" / "b")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "dest" / "evil.txt").exists()
    assert not (tmp_path / "dest" / "b").exists()


@pytest.mark.parametrize(
    "kind, word",
    [(tarfile.SYMTYPE, "symlink"), (tarfile.LNKTYPE, "hard link"), (tarfile.CHRTYPE, "device"), (tarfile.FIFOTYPE, "special")],
)
def test_links_and_devices_are_refused(bundle, tmp_path, kind, word):
    info = tarfile.TarInfo("index/link")
    info.type = kind
    info.linkname = "/etc/passwd"
    arc = _hostile(tmp_path, bundle, info)
    problems = verify_archive(arc)
    assert any(word in p and "refused" in p for p in problems)
    with pytest.raises(BundleError, match=word):
        unpack(arc, tmp_path / "b")
    assert not (tmp_path / "b").exists()


def test_unlisted_file_is_refused(bundle, tmp_path):
    info = tarfile.TarInfo("index/extra.bin")
    info.size = 3
    arc = _hostile(tmp_path, bundle, info, b"abc")
    assert verify_archive(arc) == ["index/extra.bin: in the archive but not listed in the manifest; refused"]


def test_safe_member_names():
    assert safe_member_name("./index/a.bin") == "index/a.bin"
    for bad in ("", "..", "/abs", "a/../../b", "C:x", "a\\b", "a\x00b"):
        assert safe_member_name(bad) is None


def test_unpack_refuses_existing_target(archive, tmp_path):
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "mine.txt").write_text("keep me")
    with pytest.raises(BundleError, match="already exists"):
        unpack(archive, dest)
    assert (dest / "mine.txt").read_text() == "keep me"


def test_pack_refuses_unsound_bundle(bundle, tmp_path):
    (bundle / "prompts.toml").write_text("changed")
    with pytest.raises(BundleError, match="refusing to pack"):
        pack(bundle, tmp_path / "x.tar")
    assert not (tmp_path / "x.tar").exists()


def test_cli_pack_verify_unpack(bundle, tmp_path):
    from app.cli.main import cli

    runner = CliRunner()
    arc = tmp_path / "cli.tar"
    r = runner.invoke(cli, ["bundle", "pack", str(bundle), str(arc)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["bundle", "verify", str(arc), "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["ok"] is True
    r = runner.invoke(cli, ["bundle", "unpack", str(arc)])  # default: BASTION_HOME/bundles/cli
    assert r.exit_code == 0, r.output
    from app import paths

    assert verify_bundle(paths.bundles_dir() / "cli") == []
    raw = bytearray(arc.read_bytes())
    raw[raw.find(bytes(range(256))) + 7] ^= 1
    arc.write_bytes(bytes(raw))
    r = runner.invoke(cli, ["bundle", "verify", str(arc), "--json"])
    assert r.exit_code == 1 and "altered" in json.loads(r.output)["problems"][0]
