"""The bundle contract: load, describe, and every verification failure names the file."""

from __future__ import annotations

import json
import os

import pytest

from app.bundle import FORMAT_VERSION, describe, load_bundle, read_manifest, verify_bundle
from app.errors import BundleError

pytestmark = pytest.mark.slow  # builds the starter bundle once per session


def test_starter_bundle_round_trip(starter_bundle):
    b = load_bundle(starter_bundle)
    m = b.manifest
    assert m.format_version == FORMAT_VERSION
    assert m.profile == "smollm2-135m"
    assert m.embedder is not None and m.embedder.dim == 384
    kinds = {c.kind for c in m.components}
    assert {"llm", "embedder", "prompts"} <= kinds
    assert verify_bundle(starter_bundle) == []
    d = describe(b)
    assert d["size_bytes"] == sum(c.size for c in m.components)
    assert d["context_length"] >= 2048


def test_flipped_byte_fails_hash(bundle_copy):
    llm = bundle_copy / "llm.gguf"
    with open(llm, "r+b") as fh:
        fh.seek(4096)
        b = fh.read(1)
        fh.seek(4096)
        fh.write(bytes([b[0] ^ 0xFF]))
    problems = verify_bundle(bundle_copy)
    assert len(problems) == 1 and str(llm) in problems[0] and "sha256" in problems[0]
    with pytest.raises(BundleError, match="llm.gguf"):
        load_bundle(bundle_copy)


def test_verified_cache_does_not_hide_changes(bundle_copy):
    assert load_bundle(bundle_copy).manifest.name == "starter"  # fills the cache
    prompts = bundle_copy / "prompts.toml"
    prompts.write_text(prompts.read_text() + "\n# edited\n")
    with pytest.raises(BundleError, match="prompts.toml"):
        load_bundle(bundle_copy)


def test_missing_file_named(bundle_copy):
    (bundle_copy / "embedder.gguf").unlink()
    problems = verify_bundle(bundle_copy)
    assert any("embedder.gguf" in p and "missing" in p for p in problems)


def test_truncated_file_named(bundle_copy):
    emb = bundle_copy / "embedder.gguf"
    os.truncate(emb, emb.stat().st_size // 2)
    problems = verify_bundle(bundle_copy)
    assert any("embedder.gguf" in p and "size" in p for p in problems)


def test_wrong_format_version(bundle_copy):
    mpath = bundle_copy / "manifest.json"
    data = json.loads(mpath.read_text())
    data["format_version"] = 99
    mpath.write_text(json.dumps(data))
    with pytest.raises(BundleError, match=r"manifest.json: bundle format_version 99 is not supported"):
        read_manifest(bundle_copy)


def test_manifest_not_json_names_line(bundle_copy):
    (bundle_copy / "manifest.json").write_text('{\n  "format_version": 1,\n  oops\n}')
    with pytest.raises(BundleError, match=r"manifest.json line 3"):
        read_manifest(bundle_copy)


def test_manifest_bad_field(bundle_copy):
    mpath = bundle_copy / "manifest.json"
    data = json.loads(mpath.read_text())
    data["components"][0]["sha256"] = "not-a-hash"
    mpath.write_text(json.dumps(data))
    with pytest.raises(BundleError, match=r"components\.0\.sha256"):
        read_manifest(bundle_copy)


def test_missing_bundle_and_missing_manifest(tmp_path):
    with pytest.raises(BundleError, match="bundle not found") as exc:
        load_bundle(tmp_path / "nope")
    assert "builder starter" in str(exc.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError, match="manifest missing"):
        load_bundle(tmp_path / "empty")


def test_component_path_escaping_bundle_is_refused(bundle_copy, tmp_path):
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"x")
    mpath = bundle_copy / "manifest.json"
    data = json.loads(mpath.read_text())
    data["components"].append({"path": "../outside.bin", "kind": "other", "size": 1,
                               "sha256": "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"})
    mpath.write_text(json.dumps(data))
    with pytest.raises(BundleError, match="not a plain relative path"):  # refused when the manifest is read
        verify_bundle(bundle_copy)


def test_app_does_not_write_into_bundle(starter_bundle):
    before = {p: p.stat().st_mtime_ns for p in starter_bundle.rglob("*")}
    load_bundle(starter_bundle)
    verify_bundle(starter_bundle, full=False)
    after = {p: p.stat().st_mtime_ns for p in starter_bundle.rglob("*")}
    assert before == after
