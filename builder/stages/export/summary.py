"""What the export stage records: the GGUF it wrote, its sizes, and how closely it agrees with the HF model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from builder.stages.summary import StageSummary


@dataclass
class ExportSummary(StageSummary):
    llm_gguf: str | None = None
    """File name (in the export folder) of the model a bundle ships."""
    f16_bytes: int = 0
    quant_bytes: int = 0
    convert_s: float | None = None
    quantize_s: float | None = None
    merge_max_abs_logit_diff: float | None = None
    tokenizer_match: str | None = None
    agreement_f16: float | None = None
    agreement_quant: float | None = None
    chat_ends_at_stop: bool | None = None
    wall_s: float | None = None

    def summary_line(self, folder: Path) -> str:
        return (f"- **Export**: {self.llm_gguf} ({self.quant_bytes / 1e6:.0f} MB from "
                f"{self.f16_bytes / 1e6:.0f} MB f16); next-token agreement f16 {self.agreement_f16}, "
                f"quantized {self.agreement_quant}; chat ends at stop: {self.chat_ends_at_stop}")
