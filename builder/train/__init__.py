"""The train stage's library: LoRA/QLoRA SFT (transformers + peft + trl, or unsloth on CUDA; the stage: builder/stages/train/)."""
