"""What the embed stage records: the gate's choice and figures, GGUF parity (the full report is EmbedReport)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from builder.stages.summary import StageSummary, recorded


@dataclass
class EmbedSummary(StageSummary):
    chosen: str | None = None
    """'base' or 'tuned': which embedder embedder.gguf holds."""
    verdict: str | None = None
    base_mrr_at_10: float | None = recorded(key="base_mrr@10")
    tuned_mrr_at_10: float | None = recorded(key="tuned_mrr@10")
    parity_min_cosine: float | None = None
    dim: int | None = None
    fingerprint: str | None = None
    questions_base_mrr_at_10: float | None = recorded(key="questions_base_mrr@10", omit_none=True)
    """Only when the gate also judged a written question set."""
    questions_tuned_mrr_at_10: float | None = recorded(key="questions_tuned_mrr@10", omit_none=True)

    def summary_line(self, folder: Path) -> str:
        return f"- **Embedder**: {self.verdict} (parity cosine {self.parity_min_cosine})"
