"""What the bundle stage records: where the sealed bundle is and how big."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from builder.stages.summary import StageSummary


@dataclass
class BundleSummary(StageSummary):
    path: str | None = None
    """The verified bundle folder."""
    files: int | None = None
    bytes: int = 0
    embedder: str | None = None
    """'base' or 'tuned': the embedder it ships."""

    def summary_line(self, folder: Path) -> str:
        return (f"\n**Bundle**: `{self.path}` ({self.files} files, {self.bytes / 1e6:.1f} MB) — "
                f"verified. Try: `bastion ask --bundle {self.path} \"How do I prevent SQL injection?\"`")

    def bundle_path(self) -> Path | None:
        return Path(self.path) if self.path else None
