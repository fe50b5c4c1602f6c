"""TUI fixtures: the real starter bundle, one loaded engine and embedder shared by the tests."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from app.settings import Settings


def tui_settings(bundle_path, **engine) -> Settings:
    eng = {"n_ctx": 2048, "max_tokens": 48, "temperature": 0.0, **engine}
    return Settings(bundle=bundle_path, engine=eng, retrieval={"k": 2}, analysis={"use_model": False})


@pytest.fixture(scope="session")
def tui_bundle(request, tmp_path_factory, test_signing_key) -> Path:
    """The starter bundle (`BASTION_TEST_STARTER_BUNDLE` may name one already built, to save the build).

    A prebuilt bundle was signed by another session's key: it is linked into a temporary folder and
    signed again with this session's key (the original is not touched), so the tests trust it.
    """
    prebuilt = os.environ.get("BASTION_TEST_STARTER_BUNDLE")
    if not prebuilt:
        return request.getfixturevalue("starter_bundle")
    import shutil

    from app.bundle.signing import sign_bundle

    def link(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    dst = tmp_path_factory.mktemp("prebuilt") / "starter"
    shutil.copytree(prebuilt, dst, copy_function=link)
    sign_bundle(dst)  # writes a new manifest.sig (atomic replace: the linked original stays as it was)
    return dst


@pytest.fixture
def tui_bundle_copy(tui_bundle, tmp_path) -> Path:
    """A writable copy of the starter bundle, for tests that damage it."""
    import shutil

    dst = tmp_path / "bundle"
    shutil.copytree(tui_bundle, dst)
    return dst


@pytest.fixture(scope="session")
def loaded_bundle(tui_bundle):
    from app.bundle import load_bundle

    return load_bundle(tui_bundle)


@pytest.fixture(scope="session")
def tui_engine(loaded_bundle, tui_bundle):
    """The bundle's own chat model, loaded once (the app does not close engines it was given)."""
    from app.runtime import make_engine

    eng = make_engine(tui_settings(tui_bundle), loaded_bundle)
    eng.load()
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def tui_embedder(loaded_bundle, tui_bundle):
    from app.runtime import make_embedder

    return make_embedder(tui_settings(tui_bundle), loaded_bundle)


@pytest.fixture
def make_tui(tui_bundle, loaded_bundle, tui_engine, tui_embedder):
    """Build the app the way `bastion` does, with the shared engine and embedder."""
    from app.tui.app import make_app

    def build(**engine):
        settings = tui_settings(tui_bundle, **engine)
        return make_app(settings, bundle=loaded_bundle, engine=tui_engine, embedder=tui_embedder, cursor_blink=False)

    return build


async def wait_for(pilot, predicate, timeout: float = 300.0, step: float = 0.05) -> None:
    """Pump the app until `predicate()` is true (fails the test on timeout)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
        await pilot.pause(step)
    await pilot.pause()


@pytest.fixture
def waiter():
    return wait_for
