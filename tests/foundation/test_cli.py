"""`bastion` end to end in subprocesses: offline ask, errors, doctor, lazy imports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def run(args, *, env_extra=None, prefix=(), timeout=180, input=None):
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([*prefix, str(BIN / "bastion"), *args], capture_output=True, text=True,
                          env=env, timeout=timeout, input=input)


def _can_unshare() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "-n", "true"], capture_output=True).returncode == 0


def test_help_does_not_import_heavy_modules():
    code = ("import sys; from app.cli.main import cli; "
            "heavy = [m for m in ('llama_cpp','torch','transformers','chromadb','textual') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_netguard_blocks_outbound_but_not_loopback():
    code = (
        "from app.netguard import block_network, NetworkBlocked; import socket; block_network()\n"
        "try:\n    socket.create_connection(('example.com', 80), timeout=1); print('LEAK')\n"
        "except NetworkBlocked as e:\n    print('blocked')\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); c = socket.socket(); c.connect(s.getsockname()); print('loopback ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["blocked", "loopback", "ok"]


@pytest.mark.slow
def test_ask_offline_json(starter_bundle):
    """`bastion ask` answers with networking blocked: guard in-process, and no network namespace when possible."""
    prefix = ("unshare", "-n") if _can_unshare() else ()
    r = run(["ask", "--json", "--max-tokens", "48", "--bundle", str(starter_bundle), "What is cross-site scripting?"],
            env_extra={"BASTION_OFFLINE": "1"}, prefix=prefix)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["answer"].strip()
    t = data["timings"]
    assert t["completion_tokens"] > 0 and t["ttft_s"] > 0 and t["tokens_per_s"] > 0
    assert r.stderr.strip() == ""  # no native llama.cpp log reaches the terminal


@pytest.mark.slow
def test_ask_streams_text(starter_bundle):
    """Text on stdout; with -v, what it did before the first piece on stderr, one timed line per step."""
    r = run(["ask", "-v", "--max-tokens", "24", "--bundle", str(starter_bundle), "Name one OWASP Top 10 category."],
            env_extra={"BASTION_OFFLINE": "1"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()
    steps = [line.split("] ", 1)[1] for line in r.stderr.splitlines() if line.startswith("[")]
    assert steps[0].startswith("loading model ") and steps[1].startswith("model loaded in ")
    assert steps[2] == "searching knowledge …"
    assert steps[3].startswith("reading ") and "source(s), " in steps[3] and steps[3].endswith(" prompt tokens …")


def test_ask_missing_bundle_one_line_error(tmp_path):
    r = run(["ask", "--bundle", str(tmp_path / "missing"), "hello"])
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith("Error: bundle not found:") and str(tmp_path / "missing") in lines[0]
    assert lines[1].strip().startswith("Fix:") and "builder starter" in lines[1]
    assert "Traceback" not in r.stderr


@pytest.mark.slow
def test_ask_corrupt_bundle_error(bundle_copy):
    with open(bundle_copy / "llm.gguf", "r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00\x01\x02")
    r = run(["ask", "--bundle", str(bundle_copy), "hello"])
    assert r.returncode == 1
    assert r.stderr.startswith("Error: bundle") and "llm.gguf" in r.stderr and "Traceback" not in r.stderr


def test_empty_question_error():
    r = run(["ask", "   "])
    assert r.returncode == 1 and r.stderr.startswith("Error: the question is empty")


@pytest.mark.slow
def test_bundle_info_and_verify(starter_bundle, bundle_copy):
    r = run(["bundle", "info", "--json", str(starter_bundle)])
    assert r.returncode == 0 and json.loads(r.stdout)["profile"] == "smollm2-135m"
    r = run(["bundle", "verify", str(starter_bundle)])
    assert r.returncode == 0 and r.stdout.startswith("OK")
    (bundle_copy / "prompts.toml").write_text("tampered")
    r = run(["bundle", "verify", "--json", str(bundle_copy)])
    assert r.returncode == 1
    assert any("prompts.toml" in p for p in json.loads(r.stdout)["problems"])


@pytest.mark.slow
def test_doctor_passes_offline(starter_bundle, bastion_home):
    (bastion_home / "config.toml").write_text(f'bundle = "{starter_bundle}"\n')
    r = run(["doctor", "--json"], env_extra={"BASTION_OFFLINE": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    checks = {c["name"]: c for c in json.loads(r.stdout)}
    assert checks["bundle"]["ok"] and checks["engine"]["ok"]
    assert "networking blocked" in checks["engine"]["detail"]


def test_doctor_reports_missing_bundle(tmp_path, bastion_home):
    (bastion_home / "config.toml").write_text(f'bundle = "{tmp_path / "nope"}"\n')
    r = run(["doctor"])
    assert r.returncode == 1 and "FAIL bundle" in r.stdout and "builder starter" in r.stdout


def test_doctor_explains_native_crash(tmp_path, monkeypatch):
    """A child that dies by a signal (as a bad llama.cpp build does) is explained, not a traceback."""
    from app import doctor

    monkeypatch.setattr(doctor.sys, "executable", str(tmp_path / "crash.sh"))
    (tmp_path / "crash.sh").write_text("#!/bin/sh\nkill -SEGV $$\n")
    (tmp_path / "crash.sh").chmod(0o755)
    check = doctor.probe_engine(tmp_path / "llm.gguf")
    assert not check.ok and "SIGSEGV" in check.detail and "GGML_NATIVE=OFF" in check.detail


def test_bad_settings_file_is_one_error(bastion_home):
    (bastion_home / "config.toml").write_text("[engine]\ntemperature = 9\n")
    r = run(["ask", "hi"])
    assert r.returncode == 1 and "engine.temperature" in r.stderr and "Traceback" not in r.stderr
