"""The export stage's library: merge into the 16-bit base, GGUF conversion, quantization, verification (the stage: builder/stages/export/)."""
