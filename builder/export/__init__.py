"""The export stage: merge into the 16-bit base, GGUF conversion, quantization, verification."""
