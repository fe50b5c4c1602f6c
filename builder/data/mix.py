"""Deterministic train/validation split and the general:security mix."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from builder.data.records import Example


def _key(ex: Example, seed: int) -> str:
    return hashlib.sha256(f"{seed}\0{ex.flat_text()}".encode()).hexdigest()


def split(examples: list[Example], *, val_fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """Order by content hash, take the first fraction as validation (at least one when asked)."""
    if not examples or val_fraction <= 0:
        return list(examples), []
    ordered = sorted(examples, key=lambda e: _key(e, seed))
    n_val = max(1, round(len(ordered) * val_fraction)) if len(ordered) > 1 else 0
    return ordered[n_val:], ordered[:n_val]


@dataclass
class MixReport:
    ratio_target: float
    security: int
    general_available: int
    general_used: int
    ratio_achieved: float
    short_of_general: bool

    def message(self) -> str:
        s = (f"mix general:security = {self.general_used}:{self.security} "
             f"(ratio {self.ratio_achieved:.2f}, target {self.ratio_target:g})")
        if self.short_of_general:
            want = round(self.ratio_target * self.security)
            s += (f" — not enough general data: wanted {want}, have {self.general_available}; "
                  "add general instruction data (--data general=PATH) to reach the target")
        return s


def mix(security: list[Example], general: list[Example], *, ratio: float, seed: int) -> tuple[list[Example], MixReport]:
    """Keep every security example; take ratio × as many general ones (all, if fewer exist)."""
    want = round(ratio * len(security))
    ordered = sorted(general, key=lambda e: _key(e, seed))
    used = ordered[:want]
    out = sorted(security + used, key=lambda e: _key(e, seed + 1))
    achieved = len(used) / len(security) if security else float("inf") if used else 0.0
    return out, MixReport(ratio, len(security), len(general), len(used), round(achieved, 3), len(general) < want)


def repeat_task(examples: list[Example], task: str, weight: int, *, seed: int) -> tuple[list[Example], int]:
    """Each `task` example `weight` times (copies spread through the list, not side by side); copies added.

    Unchanged when weight is 1. Used on the train split only, so validation figures count each record once."""
    if weight <= 1 or not any(e.task == task for e in examples):
        return examples, 0
    copies = [(e, i) for e in examples for i in range(weight if e.task == task else 1)]
    order = sorted(copies, key=lambda c: hashlib.sha256(f"{seed}\0{c[1]}\0{c[0].flat_text()}".encode()).hexdigest())
    return [e for e, _ in order], len(copies) - len(examples)
