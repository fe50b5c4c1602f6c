"""`builder bundle`: assemble the run's outputs into a sealed bundle the app verifies and opens.

    llm.gguf        <- export/model-<QUANT>.gguf
    embedder.gguf   <- embed/embedder.gguf (the gate's choice; the index was built with it)
    index/          <- index/index
    prompts.toml    the app's system prompts
    eval/           <- eval/report.{json,md} and plots
    manifest.json   hashes, chat stop tokens, context length, embedder spec, tool versions, metrics

The bundle is written to a staging folder, sealed, verified with the app's own verifier and only
then renamed into place, so an interrupted run never leaves a half bundle where the app looks.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Callable

from app.atomic import replace_dir, write_text
from app.errors import BastionError
from builder.profiles import Profile
from builder.rundir import RunDir, StageResult, human_bytes

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
STAGE = "bundle"
EVAL_FILES = ("report.json", "report.md", "retrieval.png", "chat.png", "embed_loss.png")


def _place(src: Path, dst: Path) -> None:
    """Hard-link when possible (multi-GB models), else copy."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _sound(dest: Path) -> bool:
    from app.bundle import verify_bundle

    try:
        return (dest / "manifest.json").is_file() and not verify_bundle(dest, full=False)
    except BastionError:
        return False


def flat_metrics(run: RunDir) -> dict:
    """The figures recorded in the manifest: one flat, JSON-friendly dict."""
    out: dict = {}
    for stage in ("data", "train", "export", "embed", "index", "eval"):
        summary = (run.stage(stage).meta() or {}).get("summary", {})
        for k, v in summary.items():
            if isinstance(v, (int, float, str, bool)) or v is None:
                out[f"{stage}.{k}"] = v
    return out


def run_bundle(
    run: RunDir,
    profile: Profile,
    *,
    out: Path | None = None,
    name: str | None = None,
    force: bool = False,
    progress: Progress = lambda m: None,
) -> StageResult:
    from app.bundle import verify_bundle
    from app.bundle.manifest import FORMAT_VERSION, ChatSpec, EmbedderSpec, Manifest
    from app.bundle.writer import seal
    from app.prompts import default_prompts_toml
    from builder import llamacpp
    from builder.starter import gguf_context_length
    from builder.versions import tool_versions

    exp = run.require("export")
    emb = run.require("embed")
    idx = run.require("index")
    ev = run.stage("eval")
    llm = exp.path(exp.summary["llm_gguf"])
    gguf = emb.path("embedder.gguf")
    st = run.stage(STAGE)
    name = name or profile.name
    dest = Path(out).expanduser().resolve() if out else st.dir / name
    eval_files = [ev.dir / f for f in EVAL_FILES if ev.complete and (ev.dir / f).is_file()]
    config = {"name": name, "out": str(dest), "stop": profile.stop, "context_length": profile.context_length}
    inputs = [llm, gguf, idx.path("index"), *eval_files]
    if not force and st.is_fresh(config=config, inputs=inputs) and _sound(dest):
        progress(f"bundle: unchanged, skipped ({dest})")
        return st.result(skipped=True)
    if not ev.complete:
        progress("bundle: ⚠ the eval stage has not run; the bundle carries no evaluation report")
    st.begin(config=config, inputs=inputs, resume=False)
    staging = dest.with_name(dest.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    progress(f"bundle: assembling {name} from {run.root}")
    _place(llm, staging / "llm.gguf")
    _place(gguf, staging / "embedder.gguf")
    reranker = emb.path("reranker.gguf")
    if reranker.is_file():
        _place(reranker, staging / "reranker.gguf")
    shutil.copytree(idx.path("index"), staging / "index")
    write_text(staging / "prompts.toml", default_prompts_toml())
    for f in eval_files:
        _place(f, staging / "eval" / f.name)

    embed_report = json.loads(emb.path("embed_report.json").read_text(encoding="utf-8"))
    tools = tool_versions()
    tools["llama.cpp converter"] = f"from llama-cpp-python {llamacpp.llama_cpp_python_version()}"
    chosen = embed_report.get("chosen", "base")
    base_emb = profile.embed.base_model
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        name=name,
        profile=profile.name,
        description=f"{profile.description}: {profile.base_model} fine-tuned (LoRA, {exp.summary['llm_gguf']}), "
                    f"embedder {base_emb} ({chosen}), built by `builder build`",
        llm="llm.gguf",
        chat=ChatSpec(template=None, stop=list(profile.stop)),
        context_length=min(profile.context_length, gguf_context_length(staging / "llm.gguf")),
        embedder=EmbedderSpec(path="embedder.gguf", dim=int(embed_report["dim"]), fingerprint=embed_report["fingerprint"],
                              max_tokens=int(embed_report["max_tokens"]), pooling="mean", normalize=True,
                              base_model=base_emb + (" (fine-tuned)" if chosen == "tuned" else "")),
        index="index",
        reranker="reranker.gguf" if reranker.is_file() else None,
        prompts="prompts.toml",
        tools=tools,
        metrics=flat_metrics(run) | {"chat_template_family": profile.chat_template},
    )
    sealed = seal(staging, manifest)
    problems = verify_bundle(staging, full=True)
    if problems:
        raise BastionError(f"the assembled bundle failed verification: {problems[0]}",
                           hint=f"rerun `builder bundle --force --run {run.root}`")
    replace_dir(staging, dest)
    size = sum(c.size for c in sealed.components)
    progress(f"bundle: {dest} ({len(sealed.components)} files, {human_bytes(size)}), verified")
    write_text(st.dir / "bundle.json", json.dumps({"path": str(dest), "files": len(sealed.components), "bytes": size}, indent=2))
    return st.finish(outputs=["bundle.json"], summary={"path": str(dest), "files": len(sealed.components),
                                                        "bytes": size, "embedder": chosen})
