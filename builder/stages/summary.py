"""Typed stage reports: what a stage records as `summary` in its meta.json, and its line of the build summary.

A stage builds its report (`IndexSummary(chunks=..., ...)`) and records `report.to_dict()`; the
build summary reads it back with `from_dict` and asks it for `summary_line(folder)`. The line reads
fields, so it can only ask for what the stage records: a misspelt name fails in the report's own
tests, not as a silent `None` (or a `?`) in a user's summary.

Recorded JSON keeps the keys it always had: `recorded(key="base_mrr@10")` names a key that is not
a Python name, `recorded(omit_none=True)` a key the stage writes only sometimes, and
`recorded(prefix="chat_before_")` a group of keys that are there together or not at all (a nested
report, flattened). `from_dict` ignores keys it does not know and defaults missing ones, so run
folders written by an older builder still read.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, TypeVar, get_type_hints

S = TypeVar("S", bound="StageSummary")


def recorded(default: Any = None, *, key: str | None = None, omit_none: bool = False, prefix: str | None = None,
             factory: Any = None) -> Any:
    """A report field with how it is recorded (see the module docstring)."""
    meta = {"key": key, "omit_none": omit_none or prefix is not None, "prefix": prefix}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def _nested(cls: type, f: dataclasses.Field) -> type | None:
    """The report class of a `prefix=` field (its annotation is `Report | None`)."""
    hint = get_type_hints(cls)[f.name]
    for t in getattr(hint, "__args__", (hint,)):
        if dataclasses.is_dataclass(t):
            return t
    return None


def _keys(cls: type) -> set[str]:
    return {f.metadata.get("key") or f.name for f in dataclasses.fields(cls)}


@dataclass
class StageSummary:
    """Base of every stage's report: recorded as a flat JSON object, read back into the same class."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value, meta = getattr(self, f.name), f.metadata
            if value is None and meta.get("omit_none"):
                continue
            if meta.get("prefix") is not None:
                out |= {meta["prefix"] + k: v for k, v in value.to_dict().items()}
            else:
                out[meta.get("key") or f.name] = value
        return out

    @classmethod
    def from_dict(cls: type[S], data: Mapping[str, Any] | None) -> S:
        data = data or {}
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            meta = f.metadata
            if meta.get("prefix") is not None:
                nested = _nested(cls, f)
                sub = {k.removeprefix(meta["prefix"]): v for k, v in data.items() if k.startswith(meta["prefix"])}
                if nested is not None and sub.keys() & _keys(nested):  # the group is recorded together or not at all
                    kwargs[f.name] = nested.from_dict(sub)
                continue
            name = meta.get("key") or f.name
            if name in data:
                kwargs[f.name] = data[name]
        return cls(**kwargs)

    def summary_line(self, folder: Path) -> str | None:
        """One Markdown bullet for the build summary (None: this stage has no line)."""
        return None

    def bundle_path(self) -> Path | None:
        """The bundle this stage shipped, if it ships one (the build reports it)."""
        return None
