"""The bundles under `BASTION_HOME/bundles`: list them, resolve a name, remove one.

A bundle is named by its directory under `bundles/` (`qwen`), or given as a path.
Listing reads manifests only (no hashing), so it is instant even for 5 GB models.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from app import paths
from app.bundle.manifest import MANIFEST_NAME, Manifest
from app.bundle.names import bundle_dir  # noqa: F401  (the CLI resolves names here)
from app.errors import BundleError

log = logging.getLogger(__name__)


@dataclass
class BundleEntry:
    """One row of `bastion bundle list`."""

    name: str
    path: Path
    manifest: Manifest | None
    problem: str | None = None

    def summary(self, *, active: Path | None = None) -> dict:
        m = self.manifest
        row: dict = {"name": self.name, "path": str(self.path), "active": _same(self.path, active)}
        if m is None:
            return {**row, "problem": self.problem}
        from app.llm.fit import ModelShape, suggest

        shape = ModelShape.from_metrics(m.metrics) or _shape_from_gguf(self.path / m.llm)
        fit = suggest(shape) if shape else None
        row.update({
            "model": m.metrics.get("llm.name") or m.profile,
            "size_bytes": sum(c.size for c in m.components),
            "context_length": m.context_length,
            "tokens_per_s": m.metrics.get("smoke.tokens_per_s"),
            "ttft_s": m.metrics.get("smoke.ttft_s"),
            "analysis_verdict": _analysis_verdict(m.metrics),
            "fit": fit.line() if fit else None,
        })
        return row


def _shape_from_gguf(path: Path):
    """For bundles made before `bundle create` recorded the model's shape: read it from the GGUF header."""
    from app.errors import BastionError
    from app.llm.fit import ModelShape
    from app.llm.gguf_check import check_gguf

    try:
        return ModelShape.from_gguf(check_gguf(path, check_arch=False))
    except (BastionError, OSError):
        return None


def list_bundles() -> list[BundleEntry]:
    """Every directory under `bundles/` holding a manifest, sorted by name; unreadable ones say why."""
    from app.bundle.loader import read_manifest

    root = paths.bundles_dir()
    out: list[BundleEntry] = []
    if not root.is_dir():
        return out
    for d in sorted(root.iterdir()):
        if not d.is_dir() or d.name.startswith(".") or not (d / MANIFEST_NAME).is_file():
            continue
        try:
            out.append(BundleEntry(d.name, d, read_manifest(d)))
        except BundleError as exc:
            out.append(BundleEntry(d.name, d, None, problem=str(exc).splitlines()[0]))
    return out


def remove_bundle(name: str, *, active: Path | None = None) -> Path:
    """Delete `bundles/NAME` (only a bundle directory under `bundles/`, never the active one)."""
    d = paths.bundles_dir() / name
    if "/" in name or "\\" in name or name.startswith(".") or not (d / MANIFEST_NAME).is_file():
        raise BundleError(f"no bundle named {name!r} in {paths.bundles_dir()}", hint="see `bastion bundle list`")
    if _same(d, active):
        raise BundleError(f"bundle {name!r} is the one in use", hint="switch first with `bastion bundle use OTHER`")
    shutil.rmtree(d)
    return d


def _same(a: Path, b: Path | None) -> bool:
    if b is None:
        return False
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _analysis_verdict(metrics: dict) -> str | None:
    """The analysis evaluation's headline, when the builder recorded one."""
    for key in ("analysis.verdict", "eval.analysis.verdict"):
        if key in metrics:
            return str(metrics[key])
    for k, v in sorted(metrics.items()):
        if ("analysis" in k or "label_acc" in k) and isinstance(v, (int, float)) and not isinstance(v, bool):
            return f"{k.split('.', 1)[-1]} {v:.2f}" if isinstance(v, float) else f"{k.split('.', 1)[-1]} {v}"
    return None
