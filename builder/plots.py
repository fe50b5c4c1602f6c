"""PNG figures for stage reports (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

from app.atomic import atomic_path


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def histogram(values: dict[str, list[int]], out: Path, *, title: str, xlabel: str, bins: int = 30) -> Path:
    """Overlaid histograms, one per series (e.g. security vs general lengths)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, vals in values.items():
        if vals:
            ax.hist(vals, bins=bins, alpha=0.6, label=f"{name} (n={len(vals)})")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("records")
    ax.legend()
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return out


def curves(series: dict[str, tuple[list[float], list[float]]], out: Path, *, title: str, xlabel: str = "step",
           ylabel: str = "loss") -> Path:
    """Line plot of named (x, y) series, e.g. train and eval loss."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, (xs, ys) in series.items():
        if xs:
            ax.plot(xs, ys, marker="o" if len(xs) < 30 else None, label=name)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return out
