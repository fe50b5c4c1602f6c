"""`bastion analyze DIR` progress: files done/total, ETA, findings so far, current file; never in --json."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BASTION = str(Path(sys.executable).parent / "bastion")
VULN = "import os\n\ndef run(cmd):\n    os.system('sh -c ' + cmd)\n"


def test_progress_lines_without_a_terminal(capsys):
    from app.cli.analyze_cmd import _Progress

    p = _Progress(live=False)
    p(0, 4, "static scan of 4 file(s)", 0)
    p(2, 4, "src/handlers/upload.py", 3)
    p(4, 4, "done", 5)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("[0/4] 0:00 0 finding(s) static scan")
    assert lines[1].startswith("[2/4] 0:00 ETA 0:00 3 finding(s)") and lines[1].endswith("src/handlers/upload.py")
    assert lines[2].startswith("[4/4]") and "5 finding(s) done" in lines[2] and len(lines) == 3


@pytest.mark.slow
def test_verbose_shows_progress_and_json_stays_quiet(tmp_path):
    (tmp_path / "a.py").write_text(VULN)
    (tmp_path / "b.py").write_text("print('hello')\n")
    out = subprocess.run([BASTION, "analyze", str(tmp_path), "--no-model", "-v"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "[0/2]" in out.stderr and "[2/2]" in out.stderr and "finding(s) done" in out.stderr
    out = subprocess.run([BASTION, "analyze", str(tmp_path), "--no-model", "-v", "--json"], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0 and "finding(s)" not in out.stderr and out.stdout.lstrip().startswith("{")
