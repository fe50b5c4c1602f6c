"""What the data stage records: counts in and out, the mix, the app-format examples it built."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from builder.stages.summary import StageSummary, recorded


@dataclass
class DataSummary(StageSummary):
    records_read: int | None = None
    bad_records: int | None = None
    secrets_scrubbed: int | None = None
    exact_duplicates: int | None = None
    near_duplicates: int | None = None
    too_short: int | None = None
    too_long: int | None = None
    train: int | None = None
    val: int | None = None
    corpus: int | None = None
    mix: str = ""
    """The security:general mix, as a sentence."""
    app_tasks: dict[str, int] = recorded(factory=dict)
    """App-format examples built, by kind (review, grounded)."""

    def summary_line(self, folder: Path) -> str:
        tasks = self.app_tasks
        extra = f"; app-format examples: {tasks.get('review', 0)} review, {tasks.get('grounded', 0)} grounded" if tasks else ""
        return (f"- **Data**: {self.records_read} records read, {self.bad_records} bad skipped, "
                f"train {self.train} / val {self.val} / corpus {self.corpus}; {self.mix}{extra}")
