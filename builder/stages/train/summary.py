"""What the train stage records: backend, steps, losses before and after, throughput."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builder.stages.summary import StageSummary, recorded


@dataclass
class TrainSummary(StageSummary):
    backend: str | None = None
    world_size: int | None = None
    resumed: bool | None = None
    data: dict[str, Any] = recorded(factory=dict)
    """Tokenisation counts of the training split."""
    val_examples: int | None = None
    pretrain: dict[str, Any] | None = recorded(omit_none=True)
    """Continued pre-training on the corpus, when train.pretrain_epochs > 0."""
    eval_loss_before: float | None = recorded(omit_none=True)
    resumed_from: str | None = None
    global_step: int | None = None
    """Optimizer steps taken: the summary line's step count."""
    train_runtime_s: float | None = None
    tokens_trained: int | None = None
    tokens_per_s: float | None = None
    eval_loss_after: float | None = recorded(omit_none=True)
    task_loss: dict[str, dict[str, float]] = recorded(factory=dict)
    """Loss on the app's own tasks, {task: {before, after}}."""
    train_loss_first: float | None = None
    train_loss_last: float | None = None
    adapter_max_change: float | None = None
    wall_s: float | None = None
    peak_rss_mb: float | None = None

    def summary_line(self, folder: Path) -> str:
        steps = "?" if self.global_step is None else self.global_step
        return (f"- **LoRA fine-tune**: {steps} steps, loss {self.train_loss_first} → {self.train_loss_last}; "
                f"eval loss {self.eval_loss_before} → {self.eval_loss_after}")
