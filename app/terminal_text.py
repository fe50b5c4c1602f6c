"""Text from documents and models, made safe to print on a terminal.

A document can carry escape sequences: OSC 52 writes the user's clipboard,
OSC 8 hides a link behind other text, CSI sequences move the cursor and repaint
lines that were already printed, and bidirectional overrides reorder what the
reader sees ("Trojan Source"). `printable` removes whole sequences first (so no
argument bytes are left dangling), then every remaining C0/C1 control character
except newline and tab, and the bidi controls. Applied to anything `search`
and `ask` print; removing ESC alone is enough to defang a sequence split across
two streamed pieces.
"""

from __future__ import annotations

import re

_SEQUENCE = re.compile(
    r"\x1b\][^\x07\x1b\x9c]{0,4096}(?:\x07|\x1b\\|\x9c)?"   # OSC ... BEL/ST (clipboard, titles, hyperlinks)
    r"|\x1b[PX^_][^\x1b\x9c]{0,4096}(?:\x1b\\|\x9c)?"      # DCS, SOS, PM, APC ... ST
    r"|\x1b\[[0-?]{0,64}[ -/]{0,16}[@-~]?"                 # CSI
    r"|\x9b[0-?]{0,64}[ -/]{0,16}[@-~]?"                   # 8-bit CSI
    r"|\x9d[^\x07\x1b\x9c]{0,4096}(?:\x07|\x9c)?"          # 8-bit OSC
    r"|\x1b[ -/]*[0-~]?"                                   # other ESC sequences
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` without terminal control sequences or control characters (newline and tab kept)."""
    if not text:
        return text
    return _CONTROL.sub("", _SEQUENCE.sub("", text))
