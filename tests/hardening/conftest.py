"""Hostile-input tests: every hostile file is generated here, never checked in."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.bundle.manifest import FORMAT_VERSION, Manifest


def make_bundle(root: Path, *, name: str = "tiny", sign: bool = True, signing_key=None) -> Path:
    """A small sealed bundle (no real models: loading a bundle only verifies it)."""
    from app.bundle.writer import seal

    root.mkdir(parents=True, exist_ok=True)
    (root / "llm.gguf").write_bytes(b"GGUF" + bytes(range(256)) * 64)
    (root / "prompts.toml").write_text('chat_system = "You are Bastion."\n', encoding="utf-8")
    (root / "index").mkdir(exist_ok=True)
    (root / "index" / "chroma.sqlite3").write_bytes(b"not really sqlite" * 10)
    seal(root, Manifest(format_version=FORMAT_VERSION, name=name, profile="test", prompts="prompts.toml", index="index"),
         sign=sign, signing_key=signing_key)
    return root


@pytest.fixture
def tiny_bundle(tmp_path) -> Path:
    return make_bundle(tmp_path / "tiny")
