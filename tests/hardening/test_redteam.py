"""The bounded CI part of bench/redteam.py: hostile settings files, archives, model files and serve requests
through the real `bastion` binary (and the in-process API), each one refused in one line or served; none
may crash. The full round (documents and code folders too) is `bench/redteam.py --bundle DIR`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
redteam = pytest.importorskip("redteam")


@pytest.fixture
def env(tmp_path, starter_bundle):
    home = tmp_path / "rt-home"
    home.mkdir()
    keep = {k: v for k, v in os.environ.items() if not k.startswith("BASTION_") or k in redteam.TEST_ENV_KEYS}
    return {**keep, "BASTION_HOME": str(home), "BASTION_BUNDLE": str(starter_bundle), "OMP_WAIT_POLICY": "PASSIVE",
            "PYTHONPATH": str(redteam.ROOT), "NO_COLOR": "1", "COLUMNS": "200"}


def _failed(cases):
    return [f"[{c.surface}] {c.name}: expected {c.expected}; got {c.got}" for c in cases if not c.ok]


def test_hostile_settings_files(tmp_path, env):
    cases = redteam.run_settings(tmp_path, env, quick=True)
    assert len(cases) >= 10 and not _failed(cases), _failed(cases)


def test_hostile_archives(tmp_path, env, starter_bundle):
    cases = redteam.run_archives(tmp_path, env, starter_bundle, quick=True)
    assert len(cases) >= 6 and not _failed(cases), _failed(cases)


def test_hostile_model_files_through_bundle_create(tmp_path, env):
    cases = redteam.run_models(tmp_path, env, quick=True)
    assert len(cases) >= 10 and not _failed(cases), _failed(cases)


def test_hostile_serve_requests():
    cases = redteam.run_serve(quick=False)
    assert len(cases) >= 40 and not _failed(cases), _failed(cases)


def test_hostile_documents_through_ingest(tmp_path, env):
    """Markdown/HTML/PDF/JSON bombs, odd encodings and special files in one `bastion ingest`: each file
    indexed or skipped with a reason (the full-size round in bench/ took over 600 s before the HTML fix)."""
    cases = redteam.run_documents(tmp_path, env, quick=True)
    assert len(cases) >= 60 and not _failed(cases), _failed(cases)


def test_hostile_requests_to_the_resident_engine_socket(tmp_path, env):
    """Not JSON, 100k-deep JSON, wrong types, bad chat fields, a half line, 200 idle connections: each refused
    or served, the same engine answering after every one, no traceback in its log."""
    cases = redteam.run_engine_socket(tmp_path, env, quick=True)
    assert len(cases) >= 18 and not _failed(cases), _failed(cases)
