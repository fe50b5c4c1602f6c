"""The TUI draws on its own copy of the terminal (`app.tui.terminal.own_terminal`): what llama-cpp-python
does to stdout/stderr while it loads a model can neither swallow frames nor scribble on the screen.

Runs a small script on a real pseudo-terminal, with llama-cpp-python's own `suppress_stdout_stderr`
(what `Llama(verbose=False)` wraps every model load in) standing in for a model load: no model needed.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import os, shutil, sys
from pathlib import Path
from llama_cpp._utils import suppress_stdout_stderr
from app.tui.terminal import own_terminal

def frame(text):  # how Textual draws: on sys.__stderr__, as it is when its driver starts
    sys.__stderr__.write(text + "\n")
    sys.__stderr__.flush()

def load_model():  # what Llama(verbose=False) does around a model load, in the same process
    with suppress_stdout_stderr(disable=False):
        frame("FRAME-DURING-LOAD")
        frame("SIZE-DURING-LOAD %sx%s" % tuple(shutil.get_terminal_size((1, 1))))
        os.write(2, b"NATIVE-DURING-LOAD\n")

if sys.argv[2] == "held":
    with own_terminal(Path(sys.argv[1])) as held:
        frame(f"HELD {held}")
        load_model()
        frame("FRAME-AFTER-LOAD")
        os.write(2, b"NATIVE-STDERR\n")  # llama.cpp, chroma... writing on their own while the UI runs
        os.write(1, b"NATIVE-STDOUT\n")
else:
    load_model()
print("AFTER-THE-UI", file=sys.stderr, flush=True)
"""


def _run_on_a_terminal(tmp_path: Path, mode: str) -> tuple[str, str]:
    """Run SCRIPT with a pty (100×30) as stdin/stdout/stderr; returns (what the terminal got, the log)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = str(ROOT)
    log = tmp_path / f"{mode}.log"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(log), mode], stdin=slave, stdout=slave,
                            stderr=slave, env=env, close_fds=True)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the process closed its end
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 0, out.decode(errors="replace")
    return out.decode(errors="replace"), log.read_text() if log.exists() else ""


def test_frames_drawn_while_a_model_loads_reach_the_terminal(tmp_path):
    screen, log = _run_on_a_terminal(tmp_path, "held")
    assert "HELD True" in screen
    assert "FRAME-DURING-LOAD" in screen and "FRAME-AFTER-LOAD" in screen, screen
    assert "SIZE-DURING-LOAD 100x30" in screen, screen  # the window is still measured right
    assert "NATIVE" not in screen, screen  # native output: to the log
    assert "AFTER-THE-UI" in screen, screen  # stderr is the terminal again afterwards (crash line)
    assert "NATIVE-STDERR" in log and "NATIVE-STDOUT" in log


def test_without_it_the_frame_is_lost(tmp_path):
    """The cause, shown: the same frame, drawn on the process's stderr during a load, never arrives."""
    screen, _ = _run_on_a_terminal(tmp_path, "bare")
    assert "FRAME-DURING-LOAD" not in screen and "AFTER-THE-UI" in screen, screen


def test_off_a_terminal_it_changes_nothing(tmp_path):
    from app.tui.terminal import own_terminal

    before = sys.__stderr__, sys.__stdout__
    with own_terminal(tmp_path / "x.log") as held:  # pytest's captured output is not a tty
        assert held is False
        assert (sys.__stderr__, sys.__stdout__) == before
    assert not (tmp_path / "x.log").exists()
