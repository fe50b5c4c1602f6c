"""The stage registry (peft's `register_peft_method` pattern): name -> how to run and summarise it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from builder.build import BuildInputs
    from builder.profiles import Profile
    from builder.rundir import RunDir, StageResult


@dataclass
class BuildContext:
    """Everything a stage may read: the run, the profile, the routed inputs and its own options."""

    run: "RunDir"
    profile: "Profile"
    inputs: "BuildInputs"
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
    summary_line: Callable[[dict, Path], str] | None = None
    """One Markdown bullet for the build summary, from the stage's recorded summary and its folder."""
    help: str = ""


_REGISTRY: dict[str, StageSpec] = {}
_loaded = False


def register_stage(spec: StageSpec, *, after: str | None = None) -> StageSpec:
    """Add a stage at the end of the pipeline (or right after `after`)."""
    global _REGISTRY
    _builtin()
    if spec.name in _REGISTRY:
        raise ValueError(f"stage {spec.name!r} is already registered")
    if after is None:
        _REGISTRY[spec.name] = spec
    else:
        items = list(_REGISTRY.items())
        i = [n for n, _ in items].index(after) + 1
        _REGISTRY = dict(items[:i] + [(spec.name, spec)] + items[i:])
    return spec


def unregister_stage(name: str) -> None:
    _REGISTRY.pop(name, None)


def _builtin() -> None:
    global _loaded, _REGISTRY
    if not _loaded:
        _loaded = True
        from builder.stages.builtin import BUILTIN

        _REGISTRY = {s.name: s for s in BUILTIN} | _REGISTRY


def stage_names() -> tuple[str, ...]:
    _builtin()
    return tuple(_REGISTRY)


def get_stage(name: str) -> StageSpec:
    _builtin()
    return _REGISTRY[name]
