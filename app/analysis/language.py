"""What Bastion knows about one analysis language, as one typed record (the registry is `languages`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Hint:
    """Evidence in the text that code is in a language: `weight` points when `pattern` matches."""

    pattern: re.Pattern
    weight: int


def hint(regex: str, weight: int, flags: int = 0) -> Hint:
    return Hint(re.compile(regex, flags), weight)


@dataclass(frozen=True)
class ToolCheck:
    """A syntax check by an external program: `binary args... FILE` exits 0 when the code parses."""

    label: str
    binary: str
    args: tuple[str, ...] = ()
    cheap: bool = False
    """Fast enough to run on every analysed file (not only on patches)."""


@dataclass(frozen=True)
class ParseCheck:
    """A syntax check in this process: `parse(code)` gives (ok, message); ok None means it could not tell."""

    label: str
    parse: Callable[[str], tuple[bool | None, str]]
    cheap: bool = True


@dataclass(frozen=True)
class Language:
    """One analysis language. Its rules live in `app/analysis/rules/<name>.yaml` (Semgrep picks them by suffix)."""

    name: str
    extensions: tuple[str, ...]
    """File suffixes, lower case; the first is used when a snippet is written to a file for the scanners."""
    aliases: tuple[str, ...] = ()
    """Other names a user may pass (`--lang js`)."""
    hints: tuple[Hint, ...] = ()
    shebang: str = ""
    """A regex for the interpreter word of a `#!` line (`python[0-9.]*`); empty: none."""
    includes: str = ""
    """A language whose evidence also counts for this one (TypeScript includes JavaScript)."""
    tie_rank: int = 100
    """Equal content scores go to the lower rank (the more distinctive syntax)."""
    engines: tuple[str, ...] = ()
    """Analysers beyond Semgrep that cover it (bandit, cppcheck, clang, flawfinder, shellcheck)."""
    syntax: ToolCheck | ParseCheck | None = None
    highlight: str | None = None
    """The TUI code view's grammar name; None shows plain text."""
    family: str = ""
    """The language whose sink tables and taint sources it shares (C++ uses C's); empty: its own."""

    @property
    def suffix(self) -> str:
        return self.extensions[0]

    @property
    def sinks_as(self) -> str:
        return self.family or self.name
