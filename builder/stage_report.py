"""Typed stage reports: a pydantic model written next to a stage's outputs and read back into the same class.

As peft writes `adapter_config.json` stamped with `peft_version` and reads it with
`from_pretrained`, a stage writes `EmbedReport(...).save(stage_dir)` and later stages read
`EmbedReport.load(stage_dir)` — a typed object, never a dict read by key. The file records the
bastion version that wrote it and the report's schema version; a report from a newer schema is
refused with a hint to rerun the stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.atomic import write_text
from app.errors import BastionError

R = TypeVar("R", bound="StageReport")


def _bastion_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("bastion")
    except metadata.PackageNotFoundError:
        return "unknown"


class StageReport(BaseModel):
    """Base class: subclasses set FILE (name inside the stage folder) and SCHEMA (bump on breaking change)."""

    model_config = ConfigDict(extra="allow")
    FILE: ClassVar[str] = "report.json"
    SCHEMA: ClassVar[int] = 1

    bastion_version: str = Field(default_factory=_bastion_version)
    report_schema: int = 0
    """The SCHEMA of the class that wrote the file (set on save)."""

    def save(self, folder: Path) -> Path:
        self.report_schema = self.SCHEMA
        path = Path(folder) / self.FILE
        write_text(path, self.model_dump_json(indent=2))
        return path

    @classmethod
    def load(cls: type[R], folder: Path) -> R:
        path = Path(folder) / cls.FILE
        try:
            rep = cls.model_validate_json(path.read_text(encoding="utf-8"))
        except OSError:
            raise BastionError(f"{path} is missing", hint="rerun the stage that writes it") from None
        except ValidationError as exc:
            raise BastionError(f"{path} is not a valid {cls.__name__}: {exc.errors()[0]['msg']}",
                               hint="rerun the stage that writes it (it may be from another bastion version)") from None
        if rep.report_schema > cls.SCHEMA:
            raise BastionError(f"{path} was written by a newer builder (schema {rep.report_schema} > {cls.SCHEMA})",
                               hint="rerun the stage with this version, or upgrade bastion")
        return rep


class EmbedReport(StageReport):
    """What the embed stage decided and measured; read by the index, eval and bundle stages."""

    FILE: ClassVar[str] = "embed_report.json"

    base_model: str
    chosen: str
    """'base' or 'tuned': the gate's choice, which embedder.gguf holds."""
    gate: dict[str, Any]
    base: dict[str, Any]
    tuned: dict[str, Any]
    train: dict[str, Any] = Field(default_factory=dict)
    held_out: dict[str, Any] = Field(default_factory=dict)
    parity: dict[str, Any] = Field(default_factory=dict)
    dim: int
    max_tokens: int
    fingerprint: str
    """sha256 of embedder.gguf (what the index and the manifest record)."""
    reranker: dict[str, Any] | None = None
