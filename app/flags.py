"""The one reading of yes/no values, for settings and environment variables alike.

`BASTION_OFFLINE=true` and `BASTION_OFFLINE=1` mean the same; `BASTION_OFFLINE=maybe`
is an error naming the variable, never a silent "off". Kept free of pydantic so the
CLI can read flags before anything heavy is imported.
"""

from __future__ import annotations

import os
from typing import Any

from app.errors import ConfigError

TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")
FLAG_WORDS = "true/false, 1/0, yes/no or on/off"


def parse_flag(value: Any, name: str | None = None) -> bool:
    """The one reading of a boolean-ish value: true/false, 1/0, yes/no, on/off (any case).

    Anything else raises `ConfigError` naming `name` (with `name=None`, a ValueError for pydantic).
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    if name is None:
        raise ValueError(f"expected {FLAG_WORDS}")
    raise ConfigError(f"{name}={value!r} is not a yes/no value", hint=f"set {name} to one of {FLAG_WORDS}")


def env_flag(name: str, default: bool = False) -> bool:
    """A boolean environment variable read with `parse_flag`; unset or empty means `default`."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return parse_flag(value, name)
