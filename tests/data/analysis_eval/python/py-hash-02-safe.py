import hashlib
from pathlib import Path


def verify_download(path: Path, expected_hex: str) -> bool:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest() == expected_hex.lower()
