"""The one error family users see.

Raise `BastionError` for anything the user can fix (bad input, a missing bundle,
a corrupt file). The CLI prints `Error: <message>` and exits 1; the TUI shows it
as a notification. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class BastionError(Exception):
    """A problem the user can fix. The message says what is wrong and how to fix it."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}\n  Fix: {self.hint}" if self.hint else base


class BundleError(BastionError):
    """The bundle is missing, corrupt, or from an incompatible format."""


class EngineError(BastionError):
    """The model engine could not load or run."""


class ConfigError(BastionError):
    """The settings file or an environment override is invalid."""
