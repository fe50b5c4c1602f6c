"""Model families, recognised from GGUF metadata, and the sampling preset each one gets.

Presets follow the model makers' published generation settings (generation_config.json
of the instruct releases) for top-p/top-k/min-p and repetition, with the temperature
lowered for grounded answers (a security assistant should quote, not improvise).
"""

from __future__ import annotations

from app.llm.gguf_check import GGUFInfo

PRESETS: dict[str, dict[str, float | int]] = {
    "qwen": {"temperature": 0.3, "top_p": 0.8, "top_k": 20, "min_p": 0.0, "repeat_penalty": 1.05},
    "llama3": {"temperature": 0.3, "top_p": 0.9, "top_k": 40, "min_p": 0.05, "repeat_penalty": 1.0},
    "mistral": {"temperature": 0.3, "top_p": 0.95, "top_k": 40, "min_p": 0.05, "repeat_penalty": 1.0},
    "gemma": {"temperature": 0.3, "top_p": 0.95, "top_k": 64, "min_p": 0.0, "repeat_penalty": 1.0},
    "phi": {"temperature": 0.2, "top_p": 0.95, "top_k": 40, "min_p": 0.05, "repeat_penalty": 1.0},
}
"""Knob names are `app.prompts`' `[sampling]` keys; a bundle's prompts.toml carries the chosen one."""


def family(info: GGUFInfo) -> str:
    """`qwen`, `llama3`, `mistral`, `gemma`, `phi`, `smollm` or `default`."""
    arch = (info.architecture or "").lower()
    name = " ".join(str(info.metadata.get(k, "")) for k in ("general.name", "general.basename", "general.finetune")).lower()
    if arch.startswith("qwen") or "qwen" in name:
        return "qwen"
    if arch.startswith("gemma"):
        return "gemma"
    if arch.startswith("phi"):
        return "phi"
    if "smollm" in name:
        return "smollm"
    if "mistral" in name or "mixtral" in name or arch in ("mistral", "mistral3"):
        return "mistral"
    if arch == "llama" and ("llama 3" in name or "llama-3" in name or "llama3" in name):
        return "llama3"
    return "default"


def preset(name: str) -> dict[str, float | int]:
    """The family's preset; tiny models (SmolLM) and unknown families get `app.prompts`' own."""
    from app.prompts import SAMPLING_PRESETS

    if name == "smollm":
        return dict(SAMPLING_PRESETS["small"])
    return dict(PRESETS.get(name, SAMPLING_PRESETS["default"]))
