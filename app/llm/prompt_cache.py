"""Prompt caches: reuse the KV state llama.cpp already computed for a prompt prefix.

Within one process the engine's llama.cpp context keeps the state of the last
prompt, and llama-cpp-python re-evaluates only the tokens after the longest
common prefix (the system prompt, the conversation so far). A prompt cache adds
states that survive other prompts in between (`ram`, for the TUI and `serve`)
or the process itself (`disk`, for one-shot `bastion ask`).

Both are llama-cpp-python's own caches (`LlamaRAMCache`, `LlamaDiskCache`):
entries are `Llama.save_state()` snapshots keyed by their token sequence and
found by longest token prefix, evicted oldest-first beyond `capacity_bytes`.
What this module adds:

- keys: a disk cache lives in a folder named for the model's fingerprint, the
  context size and the llama-cpp-python version, so a state is only ever loaded
  into the model and context shape that wrote it;
- lean entries: `save_state()` copies `n_batch` rows of logits llama-cpp-python
  never reads back unless `logits_all` is on (311 MB a state for a 152k-token
  vocabulary); the cache keeps only the last row;
- safety: an entry that cannot be read (truncated file, older format) empties
  the cache and counts as a miss instead of failing the answer; nothing is
  printed (the TUI owns the terminal).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path
from typing import Sequence

log = logging.getLogger(__name__)

KINDS = ("off", "ram", "disk")
RAM_CAPACITY = 1 << 30
DISK_CAPACITY = 2 << 30


def cache_key(fingerprint: str, *, n_ctx: int, extra: str = "") -> str:
    """The folder name for one model + context shape + llama-cpp-python version."""
    import llama_cpp

    raw = f"{fingerprint}|n_ctx={n_ctx}|llama_cpp={llama_cpp.__version__}|{extra}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _lean(state):
    """Drop the logits rows nobody reads back (see the module docstring)."""
    scores = getattr(state, "scores", None)
    if scores is not None and scores.ndim == 2 and scores.shape[0] > 1:
        state.scores = scores[-1:].copy()
    return state


def make_prompt_cache(kind: str, *, fingerprint: str, n_ctx: int, root: Path | None = None,
                      capacity_bytes: int | None = None, keep_all_logits: bool = False):
    """A llama-cpp-python cache for `Llama.set_cache`, or None for kind 'off'."""
    if kind not in KINDS:
        from app.errors import ConfigError

        raise ConfigError(f"unknown prompt cache {kind!r}", hint=f"use one of: {', '.join(KINDS)}")
    if kind == "off":
        return None
    from llama_cpp.llama_cache import LlamaDiskCache, LlamaRAMCache

    class RamPromptCache(LlamaRAMCache):
        """LlamaRAMCache with lean entries."""

        def __setitem__(self, key: Sequence[int], value) -> None:
            super().__setitem__(key, value if keep_all_logits else _lean(value))

    class DiskPromptCache(LlamaDiskCache):
        """LlamaDiskCache with lean entries, no prints, and unreadable entries treated as a miss."""

        def __getitem__(self, key: Sequence[int]):
            try:
                return super().__getitem__(key)
            except KeyError:
                raise
            except Exception as exc:  # a truncated or foreign entry: start over rather than fail the answer
                log.warning("prompt cache %s unreadable (%s); clearing it", self.cache.directory, exc)
                self.cache.clear()
                raise KeyError("unreadable cache entry") from None

        def __setitem__(self, key: Sequence[int], value) -> None:
            key = tuple(key)
            value = value if keep_all_logits else _lean(value)
            try:
                self.cache.set(key, value)
                while self.cache_size > self.capacity_bytes and len(self.cache) > 1:
                    del self.cache[next(iter(self.cache))]
            except Exception as exc:  # a full disk must not fail the answer
                log.warning("prompt cache %s not written (%s)", self.cache.directory, exc)

    if kind == "ram":
        return RamPromptCache(capacity_bytes=capacity_bytes or RAM_CAPACITY)
    if root is None:
        from app.paths import cache_dir

        root = cache_dir() / "prompt-cache"
    folder = Path(root) / cache_key(fingerprint, n_ctx=n_ctx)
    try:
        return DiskPromptCache(cache_dir=str(folder), capacity_bytes=capacity_bytes or DISK_CAPACITY)
    except Exception as exc:  # unreadable folder (e.g. a foreign sqlite file): rebuild it once
        log.warning("prompt cache %s unusable (%s); recreating it", folder, exc)
        shutil.rmtree(folder, ignore_errors=True)
        return DiskPromptCache(cache_dir=str(folder), capacity_bytes=capacity_bytes or DISK_CAPACITY)
