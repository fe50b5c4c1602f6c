"""What a stage is to the pipeline: its name, how it runs, the report it records (`StageSpec`), and what it reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from builder.stages.summary import StageSummary

if TYPE_CHECKING:
    from builder.profiles import Profile
    from builder.rundir import RunDir, StageResult


@dataclass
class BuildInputs:
    """--data split by what each stage reads."""

    llm: list[str] = field(default_factory=list)
    """Inputs for the data stage (instruction data, conversations, corpus text, hf:NAME)."""
    corpus: list[Path] = field(default_factory=list)
    """Files/folders whose documents are indexed and mined for embedder pairs."""
    triplets: list[Path] = field(default_factory=list)
    """Retrieval triplet JSONL files (embedder training only)."""


@dataclass
class BuildContext:
    """Everything a stage may read: the run, the profile, the routed inputs and its own options."""

    run: "RunDir"
    profile: "Profile"
    inputs: BuildInputs
    force: bool = False
    resume: bool = True
    llama_cpp_dir: Path | None = None
    bundle_out: Path | None = None
    options: dict[str, dict] = field(default_factory=dict)
    """Per-stage keyword options, by stage name (train overrides, eval limits, ...)."""
    progress: Callable[[str], None] = lambda msg: None

    def opts(self, stage: str) -> dict:
        return dict(self.options.get(stage) or {})


@dataclass(frozen=True)
class StageSpec:
    name: str
    run: Callable[[BuildContext], "StageResult | None"]
    """Run the stage (skipping itself when fresh); None only from a non-zero distributed rank."""
    report: type[StageSummary] | None = None
    """The typed report the stage records as its summary; it gives the stage's line of the build summary."""
    help: str = ""
