"""Read data files (jsonl, json, csv, parquet, txt, md, pickle on request) and Hugging Face datasets.

Every reader yields `(source, line, record)`; the line is the 1-based line (jsonl, json, csv)
or row (parquet, datasets) so a bad record can be reported as `file:line`.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from app.errors import BastionError

log = logging.getLogger(__name__)

DATA_EXTS = {".jsonl", ".json", ".csv", ".parquet", ".txt", ".md", ".markdown"}
PICKLE_EXTS = {".pkl", ".pickle"}
HF_PREFIX = "hf:"


@dataclass
class Input:
    """One `--data` argument: `[general=|security=]PATH` or `[…=]hf:NAME[:SPLIT]`."""

    spec: str
    domain: str | None = None

    @classmethod
    def parse(cls, arg: str) -> "Input":
        m = re.match(r"^(general|security)=(.+)$", arg)
        return cls(m.group(2), m.group(1)) if m else cls(arg)

    @property
    def is_hf(self) -> bool:
        return self.spec.startswith(HF_PREFIX)


def domain_for(path: Path, given: str | None) -> str:
    """Explicit prefix, else a folder named general/security on the path, else security."""
    if given:
        return given
    for part in reversed(path.parts[:-1]):
        if part.lower() in ("general", "security"):
            return part.lower()
    return "security"


def expand(inp: Input, *, allow_pickle: bool) -> list[Path]:
    p = Path(inp.spec).expanduser()
    if not p.exists():
        raise BastionError(f"data path not found: {p}",
                           hint="check the --data path; Hugging Face datasets are named hf:NAME[:SPLIT]")
    files = sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p]
    out = []
    for f in files:
        ext = f.suffix.lower()
        if ext in PICKLE_EXTS and not allow_pickle:
            raise BastionError(
                f"{f}: refusing to load a pickle file (unpickling runs arbitrary code)",
                hint="convert it to JSONL/Parquet, or pass --allow-pickle if you trust its author",
            )
        if ext in DATA_EXTS or ext in PICKLE_EXTS:
            out.append(f)
        elif p.is_file():
            raise BastionError(f"{f}: unsupported data file type {ext!r}",
                               hint=f"use one of {', '.join(sorted(DATA_EXTS))}")
        else:
            log.info("skipping %s (not a data file)", f)
    return out


class BadLine(Exception):
    """A line that is not valid JSON (reported like any bad record)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def read_file(path: Path, *, max_chars: int) -> Iterator[tuple[int, object]]:
    ext = path.suffix.lower()
    if ext == ".jsonl":
        with open(path, encoding="utf-8", errors="replace") as fh:
            for n, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                try:
                    yield n, json.loads(raw)
                except ValueError as exc:
                    yield n, BadLine(n, f"not valid JSON ({exc.msg} at character {exc.pos + 1})")
    elif ext == ".json":
        yield from _read_json(path)
    elif ext == ".csv":
        with open(path, encoding="utf-8", errors="replace", newline="") as fh:
            reader = csv.DictReader(fh)
            for row in reader:
                yield reader.line_num, {k: v for k, v in row.items() if k is not None and v not in (None, "")}
    elif ext == ".parquet":
        import pyarrow.parquet as pq

        for n, row in enumerate(pq.read_table(path).to_pylist(), 1):
            yield n, row
    elif ext in (".txt", ".md", ".markdown"):
        for line, chunk in _chunks(path.read_text(encoding="utf-8", errors="replace"), max_chars):
            yield line, {"text": chunk}
    elif ext in PICKLE_EXTS:
        import pickle

        with open(path, "rb") as fh:
            data = pickle.load(fh)  # noqa: S301 - only with --allow-pickle
        for n, rec in enumerate(data if isinstance(data, list) else [data], 1):
            yield n, rec


def _read_json(path: Path) -> Iterator[tuple[int, object]]:
    """A JSON array of records (or one record), with each record's starting line."""
    text = path.read_text(encoding="utf-8", errors="replace")
    dec = json.JSONDecoder()
    i = len(text) - len(text.lstrip())
    if not text[i:i + 1] == "[":
        try:
            yield text.count("\n", 0, i) + 1, json.loads(text)
        except ValueError as exc:
            yield exc.lineno, BadLine(exc.lineno, f"not valid JSON ({exc.msg})")
        return
    i += 1
    while True:
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        if i >= len(text) or text[i] == "]":
            return
        line = text.count("\n", 0, i) + 1
        try:
            obj, i = dec.raw_decode(text, i)
        except ValueError as exc:
            yield line, BadLine(line, f"not valid JSON ({exc.msg}); the rest of the file is skipped")
            return
        yield line, obj


def _chunks(text: str, max_chars: int) -> Iterator[tuple[int, str]]:
    """Split a document at blank lines into pieces of at most ~max_chars, with start lines."""
    buf: list[str] = []
    size, start, line = 0, 1, 1
    for para in re.split(r"(\n\s*\n)", text):
        if para.strip() and size + len(para) > max_chars and buf:
            yield start, "".join(buf).strip()
            buf, size, start = [], 0, line
        if para.strip() or buf:
            buf.append(para)
            size += len(para)
        line += para.count("\n")
    if "".join(buf).strip():
        yield start, "".join(buf).strip()


def read_hf(name: str) -> Iterator[tuple[int, object]]:
    """A Hugging Face dataset by name (`NAME` or `NAME:SPLIT`), from datasets' cache when offline."""
    try:
        import datasets
    except ImportError:
        raise BastionError("the `datasets` package is not installed", hint="pip install 'bastion[builder]'") from None
    ds_name, _, split = name.partition(":")
    try:
        ds = datasets.load_dataset(ds_name, split=split or "train")
    except Exception as exc:  # datasets raises many types (ConnectionError, FileNotFoundError, …)
        raise BastionError(
            f"could not load Hugging Face dataset {ds_name!r} (split {split or 'train'!r}): {type(exc).__name__}: {exc}",
            hint="connect once so datasets caches it (then it works offline with HF_DATASETS_OFFLINE=1), "
                 "or export it to JSONL and pass the file",
        ) from None
    for n, row in enumerate(ds, 1):
        yield n, row
