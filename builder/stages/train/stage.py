"""`builder train`: LoRA SFT on the run's data, resumable, with metrics and a loss curve.

Outputs in `<run>/train/`: `adapter/` (PEFT adapter + tokenizer), `checkpoints/` (every
save_steps; an interrupted run continues from the last one), `train_metrics.json`,
`loss_curve.png`. Under `torchrun`/`accelerate launch` every rank runs this function; rank 0
alone writes the stage files.
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path

from app.atomic import write_text
from app.errors import BastionError
from builder.profiles import Profile, profile_config
from builder.rundir import Progress, RunDir, StageResult, peak_rss_mb
from builder.stages.train.summary import TrainSummary

log = logging.getLogger(__name__)

BACKENDS = ("auto", "hf", "unsloth")


APP_TASKS = ("code_analysis", "grounded_answer")
"""Data-stage tasks in the app's own formats; the train stage reports their loss before and after."""


def resolve_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise BastionError(f"unknown backend {backend!r}", hint="use auto, hf or unsloth")
    if backend == "auto":
        from builder.train import unsloth_backend

        return "unsloth" if unsloth_backend.available() else "hf"
    return backend


def hyper_params(profile: Profile, overrides: dict | None) -> dict:
    hp = profile.train.model_dump()
    unknown = set(overrides or {}) - set(hp)
    if unknown:
        raise BastionError(f"unknown training override(s): {', '.join(sorted(unknown))}",
                           hint=f"known: {', '.join(sorted(hp))}")
    hp.update(overrides or {})
    hp["max_length"] = profile.max_seq_length
    return hp


def train_config(profile: Profile, hp: dict, backend: str) -> dict:
    return {"train": hp, "profile": profile_config(profile, "train"), "backend": backend}


class _Dist:
    """Rank bookkeeping: a no-op in a single process; accelerate's PartialState under torchrun."""

    def __init__(self) -> None:
        from builder.train.trainer import world_size

        self.n = world_size()
        self.state = None
        if self.n > 1:
            import torch
            from accelerate import PartialState

            self.state = PartialState(backend=None if torch.cuda.is_available() else "gloo")

    @property
    def main(self) -> bool:
        return self.state is None or self.state.is_main_process

    def barrier(self) -> None:
        if self.state is not None:
            self.state.wait_for_everyone()

    def sum(self, value: float) -> float:
        if self.state is None:
            return value
        import torch
        import torch.distributed as dist

        t = torch.tensor([float(value)], dtype=torch.float64)
        dist.all_reduce(t)
        return float(t.item())


def _snapshot(model) -> dict:
    return {n: p.detach().float().clone() for n, p in model.named_parameters() if p.requires_grad}


def _delta(model, before: dict) -> float:
    now = dict(model.named_parameters())
    return max((float((now[n].detach().float().cpu() - t.cpu()).abs().max()) for n, t in before.items() if n in now), default=0.0)


def last_good_checkpoint(ckpt_dir: Path) -> str | None:
    """The newest checkpoint-N folder that was saved completely (a kill mid-save leaves a partial one)."""
    import shutil

    if not ckpt_dir.is_dir():
        return None
    cks = sorted((p for p in ckpt_dir.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()),
                 key=lambda p: int(p.name.split("-")[-1]), reverse=True)
    for p in cks:
        if (p / "trainer_state.json").is_file() and any(p.glob("adapter_model.*")):
            return str(p)
        log.warning("removing incomplete checkpoint %s", p)
        shutil.rmtree(p, ignore_errors=True)
    return None


def _loss_history(trainer) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for e in trainer.state.log_history:
        if "loss" in e and "step" in e:
            xs.append(e["step"])
            ys.append(float(e["loss"]))
    return xs, ys


def run_train(run: RunDir, profile: Profile, *, backend: str = "auto", resume: bool = True, force: bool = False,
              overrides: dict | None = None, progress: Progress = lambda m: None) -> StageResult | None:
    """The train stage. Returns None on non-zero ranks of a distributed run."""
    t_start = time.perf_counter()
    backend = resolve_backend(backend)
    if backend == "unsloth":
        from builder.train.unsloth_backend import import_unsloth

        import_unsloth()  # before transformers/trl/peft, so its patches apply
    hp = hyper_params(profile, overrides)
    cfg = train_config(profile, hp, backend)
    data = run.require("data", hint=f"run `builder data --profile {profile.name} --run {run.root}` first (or pass --data)")
    inputs = [data.dir / "train.jsonl", data.dir / "val.jsonl"]
    if hp["pretrain_epochs"] > 0:
        inputs.append(data.dir / "corpus.jsonl")
    dist = _Dist()
    st = run.stage("train")
    if not force and st.is_fresh(config=cfg, inputs=inputs):
        if dist.main:
            progress("train: unchanged data and config — skipped")
        return st.result() if dist.main else None

    from builder.train.base_model import ensure_base, load_tokenizer

    resumed = False
    if dist.main:
        base = ensure_base(run, profile, progress=progress)
        resumed = st.begin(config=cfg, inputs=inputs, resume=resume and not force)
    dist.barrier()
    if not dist.main:
        base = ensure_base(run, profile)

    import torch
    from transformers import set_seed

    set_seed(hp["seed"])
    use_cuda = torch.cuda.is_available()
    if backend == "unsloth":
        from builder.train import unsloth_backend

        model, tok, bf16 = unsloth_backend.load_for_training(base, profile)
    else:
        from builder.train import hf_backend

        tok = load_tokenizer(base)
        model, bf16 = hf_backend.load_for_training(base, profile, use_cuda=use_cuda)

    from builder.train.sft import encode_file, pack_corpus, read_corpus
    from builder.train.trainer import make_trainer, train

    enc_train = encode_file(tok, data.dir / "train.jsonl", max_len=profile.max_seq_length)
    enc_val = encode_file(tok, data.dir / "val.jsonl", max_len=profile.max_seq_length)
    if not enc_train.input_ids:
        raise BastionError("no training examples survived tokenisation", hint="check data/train.jsonl and max_seq_length")
    per_step = hp["batch_size"] * hp["grad_accum"] * dist.n
    total_steps = hp["max_steps"] if hp["max_steps"] > 0 else math.ceil(len(enc_train.input_ids) / per_step * hp["epochs"])
    hp_run = dict(hp, warmup_steps=int(hp["warmup_ratio"] * total_steps))
    before = _snapshot(model)
    ckpt_dir = st.dir / "checkpoints"

    summary: dict = {"backend": backend, "world_size": dist.n, "resumed": resumed, "data": enc_train.stats(),
                     "val_examples": len(enc_val.input_ids)}
    if hp["pretrain_epochs"] > 0:
        summary["pretrain"] = _pretrain(model, tok, st.dir, data.dir, profile, hp_run, use_cuda, bf16, dist,
                                        resume=resumed, pack=pack_corpus, read=read_corpus, progress=progress)

    val_ds = enc_val.dataset() if enc_val.input_ids else None
    trainer = make_trainer(model, tok, enc_train.dataset(), val_ds, out=ckpt_dir, hp=hp_run, use_cuda=use_cuda, bf16=bf16,
                           progress=progress)
    before_file = st.dir / "eval_before.json"
    if val_ds is not None:
        if before_file.exists():
            eval_before = json.loads(before_file.read_text())["eval_loss"]
        else:
            eval_before = float(trainer.evaluate()["eval_loss"])
            if dist.main:
                write_text(before_file, json.dumps({"eval_loss": eval_before}))
        summary["eval_loss_before"] = round(eval_before, 5)

    # the app's own tasks (data stage: app-format review and grounded answers), measured apart
    task_sets = {t: enc.dataset() for t in APP_TASKS
                 if (enc := encode_file(tok, data.dir / "train.jsonl", max_len=profile.max_seq_length, task=t,
                                        limit=8)).input_ids}
    task_file = st.dir / "task_loss_before.json"
    task_before = json.loads(task_file.read_text()) if task_file.exists() else {
        t: float(trainer.evaluate(eval_dataset=ds)["eval_loss"]) for t, ds in task_sets.items()}
    if dist.main and not task_file.exists():
        write_text(task_file, json.dumps(task_before))

    last = last_good_checkpoint(ckpt_dir) if resume and dist.main else None
    if dist.n > 1:  # every rank must resume from the same checkpoint
        from accelerate.utils import broadcast_object_list

        last = broadcast_object_list([last])[0]
    if last:
        progress(f"train: resuming from {Path(last).name}")
    summary["resumed_from"] = Path(last).name if last else None
    progress(f"train: {backend} backend, {len(enc_train.input_ids)} examples, {total_steps} steps on "
             f"{'CUDA' if use_cuda else 'CPU'} × {dist.n}")
    res = train(trainer, resume_from=last)
    tokens = dist.sum(res["tokens"])
    summary.update(global_step=res["global_step"], train_runtime_s=res["runtime_s"], tokens_trained=int(tokens),
                   tokens_per_s=round(tokens / res["runtime_s"], 1) if res["runtime_s"] > 0 else None)
    if val_ds is not None:
        summary["eval_loss_after"] = round(float(trainer.evaluate()["eval_loss"]), 5)
    summary["task_loss"] = {t: {"before": round(task_before[t], 5),
                                "after": round(float(trainer.evaluate(eval_dataset=ds)["eval_loss"]), 5)}
                            for t, ds in task_sets.items() if t in task_before}
    xs, ys = _loss_history(trainer)
    summary["train_loss_first"] = round(ys[0], 5) if ys else None
    summary["train_loss_last"] = round(ys[-1], 5) if ys else None
    summary["adapter_max_change"] = _delta(model, before)
    dist.barrier()
    if not dist.main:
        return None

    adapter = st.dir / "adapter"
    trainer.model.save_pretrained(str(adapter))
    tok.save_pretrained(str(adapter))
    from builder.plots import curves

    curves({"train loss": (xs, ys)}, st.dir / "loss_curve.png", title=f"{profile.name} SFT loss")
    summary["wall_s"] = round(time.perf_counter() - t_start, 2)
    summary["peak_rss_mb"] = round(peak_rss_mb(), 1)
    summary["loss_history"] = list(zip(xs, ys))
    write_text(st.dir / "train_metrics.json", json.dumps(summary, indent=2))
    progress(f"train: {res['global_step']} steps, loss {summary['train_loss_first']} → {summary['train_loss_last']}, "
             f"val {summary.get('eval_loss_before')} → {summary.get('eval_loss_after')}, "
             f"{summary['tokens_per_s']} tokens/s")
    report = TrainSummary(**{k: v for k, v in summary.items() if k != "loss_history"})
    return st.finish(outputs=["adapter", "train_metrics.json", "loss_curve.png"], summary=report.to_dict())


def _pretrain(model, tok, stage_dir: Path, data_dir: Path, profile: Profile, hp: dict, use_cuda: bool, bf16: bool,
              dist: _Dist, *, resume: bool, pack, read, progress: Progress) -> dict:
    """Continued pre-training on the raw corpus with the same adapter, before SFT (resumable)."""
    from peft import set_peft_model_state_dict

    done = stage_dir / "pretrain_done.json"
    saved = stage_dir / "pretrain_adapter"
    if resume and done.exists() and saved.is_dir():
        from safetensors.torch import load_file

        set_peft_model_state_dict(model, load_file(str(saved / "adapter_model.safetensors")))
        progress("train: continued pre-training already done — reusing its adapter")
        return json.loads(done.read_text())
    blocks = pack(tok, read(data_dir / "corpus.jsonl"), block=profile.max_seq_length)
    if not blocks:
        progress("train: no corpus for continued pre-training — skipped")
        return {"skipped": "no corpus"}
    from datasets import Dataset

    from builder.train.trainer import make_trainer, train

    ds = Dataset.from_dict({"input_ids": blocks, "labels": blocks})
    ckpt = stage_dir / "checkpoints-pretrain"
    php = dict(hp, epochs=hp["pretrain_epochs"], max_steps=-1, warmup_steps=0)
    trainer = make_trainer(model, tok, ds, None, out=ckpt, hp=php, use_cuda=use_cuda, bf16=bf16, progress=progress)
    last = last_good_checkpoint(ckpt) if resume else None
    progress(f"train: continued pre-training on {len(blocks)} corpus blocks")
    res = train(trainer, resume_from=last)
    out = {"blocks": len(blocks), "steps": res["global_step"], "loss": res["train_loss"], "runtime_s": res["runtime_s"]}
    dist.barrier()
    if dist.main:
        trainer.model.save_pretrained(str(saved))
        write_text(done, json.dumps(out))
    dist.barrier()
    return out
