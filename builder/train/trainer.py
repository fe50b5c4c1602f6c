"""The training loop both backends share: trl's SFTTrainer on pre-tokenised, pre-masked data.

The dataset carries `input_ids` and `labels` (-100 outside assistant replies); trl uses given
labels as they are and its collator pads them with -100. A small subclass counts the real
(non-padding) tokens each step so the stage can report tokens/s. Works unchanged under
`torchrun` / `accelerate launch` (DDP; gloo on CPU).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def make_trainer(model, tok, train_ds, eval_ds, *, out: Path, hp: dict, use_cuda: bool, bf16: bool = False,
                 progress=lambda m: None):
    from transformers import PrinterCallback, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    class ProgressCallback(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kw):
            if state.is_world_process_zero and logs and "loss" in logs:
                progress(f"step {state.global_step}/{state.max_steps}: loss {float(logs['loss']):.4f}")

    class CountingTrainer(SFTTrainer):
        tokens_seen = 0

        def training_step(self, model, inputs, *args, **kwargs):
            mask = inputs.get("attention_mask")
            if mask is not None:
                self.tokens_seen += int(mask.sum())
            else:
                self.tokens_seen += int(inputs["input_ids"].numel())
            return super().training_step(model, inputs, *args, **kwargs)

    args = SFTConfig(
        output_dir=str(out),
        num_train_epochs=hp["epochs"],
        max_steps=hp["max_steps"],
        learning_rate=hp["learning_rate"],
        per_device_train_batch_size=hp["batch_size"],
        per_device_eval_batch_size=hp["batch_size"],
        gradient_accumulation_steps=hp["grad_accum"],
        warmup_steps=int(hp.get("warmup_steps", 0)),
        weight_decay=hp["weight_decay"],
        lr_scheduler_type=hp["lr_scheduler"],
        logging_steps=hp["logging_steps"],
        save_steps=hp["save_steps"],
        save_strategy="steps",
        save_total_limit=2,
        eval_strategy="no",
        seed=hp["seed"],
        data_seed=hp["seed"],
        max_length=hp["max_length"],
        packing=False,
        gradient_checkpointing=hp["gradient_checkpointing"],
        bf16=bf16,
        report_to=[],
        disable_tqdm=True,
        use_cpu=not use_cuda,
        ddp_backend=("nccl" if use_cuda else "gloo") if world_size() > 1 else None,
        ddp_find_unused_parameters=False if world_size() > 1 else None,
        dataloader_num_workers=0,
        remove_unused_columns=False,
        save_only_model=False,
    )
    trainer = CountingTrainer(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
                              processing_class=tok)
    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(ProgressCallback())
    return trainer


def train(trainer, *, resume_from: str | None) -> dict:
    """Run training; returns runtime, steps and the counted tokens of this process."""
    t0 = time.perf_counter()
    out = trainer.train(resume_from_checkpoint=resume_from)
    secs = time.perf_counter() - t0
    return {"runtime_s": round(secs, 3), "global_step": trainer.state.global_step,
            "train_loss": round(float(out.training_loss), 5), "tokens": trainer.tokens_seen}
