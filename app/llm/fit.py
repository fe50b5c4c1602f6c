"""Hardware fit: suggest context length, threads and GPU layers for a model on this machine.

Like llama.cpp's fit option, from what the GGUF header says (size, layers, KV
heads) and what the machine has (memory, cores, a GPU build): the KV cache grows
by `kv_bytes_per_token` per token of context, so the context is capped where
weights + cache would pass ~70% of the memory available now.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import asdict, dataclass

from app.llm.gguf_check import GGUFInfo

MEMORY_SHARE = 0.7
OVERHEAD_BYTES = 384 * 1024 * 1024
"""Compute buffers and the runtime itself, beyond weights and KV cache."""
MIN_CTX = 512
CTX_STEP = 256


@dataclass(frozen=True)
class ModelShape:
    """What fitting needs to know about a model; recorded in the manifest so `bundle list` needs no GGUF parse."""

    model_bytes: int
    n_layers: int
    kv_bytes_per_token: int
    trained_context: int

    @classmethod
    def from_gguf(cls, info: GGUFInfo) -> "ModelShape":
        n_layers = _int(info.arch_value("block_count"), 0)
        n_embd = _int(info.arch_value("embedding_length"), 0)
        n_head = _int(info.arch_value("attention.head_count"), 0)
        n_kv = _int(info.arch_value("attention.head_count_kv"), n_head)
        k_len = _int(info.arch_value("attention.key_length"), n_embd // n_head if n_head else 0)
        v_len = _int(info.arch_value("attention.value_length"), k_len)
        kv = n_layers * n_kv * (k_len + v_len) * 2  # f16 cache
        return cls(model_bytes=info.file_size, n_layers=n_layers, kv_bytes_per_token=kv,
                   trained_context=_int(info.arch_value("context_length"), 2048))

    def as_metrics(self) -> dict:
        return {f"llm.{k}": v for k, v in asdict(self).items()}

    @classmethod
    def from_metrics(cls, metrics: dict) -> "ModelShape | None":
        try:
            return cls(**{k: int(metrics[f"llm.{k}"]) for k in cls.__dataclass_fields__})
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Fit:
    n_ctx: int
    n_threads: int
    n_gpu_layers: int
    memory_bytes: int
    fits: bool
    note: str = ""

    def line(self) -> str:
        gpu = "all" if self.n_gpu_layers < 0 else str(self.n_gpu_layers)
        return f"n_ctx {self.n_ctx}, threads {self.n_threads}, GPU layers {gpu}" + (f" ({self.note})" if self.note else "")


def suggest(shape: ModelShape, *, memory_bytes: int | None = None, gpu_free_bytes: int | None = None) -> Fit:
    """The largest context (up to the trained one) that fits beside the weights, plus threads and GPU layers."""
    mem = memory_bytes if memory_bytes is not None else available_memory()
    budget = int(mem * MEMORY_SHARE) - shape.model_bytes - OVERHEAD_BYTES
    per_tok = max(shape.kv_bytes_per_token, 1)
    room = budget // per_tok if budget > 0 else 0
    n_ctx = min(shape.trained_context, room) // CTX_STEP * CTX_STEP
    fits = n_ctx >= MIN_CTX
    note = "" if fits else f"the model needs more memory than the {mem / 2**30:.1f} GiB available"
    n_ctx = max(n_ctx, MIN_CTX)
    gpu = gpu_free_bytes if gpu_free_bytes is not None else gpu_free_memory()
    layers = 0
    if gpu and shape.n_layers:
        per_layer = shape.model_bytes / shape.n_layers + per_tok * n_ctx / shape.n_layers
        layers = min(shape.n_layers, int(gpu * 0.9 // per_layer))
        layers = -1 if layers >= shape.n_layers else layers
    return Fit(n_ctx=n_ctx, n_threads=physical_cores(), n_gpu_layers=layers, memory_bytes=mem, fits=fits, note=note)


def available_memory() -> int:
    """MemAvailable from /proc/meminfo, else total physical memory."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def physical_cores() -> int:
    """Cores this process may use, counting SMT siblings once (llama.cpp's own default)."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    try:
        with open("/proc/cpuinfo") as fh:
            text = fh.read()
        cores = {line for line in text.splitlines() if line.startswith(("physical id", "core id"))}
        siblings = [int(line.split(":")[1]) for line in text.splitlines() if line.startswith("siblings")]
        per_core = [int(line.split(":")[1]) for line in text.splitlines() if line.startswith("cpu cores")]
        if siblings and per_core and per_core[0] and siblings[0] > per_core[0] and cores:
            return max(1, usable * per_core[0] // siblings[0])
    except (OSError, ValueError, IndexError):
        pass
    return max(1, usable)


def gpu_free_memory() -> int:
    """Free memory of the first GPU when llama.cpp was built with GPU offload, else 0."""
    try:
        import llama_cpp

        if not llama_cpp.llama_supports_gpu_offload():
            return 0
    except Exception:
        return 0
    smi = shutil.which("nvidia-smi")
    if not smi:
        return 0
    try:
        out = subprocess.run([smi, "--query-gpu=memory.free", "--format=csv,noheader,nounits"], capture_output=True,
                             text=True, timeout=5).stdout
        return int(out.split()[0]) * 2**20
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        return 0


def _int(v, default: int) -> int:
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 else default
