"""Small JSON memos in the cache folder: results worth keeping per file version across runs
(a GGUF header check, the prompt-lookup probe). A memo that cannot be read is empty; one that
cannot be written only costs the work again next time."""

from __future__ import annotations

import json
import logging
from typing import Any

log = logging.getLogger(__name__)


def _path(name: str):
    from app import paths

    return paths.cache_dir() / name


def _load(name: str) -> dict:
    try:
        seen = json.loads(_path(name).read_text())
    except (OSError, ValueError):
        return {}
    return seen if isinstance(seen, dict) else {}


def memo_get(name: str, key: str) -> Any:
    """The value remembered under `key` in the memo file `name`, or None."""
    return _load(name).get(key)


def memo_put(name: str, key: str, value: Any) -> None:
    """Remember `value` under `key` (written atomically)."""
    seen = _load(name)
    seen[key] = value
    try:
        from app.atomic import write_text

        write_text(_path(name), json.dumps(seen))
    except OSError as exc:
        log.debug("could not write the memo %s: %s", name, exc)
