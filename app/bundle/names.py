"""Bundle names: `qwen` (a directory under `BASTION_HOME/bundles`) or a path.

A leaf (only `app.paths`): the settings resolve the configured bundle with it, and the catalog,
loader and signing modules all sit above the settings.
"""

from __future__ import annotations

from pathlib import Path

from app import paths


def bundle_dir(ref: str | Path) -> Path:
    """A bundle name (`qwen`) or a path -> its directory; a name is looked up under `bundles/` first."""
    text = str(ref)
    p = Path(text).expanduser()
    if "/" not in text and "\\" not in text and not text.startswith((".", "~")):
        named = paths.bundles_dir() / text
        if named.is_dir() or not p.exists():
            return named
    return p
