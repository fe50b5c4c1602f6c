"""Read a tar archive's raw headers before Python's `tarfile` parses them.

CPython's tarfile parsed PAX extended headers with backtracking regular
expressions (CVE-2024-6232, fixed in 3.12.6/3.11.10 and later): a few hundred
compressed bytes could cost minutes of CPU, and a PAX header of any size is read
into memory whole. `check_headers` walks the archive's 512-byte headers itself,
in linear time, and refuses oversized or malformed PAX/GNU long-name headers,
so tarfile only ever sees headers that are small and well formed.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
from pathlib import Path
from typing import BinaryIO

BLOCK = 512
MAX_EXT_HEADER = 64 * 1024
"""Largest PAX or GNU long-name header accepted (a bundle's are a few hundred bytes)."""
_EXT_TYPES = {b"x", b"g", b"L", b"K"}
_REFUSED_TYPES = {b"S"}  # GNU sparse files: never written by `pack`


class TarHeaderError(ValueError):
    """The archive's headers are hostile or malformed."""


def _open(archive: Path) -> BinaryIO:
    with open(archive, "rb") as fh:
        head = fh.read(6)
    if head.startswith(b"\x1f\x8b"):
        return gzip.open(archive, "rb")
    if head.startswith(b"BZh"):
        return bz2.open(archive, "rb")
    if head.startswith(b"\xfd7zXZ"):
        return lzma.open(archive, "rb")
    return open(archive, "rb")


def _number(field: bytes) -> int:
    """A tar numeric field: octal text, or GNU base-256 (high bit set)."""
    if field and field[0] & 0x80:
        n = field[0] & 0x7F
        for b in field[1:]:
            n = (n << 8) | b
        return n
    text = field.split(b"\0", 1)[0].strip(b" \0")
    if not text:
        return 0
    if not all(48 <= c <= 55 for c in text):
        raise TarHeaderError(f"bad numeric field {bytes(field)!r}")
    return int(text, 8)


def parse_pax(data: bytes) -> dict[bytes, bytes]:
    """PAX records `LEN key=value\\n`, parsed in one linear pass; malformed input raises."""
    out: dict[bytes, bytes] = {}
    pos = 0
    end = len(data.rstrip(b"\0"))
    while pos < end:
        sp = data.find(b" ", pos, min(end, pos + 20))
        if sp <= pos or not data[pos:sp].isdigit():
            raise TarHeaderError(f"malformed PAX record at byte {pos}")
        length = int(data[pos:sp])
        rec_end = pos + length
        if length <= sp - pos + 1 or rec_end > end or data[rec_end - 1:rec_end] != b"\n":
            raise TarHeaderError(f"malformed PAX record length at byte {pos}")
        eq = data.find(b"=", sp + 1, rec_end)
        if eq < 0:
            raise TarHeaderError(f"PAX record without '=' at byte {pos}")
        out[data[sp + 1:eq]] = data[eq + 1:rec_end - 1]
        pos = rec_end
    return out


def _skip(fh: BinaryIO, n: int) -> None:
    if n <= 0:
        return
    try:
        fh.seek(n, 1)
        return
    except (OSError, ValueError):
        pass
    while n > 0:
        got = fh.read(min(n, 1 << 20))
        if not got:
            raise TarHeaderError("archive ends inside a member")
        n -= len(got)


def check_headers(archive: Path) -> None:
    """Raise `TarHeaderError` for an oversized/malformed extended header; stop at the end marker."""
    with _open(archive) as fh:
        pending_size: int | None = None
        while True:
            block = fh.read(BLOCK)
            if len(block) < BLOCK:
                return  # truncation is tarfile's (and the size check's) to report
            if block == b"\0" * BLOCK:
                return
            kind = block[156:157]
            size = _number(block[124:136])
            if kind in _REFUSED_TYPES:
                raise TarHeaderError("sparse file member; refused")
            if kind in _EXT_TYPES:
                if size > MAX_EXT_HEADER:
                    raise TarHeaderError(f"extended header of {size} bytes (limit {MAX_EXT_HEADER}); refused")
                data = fh.read(size)
                if len(data) < size:
                    return
                _skip(fh, -size % BLOCK)
                if kind in (b"x", b"g"):
                    records = parse_pax(data)
                    if any(k.startswith(b"GNU.sparse") for k in records):
                        raise TarHeaderError("GNU sparse PAX records; refused")
                    if kind == b"x" and b"size" in records:
                        if not records[b"size"].isdigit():
                            raise TarHeaderError("PAX size is not a number")
                        pending_size = int(records[b"size"])
                continue
            if pending_size is not None:
                size, pending_size = pending_size, None
            if kind in (b"1", b"2", b"3", b"4", b"5", b"6"):
                size = 0  # as tarfile: only regular (and unknown) members carry data
            _skip(fh, size + (-size % BLOCK))
