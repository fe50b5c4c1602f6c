"""transformers + peft: the base in full precision (CPU) or 4-bit bitsandbytes (QLoRA on CUDA)."""

from __future__ import annotations

import logging

from builder.profiles import Profile
from builder.train.base_model import BaseRef, load_model

log = logging.getLogger(__name__)


def lora_config(profile: Profile):
    from peft import LoraConfig

    lc = profile.lora
    return LoraConfig(r=lc.r, lora_alpha=lc.alpha, lora_dropout=lc.dropout, target_modules=list(lc.target_modules),
                      bias="none", task_type="CAUSAL_LM")


def load_for_training(base: BaseRef, profile: Profile, *, use_cuda: bool):
    """(peft model, bf16?) ready for the trainer."""
    import torch
    from peft import get_peft_model, prepare_model_for_kbit_training

    qcfg = None
    bf16 = use_cuda and torch.cuda.is_bf16_supported()
    if use_cuda and profile.lora.qlora:
        try:
            import bitsandbytes  # noqa: F401
            from transformers import BitsAndBytesConfig

            qcfg = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                      bnb_4bit_compute_dtype=torch.bfloat16 if bf16 else torch.float16)
        except ImportError:
            log.warning("bitsandbytes is not installed: training LoRA on a 16-bit base instead of QLoRA")
    if use_cuda:
        local_rank = int(__import__("os").environ.get("LOCAL_RANK", "0"))
        model = load_model(base, dtype=torch.bfloat16 if bf16 else torch.float16, quantization_config=qcfg,
                           device_map={"": local_rank})
    else:
        model = load_model(base, dtype=torch.float32)
    if qcfg is not None:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=profile.train.gradient_checkpointing)
    elif profile.train.gradient_checkpointing:
        model.enable_input_require_grads()
    model.config.use_cache = False
    return get_peft_model(model, lora_config(profile)), bf16
