"""Bad input through the real `bastion` binary: exit status, one-line error with a fix, no traceback,
nothing written that should not be. Nothing may "succeed" doing nothing."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import zlib

import pytest

from tests.foundation.test_cli import run


def assert_one_error(r, *needles: str) -> None:
    """Exit 1; stderr is `Error: ...` (plus at most its `Fix:` line); no traceback."""
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert lines and lines[0].startswith("Error: "), r.stderr
    assert len(lines) <= 2 and (len(lines) == 1 or lines[1].strip().startswith("Fix:")), r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    for n in needles:
        assert n in r.stderr, (n, r.stderr)


# -- BASTION_OFFLINE --------------------------------------------------------------------------
def test_offline_unknown_value_is_an_error(bastion_home):
    r = run(["kb", "list"], env_extra={"BASTION_OFFLINE": "maybe"})
    assert_one_error(r, "BASTION_OFFLINE='maybe'", "true/false")


def _outside_address() -> str | None:
    """An address of this machine that is not loopback (the guard must stop connects to it)."""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return next((a for a in out if ":" not in a and not a.startswith("127.")), None)


class CountingServer:
    """A TCP listener that counts who connects (each connection is closed at once)."""

    def __init__(self, host: str) -> None:
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.mark.parametrize("value,armed", [("true", True), ("ON", True), ("false", False)])
def test_offline_words_arm_the_guard(value, armed, bastion_home):
    """With the guard armed not one connection reaches a listener on this machine's outside address;
    with BASTION_OFFLINE=false the same command does reach it (so the test can see a leak)."""
    host = _outside_address()
    if host is None:
        pytest.skip("this machine has no non-loopback IPv4 address to listen on")
    server = CountingServer(host)
    try:
        r = run(["kb", "list"], env_extra={"BASTION_OFFLINE": value,
                                           "BASTION_RETRIEVAL__CHROMA_URL": f"http://{host}:{server.port}"},
                timeout=120)
    finally:
        server.close()
    assert r.returncode != 0  # no Chroma server there either way
    if armed:
        assert server.connections == 0, f"a connection left with BASTION_OFFLINE={value}"
    else:
        assert server.connections > 0


# -- settings file -----------------------------------------------------------------------------
def test_config_not_utf8_is_one_error(bastion_home):
    (bastion_home / "config.toml").write_bytes(b"# r\xe9sum\xe9\n[engine]\nn_ctx = 1024\n")
    r = run(["kb", "list"])
    assert_one_error(r, "config.toml", "not UTF-8", "offset 3")


def test_config_with_bom_works(bastion_home):
    (bastion_home / "config.toml").write_bytes(b"\xef\xbb\xbf[engine]\nn_ctx = 1024\n")
    r = run(["kb", "list"])
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr


# -- ingest and kb ------------------------------------------------------------------------------
def test_ingest_missing_path_fails_and_creates_nothing(bastion_home, tmp_path):
    r = run(["ingest", str(tmp_path / "nonexistent"), "--kb", "ghost"])
    assert_one_error(r, "nonexistent", "no such file or folder", "nothing was ingested")
    assert not (bastion_home / "knowledge").exists()


def test_kb_remove_unknown_fails_before_asking(bastion_home):
    r = run(["kb", "remove", "nope"], input="y\n")
    assert_one_error(r, "no knowledge base named 'nope'")
    assert "Delete knowledge base" not in r.stdout  # no confirmation asked for something that is not there


def _pdf_with_bad_xref(text: str) -> bytes:
    """A one-page PDF whose xref offsets are wrong: pypdf reads it, after warning about it."""
    stream = zlib.compress(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode())
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = b"%PDF-1.4\n"
    for i, body in enumerate(objs, 1):
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % (7 + i) for i in range(5))
    out += b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (xref + 3)
    return out


@pytest.mark.slow
def test_ingest_reports_and_refuses_no_ops(bastion_home, starter_bundle, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "junk.bin").write_bytes(b"\x00\x01\x02")
    (docs / "big.md").write_text("# Big\n\n" + "words " * 400)
    # Nothing readable: exit 1, the reasons listed, the size limit names its flag, no empty KB left.
    r = run(["ingest", str(docs), "--kb", "empty", "--bundle", str(starter_bundle), "--max-file-mb", "0.001"])
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "nothing was ingested into 'empty'" in r.stderr and "unsupported file type" in r.stdout
    assert "--max-file-mb" in r.stdout and "max_file_mb" in r.stdout
    assert json.loads(run(["kb", "list", "--json"]).stdout) == []
    # A PDF pypdf complains about is ingested without its warnings reaching the user.
    (docs / "paper.pdf").write_bytes(_pdf_with_bad_xref("Parameterized queries stop SQL injection"))
    r = run(["ingest", str(docs), "--kb", "docs", "--bundle", str(starter_bundle)])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 added" in r.stdout and "1 skipped" in r.stdout  # paper.pdf and big.md (no limit now); junk.bin
    assert r.stderr.strip() == "", f"library warnings leaked: {r.stderr}"
    assert [k["name"] for k in json.loads(run(["kb", "list", "--json"]).stdout)] == ["docs"]


@pytest.mark.slow
def test_bundle_info_shows_which_context_applies(bastion_home, starter_bundle):
    bundle_ctx = json.loads(run(["bundle", "info", "--json", str(starter_bundle)]).stdout)["context_length"]
    (bastion_home / "config.toml").write_text("[engine]\nn_ctx = 1024\n")
    r = run(["bundle", "info", "--json", str(starter_bundle)])
    ctx = json.loads(r.stdout)["context"]
    assert ctx == {"bundle": bundle_ctx, "engine_n_ctx": 1024, "applies": min(1024, bundle_ctx), "why": ctx["why"]}
    r = run(["bundle", "info", str(starter_bundle)])
    line = next(line for line in r.stdout.splitlines() if "context:" in line)
    assert str(min(1024, bundle_ctx)) in line and "engine.n_ctx" in line and str(bundle_ctx) in line
    (bastion_home / "config.toml").write_text(f"[engine]\nn_ctx = {bundle_ctx * 2}\n")
    ctx = json.loads(run(["bundle", "info", "--json", str(starter_bundle)]).stdout)["context"]
    assert ctx["applies"] == bundle_ctx and "caps" in ctx["why"]


def test_skipped_file_is_worded_once(tmp_path):
    """`SKIPPED — empty file`, not `SKIPPED — skipped: empty file`; and analysing nothing is not a success."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "empty.py").write_text("")
    r = run(["analyze", str(tmp_path / "src"), "--no-model", "-v"])
    assert "SKIPPED — empty file" in r.stdout and "skipped: empty" not in r.stdout, r.stdout
    assert r.returncode != 0 and "Traceback" not in r.stderr
