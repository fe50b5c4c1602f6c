"""What the eval stage records: retrieval with the shipped embedder, chat before/after, the app-pipeline gate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from builder.stages.summary import StageSummary, recorded


@dataclass
class ChatFigures(StageSummary):
    """One chat model on the held-out split (recorded as chat_<side>_*)."""

    perplexity: float | None = None
    schema_valid_rate: float | None = None


@dataclass
class AppFigures(StageSummary):
    """One chat model through the app's own pipelines (recorded as app_<side>_*)."""

    grounded_answer_rate: float | None = None
    citation_precision: float | None = None
    refusal_rate: float | None = None
    ask_grounded_answer_rate: float | None = None
    schema_valid_rate: float | None = None
    hybrid_f1: float | None = None
    review_accepted_rate: float | None = None
    verdict_accuracy: float | None = None


@dataclass
class AppGate(StageSummary):
    """The app-pipeline eval's verdict (recorded when that eval ran)."""

    grounded_questions: int | None = recorded(key="app_grounded_questions")
    gate_passed: bool | None = None
    analysis_model_default: bool | None = None


@dataclass
class EvalSummary(StageSummary):
    retrieval_recall_at_5: float | None = recorded(key="retrieval_recall@5")
    retrieval_mrr_at_10: float | None = recorded(key="retrieval_mrr@10")
    retrieval_ndcg_at_10: float | None = recorded(key="retrieval_ndcg@10")
    embedder: str | None = None
    """'base' or 'tuned': the embedder the figures are for."""
    chat_before: ChatFigures | None = recorded(prefix="chat_before_")
    chat_after: ChatFigures | None = recorded(prefix="chat_after_")
    app_before: AppFigures | None = recorded(prefix="app_before_")
    app_after: AppFigures | None = recorded(prefix="app_after_")
    app: AppGate | None = recorded(prefix="")

    def figures(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in self.to_dict().items() if v is not None)

    def gate_failed(self) -> bool:
        return self.app is not None and not self.app.gate_passed

    def summary_line(self, folder: Path) -> str:
        gate = " — **gate failed: the tuned model is worse than its base** (see the report)" if self.gate_failed() else ""
        return f"- **Eval**: {self.figures()} (report: `{folder / 'report.md'}`){gate}"
