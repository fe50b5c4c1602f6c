"""`bastion bundle create`: bring your own GGUF (a file, an Ollama store, the HF cache) as a sealed bundle.

Order of trust: the GGUF header and tensor table are checked (gguf_check), the
chat template is test-rendered in a sandboxed child (chat_template), the model
answers once in a child process (smoke), and only then is the bundle sealed
(every file hashed into manifest.json) and renamed into `BASTION_HOME/bundles/NAME`.
The LLM is hard-linked when the source is on the same filesystem, else copied;
the embedder, index and prompts come from the starter (or `--from-bundle`).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from app import paths
from app.bundle.loader import Bundle, load_bundle
from app.bundle.manifest import FORMAT_VERSION, ChatSpec, Manifest
from app.errors import BundleError

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass
class ModelSource:
    """Where the GGUF came from, and what the source adds (Ollama's stop strings)."""

    gguf: Path
    kind: str
    ref: str
    extra_stop: tuple[str, ...] = ()


def resolve_source(*, llm: Path | None = None, from_ollama: str | None = None, from_hf: str | None = None,
                   hf_file: str | None = None, ollama_dir: Path | None = None) -> ModelSource:
    """Exactly one of `llm`, `from_ollama`, `from_hf` -> the GGUF to import."""
    given = [x for x in (llm, from_ollama, from_hf) if x]
    if len(given) != 1:
        raise BundleError("give exactly one model source", hint="use one of --llm FILE.gguf, --from-ollama NAME[:TAG], --from-hf REPO")
    if llm:
        return ModelSource(gguf=Path(llm).expanduser(), kind="file", ref=str(Path(llm).expanduser().resolve()))
    if from_ollama:
        from app.bundle.ollama_store import find_model

        m = find_model(from_ollama, root=ollama_dir)
        stop = m.params.get("stop", [])
        stop = tuple(s for s in (stop if isinstance(stop, list) else [stop]) if isinstance(s, str) and s)
        return ModelSource(gguf=m.gguf, kind="ollama", ref=m.name, extra_stop=stop)
    from app.bundle.hf_cache import find_gguf

    path = find_gguf(from_hf, filename=hf_file)
    return ModelSource(gguf=path, kind="huggingface", ref=f"{from_hf}/{path.name}")


def create_bundle(name: str, source: ModelSource, *, base: Path | None = None, chat_template: Path | None = None,
                  embedder: Path | None = None, force: bool = False, smoke: bool = True,
                  progress: Progress = lambda msg: None) -> Path:
    """Build, smoke-test and seal the bundle `BASTION_HOME/bundles/NAME`; returns its directory."""
    from app.atomic import replace_dir
    from app.bundle.writer import seal
    from app.llm.chat_template import chat_info, check_template
    from app.llm.family import family, preset
    from app.llm.fit import ModelShape, suggest
    from app.llm.gguf_check import check_gguf

    t0 = time.perf_counter()
    dest = _destination(name, force=force)
    progress(f"checking {source.gguf}")
    info = check_gguf(source.gguf)
    chat = chat_info(info)
    if chat_template:
        chat.template = _read_template(chat_template)
    check_template(chat, source=str(chat_template or source.gguf))
    stop = list(dict.fromkeys([*chat.stop, *source.extra_stop]))
    shape = ModelShape.from_gguf(info)
    fit = suggest(shape)
    fam = family(info)
    base_bundle = None if embedder and not base else load_bundle(base or paths.starter_bundle_dir())

    stage = dest.with_name(f".{dest.name}.creating")
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    try:
        how = place_file(source.gguf, stage / "llm.gguf")
        progress(f"model {'hard-linked' if how == 'hardlink' else 'copied'} into the bundle")
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            name=name,
            profile=f"byo-{fam}",
            description=f"{info.name or source.gguf.stem} ({source.kind}: {source.ref}) + "
            + (f"{base_bundle.manifest.name} bundle's embedder and knowledge" if base_bundle else f"{embedder.name} notes index"),
            llm="llm.gguf",
            # Always the template itself: the app then renders it only through its guarded renderer.
            chat=ChatSpec(template=chat.template, stop=stop),
            context_length=fit.n_ctx,
            tools=_tools(),
            metrics={
                "source.kind": source.kind, "source.ref": source.ref, "llm.link": how,
                "llm.architecture": info.architecture, "llm.name": info.name or source.gguf.stem,
                "llm.family": fam, "llm.trained_context": shape.trained_context,
                **shape.as_metrics(), "chat.system_role": chat.system_role,
                "chat.template_source": "file" if chat_template else "gguf",
                "sampling.preset": fam,
                "fit.n_ctx": fit.n_ctx, "fit.n_threads": fit.n_threads, "fit.n_gpu_layers": fit.n_gpu_layers,
            },
        )
        if embedder:
            manifest = _new_knowledge(Path(embedder).expanduser(), stage, manifest, progress)
        else:
            manifest = _take_knowledge(base_bundle, stage, manifest)
        _write_prompts(base_bundle, stage / "prompts.toml", preset(fam))
        manifest = manifest.model_copy(update={"prompts": "prompts.toml"})
        if smoke:
            from app.bundle.smoke import smoke_test

            progress("smoke test: the model answers once in a child process")
            figures = smoke_test(stage / "llm.gguf", n_ctx=fit.n_ctx, stop=stop, template=manifest.chat.template)
            manifest.metrics.update({f"smoke.{k}": figures[k] for k in ("load_s", "ttft_s", "tokens_per_s", "tokens")})
            progress(f"  first token after {figures['ttft_s']:.2f}s, {figures['tokens_per_s']:.1f} tokens/s")
        manifest.metrics["create.seconds"] = round(time.perf_counter() - t0, 2)
        progress("sealing: hashing every file into manifest.json")
        seal(stage, manifest)
        replace_dir(stage, dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    progress(f"bundle {name} written to {dest} in {time.perf_counter() - t0:.1f}s")
    return dest


def place_file(src: Path, dst: Path) -> str:
    """Hard-link `src` to `dst` when both are on one filesystem, else copy; returns 'hardlink' or 'copy'."""
    try:
        os.link(src, dst)
        return "hardlink"
    except OSError:
        shutil.copyfile(src, dst)
        return "copy"


def _destination(name: str, *, force: bool) -> Path:
    if not NAME_RE.match(name):
        raise BundleError(f"bundle name {name!r} is not allowed",
                          hint="use letters, digits, '.', '_' or '-' (up to 64), starting with a letter or digit")
    dest = paths.bundles_dir() / name
    if dest.exists() and not force:
        raise BundleError(f"bundle {name!r} already exists at {dest}", hint="pick another name, or pass --force to replace it")
    return dest


def _read_template(path: Path) -> str:
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path}: cannot read the chat template ({exc})", hint="give a UTF-8 Jinja file") from None
    if len(text) > 256 * 1024:
        raise BundleError(f"{path}: a {len(text)}-character chat template is not plausible", hint="check the file")
    return text


def _take_knowledge(base: Bundle, stage: Path, manifest: Manifest) -> Manifest:
    """The base bundle's embedder (hard-linked), knowledge index (copied) and prompts."""
    m = base.manifest
    update: dict = {}
    if m.embedder:
        place_file(base.file(m.embedder.path), stage / m.embedder.path)
        update["embedder"] = m.embedder
    if m.index and (base.root / m.index).is_dir():
        shutil.copytree(base.root / m.index, stage / m.index)
        update["index"] = m.index
    metrics = {**manifest.metrics, **{k: v for k, v in m.metrics.items() if k.startswith("index.")},
               "knowledge.from": f"{m.name} ({base.root})"}
    update["metrics"] = metrics
    return manifest.model_copy(update=update)


def _new_knowledge(embedder: Path, stage: Path, manifest: Manifest, progress: Progress) -> Manifest:
    """`--embedder FILE.gguf`: that embedder, and the security notes indexed with it."""
    from app.bundle.hashing import sha256_file
    from app.bundle.manifest import EmbedderSpec
    from app.knowledge.starter import build_starter_index
    from app.llm.gguf_check import check_gguf

    info = check_gguf(embedder)
    dim = info.arch_value("embedding_length")
    if not isinstance(dim, int) or dim <= 0:
        raise BundleError(f"{embedder}: no embedding_length in the GGUF metadata; not an embedding model",
                          hint="give an embedding GGUF (e.g. all-MiniLM-L6-v2 converted with llama.cpp)")
    how = place_file(embedder, stage / "embedder.gguf")
    pooling = {1: "mean", 2: "cls", 3: "last"}.get(info.arch_value("pooling_type"), "mean")
    spec = EmbedderSpec(path="embedder.gguf", dim=dim, fingerprint=sha256_file(stage / "embedder.gguf"),
                        max_tokens=min(int(info.arch_value("context_length", 512) or 512), 512), pooling=pooling,
                        normalize=True, base_model=info.name)
    manifest = manifest.model_copy(update={"embedder": spec})
    progress(f"embedder {'hard-linked' if how == 'hardlink' else 'copied'}; indexing the security notes with it")
    stats = build_starter_index(stage, manifest, progress=progress)
    metrics = {**manifest.metrics, **{f"index.{k}": v for k, v in stats.items()}, "knowledge.from": str(embedder)}
    return manifest.model_copy(update={"index": "index", "metrics": metrics})


def _write_prompts(base: Bundle | None, out: Path, sampling: dict) -> None:
    """The base bundle's system prompts with the model family's sampling preset as `[sampling]`."""
    import tomli_w
    import tomllib

    from app.atomic import write_text
    from app.prompts import default_prompts_toml

    src = base.prompts_path if base else None
    text = src.read_text(encoding="utf-8") if src and src.is_file() else default_prompts_toml()
    data = tomllib.loads(text)
    data["sampling"] = dict(sampling)
    write_text(out, tomli_w.dumps(data))


def _tools() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for dist in ("bastion", "llama_cpp_python"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out
