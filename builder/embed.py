"""The embedder stage: fine-tune, measure honestly against the base, gate, export to GGUF, check parity.

Training is sentence-transformers with the in-batch-negatives contrastive loss
(MultipleNegativesRankingLoss: cross-entropy over query/passage similarities scaled by
1/temperature, the positive in the first column; its cached variant for large batches) and
the no-duplicates batch sampler, so no batch holds the same text twice (a duplicate would be
a false negative). The tuned model ships only if it beats the base on the held-out split.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from app.errors import BastionError
from builder.profiles import EmbedConfig
from builder.triplets import Triplet

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

GATE_METRIC = "mrr@10"
PARITY_MIN_COSINE = 0.999
CACHED_LOSS_ABOVE = 64
"""Batches larger than this use CachedMultipleNegativesRankingLoss (GradCache: memory of a small batch)."""

PROBES = (
    "SQL injection: user input concatenated into a query string.",
    "How do I store passwords safely? Use a slow salted hash such as Argon2id or bcrypt.",
    "def run(cmd): return subprocess.call(cmd, shell=True)",
    "Cross-site scripting happens when untrusted data reaches HTML without output encoding.",
    "跨站脚本攻击（XSS）是指攻击者向网页注入恶意脚本。",
    "CWE-22 path traversal: ../../etc/passwd",
    "A short one.",
    "Server-side request forgery lets an attacker make the server fetch internal URLs such as "
    "http://169.254.169.254/latest/meta-data/ and leak cloud credentials; validate destinations "
    "against an allow-list and block link-local, loopback and private ranges after DNS resolution.",
)


@dataclass
class TrainResult:
    model: Any
    losses: list[float] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    loss_name: str = ""


# --------------------------------------------------------------------------- models


def base_model_dir(spec: str, workdir: Path) -> Path:
    """A local sentence-transformers folder for the profile's base embedder.

    'pkg:...' and local paths resolve offline; a hub id is downloaded once (when online) and
    saved under workdir so later steps and the GGUF converter read a plain folder.
    """
    from builder.sources import resolve_source

    try:
        return resolve_source(spec)
    except BastionError:
        if spec.count("/") != 1 or Path(spec).expanduser().exists():
            raise
    dest = workdir / "base-st"
    if not (dest / "modules.json").is_file():
        from sentence_transformers import SentenceTransformer

        try:
            SentenceTransformer(spec).save(str(dest))
        except OSError as exc:
            raise BastionError(f"cannot load embedder {spec!r} ({exc})",
                               hint="connect once to download it, or set [embed] base_model to a local folder") from None
    return dest


def load_model(path: Path, *, max_tokens: int):
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # our stage progress is the display; no tqdm bars in it
    model = SentenceTransformer(str(path), local_files_only=True)
    model.max_seq_length = min(max_tokens, model.max_seq_length or max_tokens)
    return model


def dimension(model) -> int:
    get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(get())


def embed_fn(model, *, batch_size: int = 64) -> Callable[[list[str]], Any]:
    """texts -> (n, dim) L2-normalised numpy array."""
    def run(texts: list[str]):
        return model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                            convert_to_numpy=True, show_progress_bar=False)
    return run


# --------------------------------------------------------------------------- training


def _rows(triplets: Sequence[Triplet]) -> dict[str, list[str]]:
    """Columns for the loss: anchor, positive[, negative]. One row per (query, positive)."""
    with_neg = all(t.negatives for t in triplets)
    cols: dict[str, list[str]] = {"anchor": [], "positive": []} | ({"negative": []} if with_neg else {})
    for t in triplets:
        for i, p in enumerate(t.positives):
            cols["anchor"].append(t.query)
            cols["positive"].append(p)
            if with_neg:
                cols["negative"].append(t.negatives[i % len(t.negatives)])
    return cols


def make_loss(model, cfg: EmbedConfig):
    try:  # sentence-transformers >= 6 moved the losses; older releases keep the flat path
        from sentence_transformers.sentence_transformer import losses
    except ImportError:  # pragma: no cover
        from sentence_transformers import losses

    if cfg.batch_size > CACHED_LOSS_ABOVE:
        return losses.CachedMultipleNegativesRankingLoss(model, scale=cfg.scale, mini_batch_size=32)
    return losses.MultipleNegativesRankingLoss(model, scale=cfg.scale)


def train_embedder(
    model,
    triplets: Sequence[Triplet],
    cfg: EmbedConfig,
    *,
    workdir: Path,
    seed: int = 42,
    max_steps: int = -1,
) -> TrainResult:
    """Fine-tune `model` in place on the triplets; returns the per-step losses."""
    import torch
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments

    try:
        from sentence_transformers.sentence_transformer.training_args import BatchSamplers
    except ImportError:  # pragma: no cover
        from sentence_transformers.training_args import BatchSamplers

    if len(triplets) < 2:
        raise BastionError(f"only {len(triplets)} training triplet(s)", hint="give at least a few dozen (query, positive) pairs")
    torch.manual_seed(seed)
    data = Dataset.from_dict(_rows(triplets))
    loss = make_loss(model, cfg)
    # The model-card widget sampler prints a tqdm bar and serves no offline purpose.
    model.model_card_data.set_widget_examples = lambda dataset: None
    batch = min(cfg.batch_size, len(data))
    steps_per_epoch = max(1, len(data) // batch)
    total = max_steps if max_steps > 0 else max(1, int(steps_per_epoch * cfg.epochs))
    args = SentenceTransformerTrainingArguments(
        output_dir=str(workdir / "checkpoints"),
        num_train_epochs=cfg.epochs,
        max_steps=max_steps,
        per_device_train_batch_size=batch,
        learning_rate=cfg.learning_rate,
        warmup_steps=int(0.1 * total),
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        seed=seed,
        data_seed=seed,
        save_strategy="no",
        logging_steps=1,
        report_to="none",
        disable_tqdm=True,
        use_cpu=not torch.cuda.is_available(),
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data, loss=loss)
    _quiet(trainer)
    t0 = time.perf_counter()
    trainer.train()
    losses = [float(h["loss"]) for h in trainer.state.log_history if "loss" in h]
    shutil.rmtree(workdir / "checkpoints", ignore_errors=True)
    return TrainResult(model=model, losses=losses, steps=int(trainer.state.global_step),
                       seconds=time.perf_counter() - t0, loss_name=type(loss).__name__)


def _quiet(trainer) -> None:
    """Drop the callbacks that print log dicts and build model-card widgets (noise in our progress)."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    for cb in list(trainer.callback_handler.callbacks):
        if isinstance(cb, (PrinterCallback, ProgressCallback)) or "ModelCard" in type(cb).__name__:
            trainer.remove_callback(cb)


# --------------------------------------------------------------------------- gate


def gate(base: dict, tuned: dict, *, metric: str = GATE_METRIC, min_gain: float = 0.0) -> dict:
    """Keep the tuned model only if it beats the base on `metric` by more than `min_gain`."""
    b, t = float(base.get(metric, 0.0)), float(tuned.get(metric, 0.0))
    keep_tuned = t > b + min_gain
    verdict = (
        f"tuned embedder wins on {metric}: {t:.4f} vs base {b:.4f}; shipping the tuned model"
        if keep_tuned else
        f"TUNED EMBEDDER NOT BETTER on {metric} ({t:.4f} vs base {b:.4f}): KEEPING THE BASE MODEL"
    )
    return {"chosen": "tuned" if keep_tuned else "base", "metric": metric, "base": b, "tuned": t,
            "gain": round(t - b, 4), "verdict": verdict}


# --------------------------------------------------------------------------- GGUF and parity


def export_gguf(model_dir: Path, out: Path, *, llama_cpp_dir: Path | None = None) -> Path:
    from builder.starter import export_embedder

    return export_embedder(model_dir, out, llama_cpp_dir=llama_cpp_dir)


def check_parity(
    model,
    gguf: Path,
    *,
    probes: Sequence[str] = PROBES,
    max_tokens: int = 256,
    threshold: float = PARITY_MIN_COSINE,
) -> dict:
    """Cosine between sentence-transformers and llama.cpp embeddings of the same probe texts.

    Raises BastionError naming the worst probe and the figures when any cosine < threshold.
    """
    import numpy as np

    from app.bundle.hashing import sha256_file
    from app.llm.embedder import Embedder

    # Compare the weights, not two truncation policies: keep probes both sides see whole.
    fits = [p for p in probes if len(model.tokenizer(p)["input_ids"]) <= max_tokens]
    if len(fits) < 3:
        raise BastionError(f"only {len(fits)} parity probe(s) fit in {max_tokens} tokens",
                           hint="raise [embed] max_tokens in the profile (at least 32)")
    probes = fits
    ref = np.asarray(embed_fn(model)(list(probes)), dtype=np.float32)
    emb = Embedder(Path(gguf), fingerprint=sha256_file(Path(gguf)), max_tokens=max_tokens)
    got = np.asarray(emb.embed(list(probes)), dtype=np.float32)
    if got.shape != ref.shape:
        raise BastionError(
            f"embedder parity failed: {gguf} gives {got.shape[1]}-dim vectors, the trained model {ref.shape[1]}",
            hint="the GGUF was exported from a different model; re-run `builder embed`",
        )
    got /= np.linalg.norm(got, axis=1, keepdims=True)
    cos = (ref * got).sum(axis=1)
    worst = int(np.argmin(cos))
    report = {"min_cosine": round(float(cos.min()), 6), "mean_cosine": round(float(cos.mean()), 6),
              "threshold": threshold, "probes": len(probes), "worst_probe": probes[worst][:80]}
    if cos.min() < threshold:
        raise BastionError(
            f"embedder parity failed: cosine between sentence-transformers and GGUF ({gguf.name}) "
            f"embeddings is {cos.min():.6f} (mean {cos.mean():.6f}) < {threshold} on probe "
            f"{probes[worst][:60]!r}",
            hint="the GGUF does not match the model it was exported from: re-export it with the "
                 "llama.cpp converter matching the installed llama-cpp-python (`builder setup`)",
        )
    return report
