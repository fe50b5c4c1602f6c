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


# -- yes/no values: one parser for settings and environment variables --------------------------
@pytest.mark.parametrize("word,expected", [("true", True), ("TRUE", True), ("1", True), ("yes", True), ("On", True),
                                           ("false", False), ("0", False), ("No", False), ("OFF", False)])
def test_flag_words(word, expected, bastion_home, monkeypatch):
    from app.flags import env_flag, parse_flag

    assert parse_flag(word, "X") is expected
    monkeypatch.setenv("BASTION_OFFLINE", word)
    assert env_flag("BASTION_OFFLINE") is expected
    monkeypatch.setenv("BASTION_ANALYSIS__USE_MODEL", word)
    assert load_settings().analysis.use_model is expected


@pytest.mark.parametrize("word", ["maybe", "t", "y", "2", "enabled"])
def test_flag_other_words_are_errors_naming_the_variable(word, bastion_home, monkeypatch):
    from app.flags import env_flag

    monkeypatch.setenv("BASTION_OFFLINE", word)
    with pytest.raises(ConfigError, match="BASTION_OFFLINE") as exc:
        env_flag("BASTION_OFFLINE")
    assert "true/false" in str(exc.value)
    monkeypatch.setenv("BASTION_RETRIEVAL__USE_BUNDLE_INDEX", word)
    with pytest.raises(ConfigError, match="BASTION_RETRIEVAL__USE_BUNDLE_INDEX"):
        load_settings()


def test_flag_in_config_file(bastion_home):
    (bastion_home / "config.toml").write_text('[analysis]\nuse_model = "off"\n')
    assert load_settings().analysis.use_model is False
    (bastion_home / "config.toml").write_text('[analysis]\nuse_model = "perhaps"\n')
    with pytest.raises(ConfigError, match="analysis.use_model"):
        load_settings()


def test_every_bool_setting_uses_the_one_parser():
    """A new bool setting must be a `Flag`, or `t`/`y` would mean yes there and be an error elsewhere."""
    from pydantic import BaseModel

    def bools(model: type[BaseModel], prefix=""):
        for name, field in model.model_fields.items():
            ann = field.annotation
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                yield from bools(ann, f"{prefix}{name}.")
            elif ann is bool:
                yield f"{prefix}{name}", field

    found = dict(bools(Settings))
    assert found, "expected some yes/no settings"
    for name, field in found.items():
        assert any(getattr(m, "func", None) for m in field.metadata), f"{name} is a plain bool, use app.settings.Flag"


# -- the settings file is read as bytes -------------------------------------------------------------
def test_config_with_bom_is_fine(bastion_home):
    (bastion_home / "config.toml").write_bytes(b"\xef\xbb\xbf[engine]\nn_ctx = 1024\n")
    assert load_settings().engine.n_ctx == 1024


def test_config_not_utf8_names_file_and_offset(bastion_home):
    (bastion_home / "config.toml").write_bytes(b"[engine]\n# caf\xe9\nn_ctx = 1024\n")
    with pytest.raises(ConfigError) as exc:
        load_settings()
    msg = str(exc.value)
    assert "config.toml" in msg and "not UTF-8" in msg and "offset 14" in msg and "line 2" in msg
    assert "Fix:" in msg and "\n" in msg  # one message line plus its fix line, no traceback


def test_config_toml_error_keeps_line(bastion_home):
    (bastion_home / "config.toml").write_text("[engine]\nn_ctx = = 3\n")
    with pytest.raises(ConfigError, match="line 2"):
        load_settings()
