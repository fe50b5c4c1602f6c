"""The train stage: LoRA/QLoRA SFT (transformers + peft + trl, or unsloth on CUDA)."""
