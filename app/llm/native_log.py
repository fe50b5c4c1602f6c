"""Keep llama.cpp's native logging away from the terminal (the TUI owns it)."""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger("llama.cpp")
_installed = False
_callback = None


def silence_native_logs() -> None:
    """Route llama.cpp/ggml log lines to Python logging at DEBUG level, once."""
    global _installed, _callback
    if _installed:
        return
    import llama_cpp

    @llama_cpp.llama_log_callback
    def _cb(level, text, user_data):  # noqa: ARG001
        try:
            log.debug(text.decode("utf-8", "replace").rstrip())
        except Exception:  # never raise into C
            pass

    _callback = _cb  # keep a reference so ctypes does not free it
    llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))
    _installed = True
