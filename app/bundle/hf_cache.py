"""Find a GGUF in the local Hugging Face cache, offline (no huggingface_hub needed).

Layout (huggingface_hub's): `<hub>/models--<org>--<name>/refs/<revision>` holds a
commit hash; `snapshots/<commit>/<file>` are the files (links into `blobs/`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from app.errors import BastionError

_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_SPLIT = re.compile(r"-\d{5}-of-\d{5}\.gguf$")
PREFERRED_QUANTS = ("Q4_K_M", "Q4_K_S", "Q5_K_M", "Q4_0", "Q8_0")


class HFCacheError(BastionError):
    """The Hugging Face cache does not hold a usable GGUF for the repository asked for."""


def hub_dir() -> Path:
    """`HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".cache" / "huggingface") / "hub"


def find_gguf(repo: str, *, filename: str | None = None, revision: str = "main", root: Path | None = None) -> Path:
    """The GGUF of `repo` (org/name) in the cache; `filename` picks one when the snapshot has several."""
    if not _REPO.match(repo) or ".." in repo:
        raise HFCacheError(f"{repo!r} is not a Hugging Face repository id", hint="give it as ORG/NAME")
    root = Path(root).expanduser() if root else hub_dir()
    base = root / ("models--" + repo.replace("/", "--"))
    if not base.is_dir():
        raise HFCacheError(f"{repo} is not in the Hugging Face cache at {root}",
                           hint=f"download it on a connected machine (`huggingface-cli download {repo} FILE.gguf`) "
                           "and copy the cache over, or set HF_HUB_CACHE")
    snap = _snapshot(base, revision)
    ggufs = sorted(p for p in snap.rglob("*.gguf") if p.is_file())
    if filename:
        ggufs = [p for p in ggufs if p.relative_to(snap).as_posix() == filename or p.name == filename]
        if not ggufs:
            raise HFCacheError(f"{repo}: no {filename} in the cached snapshot {snap.name[:12]}",
                               hint="list the snapshot's files and pass one with --hf-file")
    if not ggufs:
        raise HFCacheError(f"{repo}: the cached snapshot {snap.name[:12]} holds no .gguf file",
                           hint="download a GGUF of the model (repositories named ...-GGUF hold them)")
    whole = [p for p in ggufs if not _SPLIT.search(p.name)]
    if not whole:
        raise HFCacheError(f"{repo}: only split GGUF files ({ggufs[0].name} ...) are cached",
                           hint="merge them with llama.cpp's gguf-split --merge, then use --llm FILE")
    if len(whole) == 1:
        return whole[0].resolve()
    for quant in PREFERRED_QUANTS:
        hit = [p for p in whole if quant.lower() in p.name.lower()]
        if len(hit) == 1:
            return hit[0].resolve()
    raise HFCacheError(f"{repo}: several GGUF files cached ({', '.join(p.name for p in whole[:6])})",
                       hint="pick one with --hf-file NAME")


def _snapshot(base: Path, revision: str) -> Path:
    ref = base / "refs" / revision
    if ref.is_file():
        commit = ref.read_text(encoding="utf-8", errors="replace").strip()
    elif _COMMIT.match(revision):
        commit = revision
    else:
        snaps = sorted((p for p in (base / "snapshots").glob("*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
        if not snaps:
            raise HFCacheError(f"{base}: no snapshots in the cache", hint="download the model again")
        return snaps[-1]
    if not _COMMIT.match(commit):
        raise HFCacheError(f"{ref}: not a commit hash", hint="the cache is damaged; download the model again")
    snap = base / "snapshots" / commit
    if not snap.is_dir():
        raise HFCacheError(f"{snap}: snapshot named by refs/{revision} is missing", hint="download the model again")
    return snap
