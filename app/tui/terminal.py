"""The TUI's own handle on the terminal, out of reach of libraries that redirect stdout and stderr.

llama-cpp-python, asked to be quiet (`verbose=False`), points the whole process's file
descriptors 1 and 2 at /dev/null while it loads a model (its `suppress_stdout_stderr`;
abetlen/llama-cpp-python#1874), and two loads at once (chat model and embedder) can leave
them there. Textual draws on `sys.__stderr__` (fd 2) and measures the window through
`sys.__stdout__` (fd 1): every frame drawn during a load went to /dev/null while Textual
took it as painted, so the screen kept the startup frame until those regions changed
again (issue 11: a question typed at launch was sent and answered, but never shown).

`own_terminal()` gives Textual private duplicates of the terminal for the length of the
run (`sys.__stdout__` and `sys.__stderr__` name them, then the originals again) and points
fds 1 and 2 at the log file meanwhile, so native output (llama.cpp, chroma) can neither
blank the screen nor scribble on it.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator


@contextmanager
def own_terminal(native_log: Path | None) -> Iterator[bool]:
    """Run the body with the terminal held privately; yields False (and changes nothing) off a POSIX tty."""
    if os.name != "posix" or not (_isatty(1) and _isatty(2)):
        yield False
        return
    _flush(sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    streams = {fd: _stream_like(os.dup(fd), original) for fd, original in ((1, sys.__stdout__), (2, sys.__stderr__))}
    originals = sys.__stdout__, sys.__stderr__
    sys.__stdout__, sys.__stderr__ = streams[1], streams[2]
    try:
        _point_at(native_log)
        yield True
    finally:
        _flush(sys.stdout, sys.stderr, *streams.values())
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        sys.__stdout__, sys.__stderr__ = originals
        for stream in streams.values():
            stream.close()


def _point_at(native_log: Path | None) -> None:
    """fds 1 and 2 to `native_log` (appended), else to /dev/null."""
    target = os.devnull
    if native_log is not None:
        try:
            native_log.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(native_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError:
            fd = os.open(target, os.O_WRONLY)
    else:
        fd = os.open(target, os.O_WRONLY)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
    finally:
        os.close(fd)


def _stream_like(fd: int, original: IO[str] | None) -> IO[str]:
    encoding = (original.encoding if original is not None else None) or "utf-8"
    errors = (original.errors if original is not None else None) or "strict"
    return open(fd, "w", encoding=encoding, errors=errors, closefd=True)


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _flush(*streams: IO[str] | None) -> None:
    for stream in streams:
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
