"""The stage registry: the pipeline's order, one stage package per line (peft's `register_peft_method` idea).

Each package in PIPELINE exposes `STAGE`, a `StageSpec`; it never imports this module, so the
registry depends on the stages and not the other way round. `builder build`, its `--stages`
option and the build summary all read `stage_names()` / `get_stage()`. Code outside the source
tree (a plugin, a test) can add a stage at run time with `register_stage`.
"""

from __future__ import annotations

from importlib import import_module

from builder.stages.spec import StageSpec

PIPELINE: list[str] = [
    "builder.stages.data",    # read, clean, mix; app-format examples
    "builder.stages.train",   # LoRA fine-tune
    "builder.stages.export",  # merge, GGUF, quantize, verify
    "builder.stages.embed",   # tune and gate the embedder
    "builder.stages.index",   # the knowledge index
    "builder.stages.eval",    # base vs tuned through the app's pipelines
    "builder.stages.bundle",  # seal and verify the bundle
]
"""The build's stages in order: a new stage is its package plus one line here."""

_added: list[tuple[StageSpec, str | None]] = []
_removed: set[str] = set()


def _stages() -> dict[str, StageSpec]:
    specs: dict[str, StageSpec] = {}
    for module in PIPELINE:
        spec: StageSpec = import_module(module).STAGE
        specs[spec.name] = spec
    for spec, after in _added:
        items = list(specs.items())
        i = len(items) if after is None else [n for n, _ in items].index(after) + 1
        specs = dict(items[:i] + [(spec.name, spec)] + items[i:])
    return {n: s for n, s in specs.items() if n not in _removed}


def register_stage(spec: StageSpec, *, after: str | None = None) -> StageSpec:
    """Add a stage at the end of the pipeline (or right after `after`) for this process."""
    have = _stages()
    if spec.name in have:
        raise ValueError(f"stage {spec.name!r} is already registered")
    if after is not None and after not in have:
        raise ValueError(f"no stage {after!r} to add {spec.name!r} after")
    _removed.discard(spec.name)
    _added.append((spec, after))
    return spec


def unregister_stage(name: str) -> None:
    kept = [(s, a) for s, a in _added if s.name != name]
    if len(kept) == len(_added):
        _removed.add(name)
    _added[:] = kept


def stage_names() -> tuple[str, ...]:
    return tuple(_stages())


def get_stage(name: str) -> StageSpec:
    return _stages()[name]
