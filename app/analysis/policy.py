"""Whether the model layer runs by default for a bundle: decided from the bundle's own measured evidence.

The builder's eval records held-out analysis figures in the manifest (`metrics["analysis"]`,
shaped as `contract.AnalysisEval`: static-only and hybrid precision/recall/F1 on the same cases).
The model layer runs by default only when those figures show the hybrid F1 above the static F1
without a loss of precision or recall. No figures, figures from a non-held-out split, or a model
that makes things worse: static-only by default, and the reason is printed. `--model` overrides.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

HELD_OUT = {"test", "held-out", "heldout", "holdout", "validation", "eval"}


@dataclass
class ModelPolicy:
    use_model: bool
    reason: str


def decide(metrics: dict | None, *, bundle_name: str = "the bundle") -> ModelPolicy:
    """The default for a bundle whose manifest metrics are `metrics`."""
    from app.analysis.contract import AnalysisEval

    raw = (metrics or {}).get("analysis")
    if not raw:
        return ModelPolicy(False, f"{bundle_name} records no held-out analysis eval showing that its model improves "
                                  "on static analysis; static analysis only (pass --model to run the model anyway)")
    try:
        ev = AnalysisEval.model_validate(raw)
    except ValidationError as exc:
        return ModelPolicy(False, f"{bundle_name}'s analysis eval is malformed ({exc.error_count()} error(s)); "
                                  "static analysis only (pass --model to run the model anyway)")
    if ev.split.lower() not in HELD_OUT:
        return ModelPolicy(False, f"{bundle_name}'s analysis eval is on the '{ev.split}' split, not held-out data; "
                                  "static analysis only (pass --model to run the model anyway)")
    s, h = ev.static, ev.hybrid
    figures = (f"held-out F1 {h.f1:.3f} hybrid vs {s.f1:.3f} static, precision {h.precision:.3f} vs {s.precision:.3f}, "
               f"recall {h.recall:.3f} vs {s.recall:.3f} on {ev.cases} cases")
    if h.f1 > s.f1 and h.precision >= s.precision and h.recall >= s.recall:
        return ModelPolicy(True, f"{bundle_name}'s model improves analysis ({figures})")
    return ModelPolicy(False, f"{bundle_name}'s model does not improve analysis ({figures}); static analysis only "
                              "(pass --model to run the model anyway)")
