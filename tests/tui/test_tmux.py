"""Drive the real `bastion` binary in tmux, the way a person would, and read the screen.

At 80×24 and 140×45: the question is typed (and Enter pressed) the moment the process starts,
before the first paint, and must arrive whole, be answered, and both must be on the screen (frames
drawn while llama.cpp loads a model used to be lost: `app.tui.terminal`); the sources panel opens
and closes after the answer and again after a restart that restores the conversation; the app
exits 0 with no traceback, and the terminal never shows native llama.cpp output.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).with_name("bastion")
QUESTION = "What is cross-site scripting?"


def _tmux() -> str:
    found = shutil.which("tmux")
    if found:
        return found
    if shutil.which("apt-get") and hasattr(__import__("os"), "geteuid") and __import__("os").geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "tmux"], capture_output=True, timeout=300)
        found = shutil.which("tmux")
    if not found:
        pytest.skip("tmux is not installed and could not be installed with apt-get (needs root); "
                    "install tmux to run the real-terminal test")
    return found


class Terminal:
    """One tmux session running `bastion`; `EXITED=<rc>` is printed when it ends."""

    def __init__(self, tmux: str, home: Path, size: tuple[int, int]) -> None:
        self.tmux, self.home, self.size = tmux, home, size
        self.session = f"bastion-{uuid.uuid4().hex[:8]}"

    def start(self, *, type_at_once: str | None = None) -> None:
        env = f"BASTION_HOME={self.home} BASTION_OFFLINE=true TERM=xterm-256color"
        w, h = self.size
        cmd = [self.tmux, "new-session", "-d", "-s", self.session, "-x", str(w), "-y", str(h),
               f"env {env} {BIN}; echo EXITED=$?; sleep 60"]
        # Killing the last session stops the tmux server; a new session started while it is still
        # shutting down can fail once. Try again after a moment, then fail loudly.
        if subprocess.run(cmd, capture_output=True).returncode != 0:
            time.sleep(1.0)
            subprocess.run(cmd, check=True)
        if type_at_once:  # before Python has even started: the keys wait in the terminal
            self.keys("-l", type_at_once)
            self.keys("Enter")

    def keys(self, *keys: str) -> None:
        subprocess.run([self.tmux, "send-keys", "-t", self.session, *keys], check=True)

    def screen(self) -> str:
        return subprocess.run([self.tmux, "capture-pane", "-p", "-t", self.session],
                              capture_output=True, text=True).stdout

    def wait(self, predicate, timeout: float, what: str) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            if "EXITED=" in screen and "EXITED=" not in what:
                break
            time.sleep(0.25)
        raise AssertionError(f"{self.size}: never saw {what}; last screen:\n{screen}")

    def quit(self) -> str:
        self.keys("C-q")
        screen = self.wait(lambda s: "EXITED=" in s, 90, "EXITED=")
        assert "EXITED=0" in screen and "Traceback" not in screen, screen
        return screen

    def close(self) -> None:
        subprocess.run([self.tmux, "kill-session", "-t", self.session], capture_output=True)


def _ready(s: str) -> bool:
    # A whole frame (a capture can land mid-repaint): the status line, the footer and the message box.
    return "ready │" in s and "^p" in s and "╰" in s


def _panel_open(s: str) -> bool:
    return "─ [1] " in s  # the first chunk's border title (the panel scrolls its "Sources (n)" title away)


def _toggle_sources(term: Terminal) -> None:
    term.keys("C-o")
    term.wait(_panel_open, 60, "the sources panel open")
    term.keys("C-o")
    term.wait(lambda s: not _panel_open(s) and _ready(s), 60, "the sources panel closed")
    term.keys("C-o")
    term.wait(_panel_open, 60, "the sources panel open again")
    term.keys("Escape")
    term.wait(lambda s: not _panel_open(s) and _ready(s), 60, "the sources panel closed by Esc")


def _asked(home: Path) -> list[str]:
    from app.history import History

    history = History(home / "history.sqlite3")
    return [m.content for c in history.list(kind="chat") for m in history.messages(c.id) if m.role == "user"]


def _answer(home: Path) -> str:
    from app.history import History

    history = History(home / "history.sqlite3")
    answers = [m.content for c in history.list(kind="chat") for m in history.messages(c.id) if m.role == "assistant"]
    assert len(answers) == 1, answers
    return answers[0]


def _shows(screen: str, answer: str) -> bool:
    """The answer is on screen: words of it (wrapping and Markdown change the rest) in the chat column."""
    words = {w for w in re.findall(r"[A-Za-z]{4,}", answer)} - {"What", "cross", "site", "scripting"}
    seen = {w for w in words if w in screen}
    return bool(words) and len(seen) >= min(2, len(words))


def _answered(s: str) -> bool:
    return "tok/s" in s and "– tok/s" not in s and _ready(s)


@pytest.mark.parametrize("size", [(80, 24), (140, 45)], ids=["80x24", "140x45"])
def test_real_binary_in_tmux(tui_bundle, bastion_home, size):
    tmux = _tmux()
    assert BIN.exists(), f"{BIN} missing: install the package (pip install -e .)"
    (bastion_home / "config.toml").write_text(
        f'bundle = "{tui_bundle}"\n[engine]\nmax_tokens = 24\nn_ctx = 2048\n[retrieval]\nk = 2\n')
    term = Terminal(tmux, bastion_home, size)
    try:
        # Typed, Enter included, the moment the process starts: before Python runs, the model loads, or
        # anything is drawn. The whole question is asked and answered, and both are on the screen.
        term.start(type_at_once=QUESTION)
        screen = term.wait(_answered, 400, "the answer")
        assert _asked(bastion_home) == [QUESTION], f"the question typed at launch arrived as {_asked(bastion_home)!r}"
        answer = _answer(bastion_home)
        screen = term.wait(lambda s: "What is cross" in s and _shows(s, answer) and _answered(s), 30,
                           f"the question and the answer {answer!r} on screen")
        assert "llama_" not in screen and "ggml" not in screen, "native llama.cpp output reached the terminal"
        _toggle_sources(term)
        term.keys("F1")
        term.wait(lambda s: "Keys and help" in s, 60, "the help screen")
        term.keys("Escape")
        term.wait(lambda s: "Keys and help" not in s and _ready(s), 60, "the help screen closed")
        term.quit()
        term.close()

        # Restart: the conversation is restored, and the sources panel works on it.
        term = Terminal(tmux, bastion_home, size)
        term.start()
        term.wait(lambda s: _ready(s) and "What is cross" in s and _shows(s, answer), 300, "the restored conversation")
        _toggle_sources(term)
        term.quit()
    finally:
        term.close()
    assert not list((bastion_home / "logs").glob("crash-*.log")), "the app wrote a crash log"
