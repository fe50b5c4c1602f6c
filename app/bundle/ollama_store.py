"""Find a model's GGUF in a local Ollama store (manifests + blobs), without any Ollama process.

Layout (Ollama's own): `<models>/manifests/<registry>/<namespace>/<name>/<tag>` is
an OCI-style JSON manifest whose layers name blobs `<models>/blobs/sha256-<hex>`;
the layer with media type `application/vnd.ollama.image.model` is the GGUF and
`application/vnd.ollama.image.params` holds JSON defaults (stop strings, sampling).
The model blob is checked against its digest before it is trusted.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from app.bundle.hashing import sha256_file
from app.errors import BastionError

DEFAULT_REGISTRY = "registry.ollama.ai"
MODEL_MEDIA = "application/vnd.ollama.image.model"
PARAMS_MEDIA = "application/vnd.ollama.image.params"
ADAPTER_MEDIA = "application/vnd.ollama.image.adapter"
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_DIGEST = re.compile(r"^sha256[:-]([0-9a-f]{64})$")
_MAX_JSON = 1024 * 1024


class OllamaError(BastionError):
    """The Ollama store does not hold the model asked for, or it is damaged."""


@dataclass
class OllamaModel:
    name: str
    """The reference as given, normalised (`qwen2.5:7b`)."""
    gguf: Path
    sha256: str
    params: dict = field(default_factory=dict)
    """Ollama's own defaults for the model (stop, temperature, ...), when the store has them."""


def models_dir() -> Path:
    """`OLLAMA_MODELS`, else `~/.ollama/models`."""
    env = os.environ.get("OLLAMA_MODELS")
    return Path(env).expanduser() if env else Path.home() / ".ollama" / "models"


def parse_ref(ref: str) -> tuple[str, str, str, str]:
    """`name[:tag]`, `ns/name[:tag]` or `host/ns/name[:tag]` -> (registry, namespace, name, tag)."""
    path, _, tag = ref.strip().partition(":")
    if "/" in tag:  # a host:port registry, e.g. localhost:5000/ns/name
        raise OllamaError(f"Ollama model reference {ref!r}: registries with a port are not supported",
                          hint="give the model as NAME[:TAG], e.g. qwen2.5:7b")
    parts = [p for p in path.split("/") if p]
    if len(parts) == 1:
        parts = [DEFAULT_REGISTRY, "library", parts[0]]
    elif len(parts) == 2:
        parts = [DEFAULT_REGISTRY, *parts]
    tag = tag or "latest"
    if len(parts) != 3 or not all(_PART.match(p) for p in [*parts, tag]):
        raise OllamaError(f"{ref!r} is not an Ollama model reference", hint="give it as NAME[:TAG], e.g. llama3.1:8b")
    return parts[0], parts[1], parts[2], tag


def find_model(ref: str, *, root: Path | None = None, verify: bool = True) -> OllamaModel:
    """The GGUF blob (and params) of `ref` in the store at `root`; raise `OllamaError` if absent or damaged."""
    root = Path(root).expanduser() if root else models_dir()
    registry, ns, name, tag = parse_ref(ref)
    mpath = root / "manifests" / registry / ns / name / tag
    if not mpath.is_file():
        have = list_models(root)
        listing = f" (the store has: {', '.join(have[:8])}{' ...' if len(have) > 8 else ''})" if have else ""
        raise OllamaError(f"model {ref!r} not found in the Ollama store {root}{listing}",
                          hint="check `ollama list` on that machine, or set OLLAMA_MODELS to the store's path")
    manifest = _read_json(mpath)
    layers = manifest.get("layers") if isinstance(manifest, dict) else None
    if not isinstance(layers, list):
        raise OllamaError(f"{mpath}: not an Ollama manifest (no layers)", hint="pull the model again with Ollama")
    kinds = [ly.get("mediaType") for ly in layers if isinstance(ly, dict)]
    if ADAPTER_MEDIA in kinds:
        raise OllamaError(f"{ref}: the Ollama model applies a LoRA adapter on top of its base; not supported",
                          hint="merge the adapter into the model first, then import the merged GGUF with --llm")
    models = [ly for ly in layers if isinstance(ly, dict) and ly.get("mediaType") == MODEL_MEDIA]
    if len(models) != 1:
        raise OllamaError(f"{mpath}: expected one model layer, found {len(models)}", hint="pull the model again with Ollama")
    gguf, digest = _blob(root, models[0], mpath)
    if verify:
        got = sha256_file(gguf)
        if got != digest:
            raise OllamaError(f"{gguf}: sha256 {got[:12]}… does not match the manifest's {digest[:12]}… (damaged blob)",
                              hint="re-pull the model with Ollama")
    params: dict = {}
    for ly in layers:
        if isinstance(ly, dict) and ly.get("mediaType") == PARAMS_MEDIA:
            p, _ = _blob(root, ly, mpath)
            data = _read_json(p)
            params = data if isinstance(data, dict) else {}
    return OllamaModel(name=f"{name}:{tag}" if ns == "library" else f"{ns}/{name}:{tag}", gguf=gguf, sha256=digest,
                       params=params)


def list_models(root: Path) -> list[str]:
    base = Path(root) / "manifests"
    if not base.is_dir():
        return []
    out = []
    for tag in sorted(base.glob("*/*/*/*")):
        if tag.is_file():
            ns, name = tag.parent.parent.name, tag.parent.name
            out.append(f"{name}:{tag.name}" if ns == "library" else f"{ns}/{name}:{tag.name}")
    return out


def _blob(root: Path, layer: dict, mpath: Path) -> tuple[Path, str]:
    m = _DIGEST.match(str(layer.get("digest", "")))
    if not m:
        raise OllamaError(f"{mpath}: layer digest {layer.get('digest')!r} is not a sha256 digest",
                          hint="the manifest is damaged; pull the model again")
    path = root / "blobs" / f"sha256-{m.group(1)}"
    if not path.is_file():
        raise OllamaError(f"{path}: blob listed in {mpath} is missing", hint="pull the model again with Ollama")
    size = layer.get("size")
    if isinstance(size, int) and path.stat().st_size != size:
        raise OllamaError(f"{path}: {path.stat().st_size} bytes, the manifest says {size} (truncated?)",
                          hint="pull the model again with Ollama")
    return path, m.group(1)


def _read_json(path: Path):
    if path.stat().st_size > _MAX_JSON:
        raise OllamaError(f"{path}: larger than {_MAX_JSON} bytes; not an Ollama manifest", hint="check the store")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OllamaError(f"{path}: not valid JSON ({exc})", hint="pull the model again with Ollama") from None
