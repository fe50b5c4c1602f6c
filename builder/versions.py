"""Library versions recorded in meta.json files and bundle manifests."""

from __future__ import annotations

from importlib import metadata

_DISTS = ("bastion", "llama_cpp_python", "transformers", "torch", "peft", "trl", "sentence-transformers", "gguf", "unsloth", "accelerate", "datasets", "chromadb")


def tool_versions() -> dict[str, str]:
    out = {}
    for d in _DISTS:
        try:
            out[d] = metadata.version(d)
        except metadata.PackageNotFoundError:
            pass
    return out
