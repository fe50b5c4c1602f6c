"""Settings: TOML file, BASTION_* overrides, clear errors."""

from __future__ import annotations

import pytest

from app import paths
from app.errors import ConfigError
from app.settings import Settings, load_settings, save_settings


def test_defaults_and_starter_path(bastion_home):
    s = load_settings()
    assert s.engine.n_ctx == 4096
    assert s.bundle_path() == bastion_home / "bundles" / "starter"
    assert paths.config_file() == bastion_home / "config.toml"


def test_toml_then_env_override(bastion_home, monkeypatch):
    (bastion_home / "config.toml").write_text('[engine]\nn_ctx = 8192\ntemperature = 0.5\n[retrieval]\nk = 7\n')
    s = load_settings()
    assert (s.engine.n_ctx, s.engine.temperature, s.retrieval.k) == (8192, 0.5, 7)
    monkeypatch.setenv("BASTION_ENGINE__N_CTX", "1024")
    assert load_settings().engine.n_ctx == 1024


def test_save_round_trip(bastion_home):
    s = load_settings()
    s.engine.n_threads = 2
    s.keys["cancel"] = "ctrl+c"
    path = save_settings(s)
    assert path.read_text().count("n_threads = 2") == 1
    again = load_settings()
    assert again.engine.n_threads == 2 and again.keys == {"cancel": "ctrl+c"}


def test_bad_value_names_field_and_file(bastion_home):
    (bastion_home / "config.toml").write_text("[engine]\nn_ctx = 10\n")
    with pytest.raises(ConfigError) as exc:
        load_settings()
    msg = str(exc.value)
    assert "engine.n_ctx" in msg and "10" in msg and "config.toml" in msg


def test_unknown_key_refused(bastion_home):
    (bastion_home / "config.toml").write_text("[engine]\nn_ctxx = 2048\n")
    with pytest.raises(ConfigError, match="n_ctxx"):
        load_settings()


def test_broken_toml(bastion_home):
    (bastion_home / "config.toml").write_text("[engine\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings()


def test_settings_not_built_at_import():
    import app.settings as mod

    assert not any(isinstance(v, Settings) for v in vars(mod).values())
