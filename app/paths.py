"""Where Bastion keeps user data, settings and caches.

`BASTION_HOME` holds everything the user owns (settings, history, user knowledge
bases, bundles). `BASTION_CACHE` holds what can be rebuilt (verification cache,
the llama.cpp converter). Both are resolved on each call, never at import time,
so tests can point them at a temporary directory.
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """The user data directory (`BASTION_HOME`, else the platform's data dir)."""
    env = os.environ.get("BASTION_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("bastion", appauthor=False))


def cache_dir() -> Path:
    """Rebuildable caches (`BASTION_CACHE`, else the platform's cache dir)."""
    env = os.environ.get("BASTION_CACHE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("bastion", appauthor=False))


def config_file() -> Path:
    """The TOML settings file.

    `BASTION_CONFIG` wins; with `BASTION_HOME` set the file lives inside it (so a
    test or a portable install is self-contained); otherwise the platform's config dir.
    """
    env = os.environ.get("BASTION_CONFIG")
    if env:
        return Path(env).expanduser()
    if os.environ.get("BASTION_HOME"):
        return home() / "config.toml"
    from platformdirs import user_config_dir

    return Path(user_config_dir("bastion", appauthor=False)) / "config.toml"


def bundles_dir() -> Path:
    return home() / "bundles"


def starter_bundle_dir() -> Path:
    """Where `builder starter` writes the starter bundle by default."""
    return bundles_dir() / "starter"
