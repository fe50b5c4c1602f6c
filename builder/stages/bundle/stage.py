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
from builder.profiles import Profile, profile_config, prompt_preset
from builder.rundir import RunDir, StageResult, human_bytes
from builder.stages.bundle.summary import BundleSummary
from builder.stages.export.summary import ExportSummary

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
STAGE = "bundle"
EVAL_FILES = ("report.json", "report.md", "app_eval.json", "retrieval.png", "chat.png", "embed_loss.png")


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


def _app_eval(eval_dir: Path):
    """The eval stage's typed app-pipeline report, or None when that eval did not run."""
    from builder.app_eval import AppEval

    return AppEval.load(eval_dir) if (eval_dir / AppEval.FILE).is_file() else None


def _app_metrics(app_ev) -> dict:
    """What the app reads: `analysis` (app.analysis.contract.AnalysisEval, for app.analysis.policy) and the gate."""
    if app_ev is None:
        return {}
    out = {"eval.gate_passed": app_ev.gate_passed, "eval.gate_reasons": "; ".join(app_ev.gate_reasons),
           "eval.analysis_model_default": app_ev.analysis_model_default,
           "eval.analysis_model_default_why": app_ev.analysis_model_default_why}
    evidence = app_ev.analysis_evidence()
    if evidence is not None:
        out["analysis"] = evidence
    return out


def check_gate(app_ev, *, force: bool, progress: Progress, report: Path | None = None) -> None:
    """Refuse to ship a tuned model the eval found worse than its base, unless forced (then say so)."""
    if app_ev.gate_passed:
        return
    why = "; ".join(app_ev.gate_reasons)
    if not force:
        raise BastionError(f"the tuned model is worse than its base through the app's pipelines: {why}",
                           hint=f"see {report or 'the eval report'}; fix the data or training, or ship it anyway with --force")
    progress(f"bundle: ⚠ shipping a tuned model that failed the gate (--force): {why}")


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
    exported = ExportSummary.from_dict(exp.summary)
    llm = exp.path(exported.llm_gguf)
    gguf = emb.path("embedder.gguf")
    st = run.stage(STAGE)
    name = name or profile.name
    dest = Path(out).expanduser().resolve() if out else st.dir / name
    eval_files = [ev.dir / f for f in EVAL_FILES if ev.complete and (ev.dir / f).is_file()]
    config = {"name": name, "out": str(dest), "profile": profile_config(profile, STAGE)}
    inputs = [llm, gguf, idx.path("index"), *eval_files]
    if not force and st.is_fresh(config=config, inputs=inputs) and _sound(dest):
        progress(f"bundle: unchanged, skipped ({dest})")
        return st.result(skipped=True)
    if not ev.complete:
        progress("bundle: ⚠ the eval stage has not run; the bundle carries no evaluation report")
    app_ev = _app_eval(ev.dir) if ev.complete else None
    if app_ev is not None:
        check_gate(app_ev, force=force, progress=progress, report=ev.dir / "report.md")
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
    write_text(staging / "prompts.toml", default_prompts_toml(prompt_preset(profile)))
    for f in eval_files:
        _place(f, staging / "eval" / f.name)

    from builder.stage_report import EmbedReport

    embed_report = EmbedReport.load(emb.dir)
    tools = tool_versions()
    tools["llama.cpp converter"] = f"from llama-cpp-python {llamacpp.llama_cpp_python_version()}"
    chosen = embed_report.chosen
    base_emb = profile.embed.base_model
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        name=name,
        profile=profile.name,
        description=f"{profile.description}: {profile.base_model} fine-tuned (LoRA, {exported.llm_gguf}), "
                    f"embedder {base_emb} ({chosen}), built by `builder build`",
        llm="llm.gguf",
        chat=ChatSpec(template=None, stop=list(profile.stop)),
        context_length=min(profile.context_length, gguf_context_length(staging / "llm.gguf")),
        embedder=EmbedderSpec(path="embedder.gguf", dim=embed_report.dim, fingerprint=embed_report.fingerprint,
                              max_tokens=embed_report.max_tokens, pooling="mean", normalize=True,
                              base_model=base_emb + (" (fine-tuned)" if chosen == "tuned" else "")),
        index="index",
        reranker="reranker.gguf" if reranker.is_file() else None,
        prompts="prompts.toml",
        tools=tools,
        metrics=flat_metrics(run) | {"chat_template_family": profile.chat_template} | _app_metrics(app_ev),
    )
    sealed = seal(staging, manifest)  # also signs manifest.json: BASTION_SIGNING_KEY, else this machine's key
    signer = json.loads((staging / "manifest.sig").read_text(encoding="utf-8"))["signatures"][0]["keyid"]
    progress(f"bundle: manifest signed with {signer}; laptops must trust this key (`bastion bundle trust`)")
    problems = verify_bundle(staging, full=True)
    if problems:
        raise BastionError(f"the assembled bundle failed verification: {problems[0]}",
                           hint=f"rerun `builder bundle --force --run {run.root}`")
    replace_dir(staging, dest)
    size = sum(c.size for c in sealed.components)
    progress(f"bundle: {dest} ({len(sealed.components)} files, {human_bytes(size)}), verified")
    write_text(st.dir / "bundle.json", json.dumps({"path": str(dest), "files": len(sealed.components), "bytes": size}, indent=2))
    summary = BundleSummary(path=str(dest), files=len(sealed.components), bytes=size, embedder=chosen)
    return st.finish(outputs=["bundle.json"], summary=summary.to_dict())
