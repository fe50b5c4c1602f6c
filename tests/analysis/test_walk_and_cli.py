"""Directory scans (vendored folders, virtualenvs, binaries, untrusted .gitignore) and `bastion analyze` exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.analysis.walker import GitIgnore, walk

BASTION = str(Path(sys.executable).parent / "bastion")
VULN = "import os\n\ndef run(cmd):\n    os.system('sh -c ' + cmd)\n"
SAFE = "import subprocess\n\ndef run(args):\n    subprocess.run(['ls', '--', *args], check=True)\n"


def _tree(root: Path) -> None:
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(VULN)
    (root / "src" / "ok.py").write_text(SAFE)
    (root / "src" / "generated.py").write_text(VULN)
    (root / "src" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (root / "src" / "blob.js").write_bytes(b"\x00\x01\x02binary")
    (root / "node_modules" / "lib").mkdir(parents=True)
    (root / "node_modules" / "lib" / "index.js").write_text("eval(process.argv[2]);\n")
    (root / ".venv" / "lib").mkdir(parents=True)
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (root / ".venv" / "lib" / "x.py").write_text(VULN)
    (root / "build").mkdir()
    (root / "build" / "out.py").write_text(VULN)
    (root / "README.md").write_text("# readme\n")
    (root / "deploy").write_text("#!/bin/bash\neval \"$1\"\n")
    (root / ".gitignore").write_text("# comment\nbuild/\nsrc/generated.py\n")


def test_walk_outside_git_trusts_no_gitignore_and_lists_every_skip(tmp_path):
    _tree(tmp_path)
    files, skipped = walk(tmp_path, max_bytes=2_000_000, use_git=False)
    rel = sorted(p.relative_to(tmp_path.resolve()).as_posix() for p in files)
    # not a git work tree: .gitignore is part of the code under review, so it hides nothing
    assert rel == ["build/out.py", "deploy", "src/app.py", "src/generated.py", "src/ok.py"]
    why = {Path(s.path).name: s.reason for s in skipped}
    assert why == {".venv": "virtualenv (pyvenv.cfg)", "node_modules": "dependency or tool folder",
                   "blob.js": "binary file"}


def test_gitignore_patterns():
    gi = GitIgnore(Path("/r"), ["*.log", "!keep.log", "/top.py", "docs/**/draft*", "cache/"])
    assert gi.ignored(Path("/r/a/b.log"), False) is True
    assert gi.ignored(Path("/r/keep.log"), False) is False
    assert gi.ignored(Path("/r/top.py"), False) is True and gi.ignored(Path("/r/x/top.py"), False) is None
    assert gi.ignored(Path("/r/docs/a/b/draft1.md"), False) is True
    assert gi.ignored(Path("/r/cache"), True) is True and gi.ignored(Path("/r/cache"), False) is None


def _run(args, **kw):
    env = dict(os.environ)
    return subprocess.run([BASTION, "analyze", *args], capture_output=True, text=True, timeout=300, env=env, **kw)


@pytest.mark.slow
def test_cli_fail_on_exit_codes_and_formats(tmp_path):
    _tree(tmp_path)
    out = _run([str(tmp_path), "--no-model", "--fail-on", "high", "--json"])
    assert out.returncode == 3, out.stderr
    doc = json.loads(out.stdout)
    names = {Path(r["file"]).name: r for r in doc["files"]}
    assert names["app.py"]["label"] in ("high", "critical") and names["ok.py"]["label"] == "safe"
    assert names["deploy"]["label"] == "critical"  # extensionless script found by its shebang
    assert names["blob.js"]["status"] == "skipped"
    assert "index.js" not in names and names["node_modules"]["status"] == "skipped"

    safe = tmp_path / "src" / "ok.py"
    sarif = tmp_path / "out.sarif"
    out = _run([str(safe), "--no-model", "--fail-on", "low", "--format", "sarif", "-o", str(sarif)])
    assert out.returncode == 0, out.stderr
    assert json.loads(sarif.read_text())["runs"][0]["results"] == []


@pytest.mark.slow
def test_cli_stdin_and_errors(tmp_path):
    out = _run(["-", "--no-model", "--lang", "python", "--fail-on", "critical", "-f", "markdown"], input=VULN)
    assert out.returncode == 3 and "# Bastion secure-code analysis" in out.stdout
    out = _run(["-", "--no-model"], input="")
    assert out.returncode == 1 and out.stderr.startswith("Error: nothing to analyse") and "Traceback" not in out.stderr
    out = _run([str(tmp_path / "missing.py"), "--no-model"])
    assert out.returncode == 1 and "no such file" in out.stderr
