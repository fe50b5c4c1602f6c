"""Write a bundle manifest from the files in a directory (used by the builder)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.atomic import write_text
from app.bundle.hashing import sha256_file
from app.bundle.manifest import MANIFEST_NAME, Component, ComponentKind, Manifest


def component_kind(rel: str, manifest: Manifest) -> ComponentKind:
    if rel == manifest.llm:
        return "llm"
    if manifest.embedder and rel == manifest.embedder.path:
        return "embedder"
    if manifest.reranker and rel == manifest.reranker:
        return "reranker"
    if manifest.index and rel.startswith(manifest.index.rstrip("/") + "/"):
        return "index"
    if manifest.prompts and rel == manifest.prompts:
        return "prompts"
    if rel.startswith("eval/"):
        return "eval"
    return "other"


def seal(root: Path, manifest: Manifest, *, sign: bool = True, signing_key: Any = None) -> Manifest:
    """Hash every file under root into manifest.components, write manifest.json atomically and sign it.

    The signature (`manifest.sig`) is made with `signing_key` (an Ed25519
    private key, or the path of its PEM file), else `BASTION_SIGNING_KEY`, else
    this machine's local key (made and trusted on first use). `sign=False`
    leaves the bundle unsigned (the app refuses it unless told otherwise).
    """
    from app.bundle.signing import SIGNATURE_NAME, load_private_key, sign_bundle

    root = Path(root)
    comps = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel in (MANIFEST_NAME, SIGNATURE_NAME) or path.name.startswith("."):
            continue
        comps.append(
            Component(path=rel, kind=component_kind(rel, manifest), sha256=sha256_file(path), size=path.stat().st_size)
        )
    sealed = manifest.model_copy(update={"components": comps})
    write_text(root / MANIFEST_NAME, json.dumps(sealed.model_dump(mode="json"), indent=2) + "\n")
    (root / SIGNATURE_NAME).unlink(missing_ok=True)  # a signature of the old manifest is void
    if sign:
        key = load_private_key(signing_key) if isinstance(signing_key, (str, Path)) else signing_key
        sign_bundle(root, key)
    return sealed
