"""The bundle: load, verify, describe (and seal, for the builder)."""

from app.bundle.loader import Bundle, describe, load_bundle, read_manifest, verify_bundle
from app.bundle.manifest import FORMAT_VERSION, ChatSpec, Component, EmbedderSpec, Manifest

__all__ = [
    "FORMAT_VERSION",
    "Bundle",
    "ChatSpec",
    "Component",
    "EmbedderSpec",
    "Manifest",
    "describe",
    "load_bundle",
    "read_manifest",
    "verify_bundle",
]
