"""The TUI switches bundles from the command palette without a restart."""

from __future__ import annotations

import asyncio

import pytest

from app import paths

pytestmark = pytest.mark.slow


async def test_palette_lists_bundles_and_switches(home_with_starter, smollm2_gguf):
    from app.bundle.create import ModelSource, create_bundle
    from app.settings import load_settings
    from app.tui.app import make_app
    from app.tui.bundle_commands import BundleCommands, switch_bundle

    alt = create_bundle("alt", ModelSource(gguf=smollm2_gguf, kind="file", ref="smollm2"), smoke=False)
    app = make_app(load_settings(), cursor_blink=False)
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(600):
            if app.bundle is not None:
                break
            await asyncio.sleep(0.1)
        assert app.bundle.manifest.name == "starter"
        titles = [t for t, _, _ in BundleCommands(app.screen)._entries()]
        assert titles == ["Bundle: use alt", "Bundle: use starter"]
        switch_bundle(app, str(alt))
        for _ in range(600):
            if app.bundle is not None and app.bundle.manifest.name == "alt":
                break
            await asyncio.sleep(0.1)
        await pilot.pause()
        assert app.bundle.root == alt and app.engine is not None
    assert load_settings().bundle_path() == paths.bundles_dir() / "alt"  # saved for the next start
