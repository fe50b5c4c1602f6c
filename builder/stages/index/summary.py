"""What the index stage records: how much it indexed and how fast."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from builder.stages.summary import StageSummary


@dataclass
class IndexSummary(StageSummary):
    chunks: int | None = None
    files: int | None = None
    chunks_per_s: float | None = None
    embedder_share: float | None = None
    """Fraction of the indexing time spent in the embedder."""
    fingerprint: str | None = None
    """sha256 of the embedder.gguf the index was built with."""

    def summary_line(self, folder: Path) -> str:
        return (f"- **Index**: {self.chunks} chunks from {self.files} files at {self.chunks_per_s} chunks/s "
                f"({100 * float(self.embedder_share or 0):.0f}% of the time in the embedder)")
