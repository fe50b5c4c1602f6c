"""PNG figures for the eval report (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path

from app.atomic import atomic_path


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _bars(groups: dict[str, dict], keys: tuple[str, ...], out: Path, *, title: str, ylabel: str) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4))
    names = [n for n, m in groups.items() if m]
    width = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        vals = [float(groups[name].get(k) or 0.0) for k in keys]
        ax.bar([x + i * width for x in range(len(keys))], vals, width, label=name)
    ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(keys))], keys)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return out


def retrieval_png(retrieval: dict, out: Path) -> Path:
    keys = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
    groups = {"base": retrieval["base"], "tuned": retrieval["tuned"], f"shipped GGUF ({retrieval['chosen']})": retrieval["shipped_gguf"],
              "index hybrid (doc)": retrieval.get("index", {}).get("hybrid")}
    return _bars(groups, keys, out, title="Retrieval on held-out documents", ylabel="score")


def chat_png(chat: dict, out: Path) -> Path:
    keys = ("schema_valid_rate", "verdict_accuracy", "extra_cwe_accuracy")
    return _bars({"before": chat.get("before"), "after": chat.get("after")}, keys, out,
                 title="Code analysis on held-out items", ylabel="rate")


def loss_png(losses: list[float], out: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(range(1, len(losses) + 1), losses, marker="o")
    ax.set_xlabel("step")
    ax.set_ylabel("MNRL loss")
    ax.set_title("Embedder fine-tuning loss")
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return out
