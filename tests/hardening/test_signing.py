"""Signed bundles: a swapped model is refused, a trusted signer loads, the signer is shown."""

from __future__ import annotations

import json
import os

import pytest

from app.bundle import load_bundle, read_manifest
from app.bundle.hashing import sha256_file
from app.bundle.signing import SIGNATURE_NAME, TrustPolicy, check_signature, generate_key, load_private_key
from app.errors import BundleError
from tests.hardening.conftest import make_bundle


def _rehash(root, rel):
    """What an attacker without the key can do: fix the manifest's hashes after swapping a file."""
    m = json.loads((root / "manifest.json").read_text())
    for c in m["components"]:
        if c["path"] == rel:
            c["sha256"], c["size"] = sha256_file(root / rel), (root / rel).stat().st_size
    (root / "manifest.json").write_text(json.dumps(m, indent=2))


def test_signed_by_trusted_key_loads(tiny_bundle):
    b = load_bundle(tiny_bundle)
    assert b.signature.ok and b.signature.signer == "test-session"
    assert (tiny_bundle / SIGNATURE_NAME).is_file()


def test_swapped_model_rehashed_without_key_is_refused(tiny_bundle):
    (tiny_bundle / "llm.gguf").write_bytes(b"GGUF evil weights" * 100)
    _rehash(tiny_bundle, "llm.gguf")
    assert not __import__("app.bundle", fromlist=["verify_bundle"]).verify_bundle(tiny_bundle)  # hashes agree now
    with pytest.raises(BundleError, match="changed after it was signed"):
        load_bundle(tiny_bundle)


def test_allow_unsigned_never_lets_an_altered_bundle_through(tiny_bundle):
    _rehash(tiny_bundle, "llm.gguf")
    (tiny_bundle / "manifest.json").write_text((tiny_bundle / "manifest.json").read_text() + " ")
    with pytest.raises(BundleError, match="signature invalid"):
        load_bundle(tiny_bundle, trust=TrustPolicy.build(allow_unsigned=True))


def test_unsigned_refused_unless_opted_in(tmp_path, monkeypatch):
    root = make_bundle(tmp_path / "b", sign=False)
    with pytest.raises(BundleError, match="is not signed"):
        load_bundle(root)
    monkeypatch.setenv("BASTION_TRUST__ALLOW_UNSIGNED", "1")
    b = load_bundle(root)
    assert b.signature.state == "unsigned"


def test_resigned_by_attackers_own_key_is_unknown_signer(tiny_bundle, tmp_path):
    from app.bundle.signing import sign_bundle

    generate_key(tmp_path / "attacker.pem")
    (tiny_bundle / "llm.gguf").write_bytes(b"GGUF evil" * 100)
    _rehash(tiny_bundle, "llm.gguf")
    sign_bundle(tiny_bundle, load_private_key(tmp_path / "attacker.pem"))
    with pytest.raises(BundleError, match="not a trusted key"):
        load_bundle(tiny_bundle)


def test_local_key_made_and_trusted_on_first_seal(tmp_path, monkeypatch, bastion_home):
    """The starter bundle is made on this machine: sealed with a local key that is trusted at once."""
    monkeypatch.delenv("BASTION_SIGNING_KEY")
    monkeypatch.delenv("BASTION_TRUST__KEYS")
    (bastion_home / "keys" / "trusted" / "test-session.pub").unlink()
    root = make_bundle(tmp_path / "local")
    assert (bastion_home / "keys" / "local-signing.pem").stat().st_mode & 0o077 == 0
    assert load_bundle(root).signature.signer == "local"


def test_byte_flip_with_restored_mtime_is_rehashed(tiny_bundle):
    load_bundle(tiny_bundle)  # fills the verification cache
    llm = tiny_bundle / "llm.gguf"
    st = llm.stat()
    data = bytearray(llm.read_bytes())
    data[100] ^= 0xFF
    with open(llm, "r+b") as fh:  # in place: same inode, same size
        fh.write(data)
    os.utime(llm, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(BundleError, match="sha256"):
        load_bundle(tiny_bundle)


@pytest.mark.parametrize("field,value", [("index", "/usr/share/doc"), ("llm", "../../etc/passwd"),
                                         ("prompts", "C:/x"), ("index", "a/../../b")])
def test_manifest_paths_are_confined(tiny_bundle, field, value):
    m = json.loads((tiny_bundle / "manifest.json").read_text())
    m[field] = value
    (tiny_bundle / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(BundleError, match="not a plain relative path"):
        read_manifest(tiny_bundle)


def test_index_symlink_out_of_bundle_refused(tiny_bundle, tmp_path):
    from app.bundle import verify_bundle

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "chroma.sqlite3").write_bytes((tiny_bundle / "index" / "chroma.sqlite3").read_bytes())
    import shutil

    shutil.rmtree(tiny_bundle / "index")
    (tiny_bundle / "index").symlink_to(outside)
    assert any("outside" in p or "escapes" in p for p in verify_bundle(tiny_bundle))


def test_info_and_doctor_show_the_signer(tiny_bundle):
    from app.bundle import describe
    from app.doctor import run_doctor
    from app.settings import Settings

    d = describe(load_bundle(tiny_bundle, verify=False))
    assert d["signer"] == "test-session" and "trusted" in d["signature"]
    checks = {c.name: c for c in run_doctor(Settings(bundle=tiny_bundle), probe=False)}
    assert checks["signer"].ok and "test-session" in checks["signer"].detail


def test_doctor_flags_unknown_signer(tiny_bundle, monkeypatch, bastion_home):
    from app.doctor import run_doctor
    from app.settings import Settings

    monkeypatch.delenv("BASTION_TRUST__KEYS")
    (bastion_home / "keys" / "trusted" / "test-session.pub").unlink()
    checks = {c.name: c for c in run_doctor(Settings(bundle=tiny_bundle), probe=False)}
    assert not checks["signer"].ok and "untrusted" in checks["signer"].detail


def test_damaged_signature_file_is_invalid(tiny_bundle):
    (tiny_bundle / SIGNATURE_NAME).write_text('{"payload": "!!", "signatures": [')
    assert check_signature(tiny_bundle, TrustPolicy.build()).state == "invalid"


def test_cli_shows_signer_and_fails_a_tampered_bundle(tiny_bundle, tmp_path):
    from typer.testing import CliRunner

    from app.cli.main import cli

    runner = CliRunner()
    ok = runner.invoke(cli, ["bundle", "verify", str(tiny_bundle)])
    assert ok.exit_code == 0 and "signed by test-session" in ok.output
    assert "signed by test-session" in runner.invoke(cli, ["bundle", "info", str(tiny_bundle)]).output
    (tiny_bundle / "llm.gguf").write_bytes(b"GGUF evil" * 100)
    _rehash(tiny_bundle, "llm.gguf")
    bad = runner.invoke(cli, ["bundle", "verify", str(tiny_bundle)])
    assert bad.exit_code == 1 and "changed after it was signed" in bad.output
    assert runner.invoke(cli, ["bundle", "signer", str(tiny_bundle)]).exit_code == 1


def test_cli_keygen_sign_trust(tmp_path):
    from typer.testing import CliRunner

    from app.cli.main import cli

    runner = CliRunner()
    root = make_bundle(tmp_path / "org", sign=False)
    assert runner.invoke(cli, ["bundle", "keygen", str(tmp_path / "org.pem"), "--label", "acme"]).exit_code == 0
    assert runner.invoke(cli, ["bundle", "sign", str(root), "--key", str(tmp_path / "org.pem")]).exit_code == 0
    assert runner.invoke(cli, ["bundle", "signer", str(root)]).exit_code == 1  # not trusted yet
    r = runner.invoke(cli, ["bundle", "trust", str(tmp_path / "org.pem.pub"), "--name", "acme"])
    assert r.exit_code == 0, r.output
    assert load_bundle(root).signature.signer == "acme"
