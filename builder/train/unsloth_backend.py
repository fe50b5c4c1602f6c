"""Unsloth on CUDA: FastLanguageModel with a 4-bit base and its gradient checkpointing.

Same data, same trainer, same outputs (a PEFT adapter folder) as the transformers backend; the
export stage merges that adapter into the 16-bit base, never into the 4-bit weights used here.
unsloth patches transformers/trl when imported, so `import_unsloth()` runs before either is
imported by the train stage.
"""

from __future__ import annotations

import logging

from app.errors import BastionError
from builder.profiles import Profile
from builder.train.base_model import BaseRef

log = logging.getLogger(__name__)


def available() -> bool:
    import importlib.util

    if importlib.util.find_spec("unsloth") is None:
        return False
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


def import_unsloth():
    try:
        import unsloth  # noqa: F401  (must come before transformers/trl/peft)
        from unsloth import FastLanguageModel
    except ImportError as exc:
        raise BastionError(f"unsloth is not usable here: {exc}",
                           hint="install the GPU extra (pip install 'bastion[gpu]') on a CUDA machine, or use --backend hf") from None
    return FastLanguageModel


def load_for_training(base: BaseRef, profile: Profile):
    """(peft model, tokenizer, bf16?) from unsloth."""
    import torch

    if not torch.cuda.is_available():
        raise BastionError("--backend unsloth needs a CUDA GPU and none is visible",
                           hint="use --backend hf (or auto) on this machine")
    FastLanguageModel = import_unsloth()
    model, tok = FastLanguageModel.from_pretrained(
        model_name=base.name_or_path,
        max_seq_length=profile.max_seq_length,
        dtype=None,                       # bf16 where supported, else fp16
        load_in_4bit=profile.lora.qlora,
    )
    lc = profile.lora
    model = FastLanguageModel.get_peft_model(
        model,
        r=lc.r,
        lora_alpha=lc.alpha,
        lora_dropout=lc.dropout,
        target_modules=list(lc.target_modules),
        bias="none",
        use_gradient_checkpointing="unsloth" if profile.train.gradient_checkpointing else False,
        random_state=profile.train.seed,
        max_seq_length=profile.max_seq_length,
    )
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return model, tok, torch.cuda.is_bf16_supported()
