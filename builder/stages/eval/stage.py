"""`builder eval`: before/after figures for the embedder, the index and the chat model.

Retrieval, on the embed stage's held-out split (documents never seen in training):
- base vs tuned sentence-transformers figures (from the embed stage, the gate's evidence);
- the shipped embedder.gguf through the app's own Embedder (do the figures survive export?);
- the built index through the app's Retriever, dense and hybrid, by source document.
Chat, on the data stage's held-out instruction split (val.jsonl), base GGUF vs tuned GGUF:
response loss / perplexity, and for code-analysis items JSON-valid rate, label and CWE accuracy.

Outputs in `<run>/eval/`: report.json, report.md, retrieval.png, chat.png (+ embed_loss.png).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Callable, Sequence

from app.atomic import write_text
from builder.profiles import Profile, profile_config
from builder.retrieval_metrics import evaluate_retrieval, rank_metrics
from builder.rundir import RunDir, StageResult
from builder.stages.eval.summary import AppFigures, AppGate, ChatFigures, EvalSummary
from builder.stages.export.summary import ExportSummary
from builder.triplets import Triplet

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
STAGE = "eval"
RETRIEVAL_KEYS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
CHAT_KEYS = ("schema_valid_rate", "verdict_accuracy", "extra_cwe_accuracy")


def _read_triplets(path: Path) -> list[Triplet]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            out.append(Triplet(r["query"], tuple(r["pos"]), tuple(r.get("neg", ())), r.get("doc", "")))
    return out


def gguf_retrieval(gguf: Path, held: Sequence[Triplet], corpus: Sequence[str], *, max_tokens: int) -> dict:
    """The held-out figures with the shipped GGUF through the app's Embedder."""
    import numpy as np

    from app.bundle.hashing import sha256_file
    from app.llm.embedder import Embedder

    emb = Embedder(gguf, fingerprint=sha256_file(gguf), max_tokens=max_tokens, n_threads=os.cpu_count())
    return evaluate_retrieval(lambda texts: np.asarray(emb.embed(texts)), held, corpus)


def index_retrieval(index_dir: Path, gguf: Path, held: Sequence[Triplet], *, max_tokens: int) -> dict:
    """Document-level figures of the app's Retriever over the built index (dense and hybrid)."""
    from app.bundle.hashing import sha256_file
    from app.knowledge.registry import BUNDLE_COLLECTION
    from app.knowledge.retrieval import Retriever
    from app.knowledge.store import KnowledgeBase
    from app.llm.embedder import Embedder

    fp = sha256_file(gguf)
    emb = Embedder(gguf, fingerprint=fp, max_tokens=max_tokens, n_threads=os.cpu_count())
    kb = KnowledgeBase(index_dir, name=BUNDLE_COLLECTION, fingerprint=fp, create=False)
    out = {}
    try:
        retriever = Retriever([kb], embedder=emb)
        # Only queries whose source document is in the index can be judged by document.
        indexed = {Path(src).name for src in kb.file_states()}
        names = sorted({Path(t.doc).name for t in held} & indexed)
        ids = {n: i for i, n in enumerate(names)}
        for mode in ("dense", "hybrid"):
            rankings, relevant = [], []
            for t in held:
                if Path(t.doc).name not in ids:
                    continue
                docs: list[int] = []
                for h in retriever.search(t.query, k=10, mode=mode, floor=False):
                    d = ids.get(Path(h.source).name, -1 - len(docs))  # an unknown doc never counts as relevant
                    if d not in docs:
                        docs.append(d)
                rankings.append(docs)
                relevant.append({ids[Path(t.doc).name]})
            out[mode] = rank_metrics(rankings, relevant)
    finally:
        kb.close()
    return out


def base_chat_gguf(run: RunDir, profile: Profile, export_dir: Path, qtype: str, progress: Progress) -> tuple[Path | None, str]:
    """The untuned chat model as GGUF: the profile's GGUF source, else the base converted like the tuned one."""
    from builder.sources import resolve_source

    if profile.base_source:
        p = resolve_source(profile.base_source)
        if p.suffix.lower() == ".gguf":
            return p, f"{p.name} (the profile's base GGUF)"
    from builder import llamacpp
    from builder.train.base_model import ensure_base

    base = ensure_base(run, profile, progress=progress)
    if not base.local:
        return None, "base weights are not local; no before figures"
    out = run.root / STAGE / "base"
    f16, q = out / "base-f16.gguf", out / f"base-{qtype}.gguf"
    if not q.exists():
        progress(f"eval: converting the untuned base to {qtype} GGUF for a like-for-like comparison")
        llamacpp.convert_hf_to_gguf(base.path, f16)
        llamacpp.quantize(f16, q, qtype) if qtype != "F16" else f16.rename(q)
        f16.unlink(missing_ok=True)
    return q, f"base converted to {qtype}"


def run_eval(
    run: RunDir,
    profile: Profile,
    *,
    force: bool = False,
    progress: Progress = lambda m: None,
    max_items: int | None = None,
    max_new_tokens: int | None = None,
) -> StageResult:
    from builder import chat_eval

    emb = run.require("embed")
    idx = run.require("index")
    data = run.require("data")
    exp = run.require("export")
    exported = ExportSummary.from_dict(exp.summary)
    llm = exp.path(exported.llm_gguf)
    gguf = emb.path("embedder.gguf")
    max_items = max_items or (8 if profile.tiny else 100)
    max_new_tokens = max_new_tokens or (200 if profile.tiny else 512)
    from builder.eval_questions import file_digest, load_questions

    questions = load_questions(profile.eval.questions) if profile.eval.questions else None
    config = {"max_items": max_items, "max_new_tokens": max_new_tokens, "profile": profile_config(profile, STAGE),
              "eval_questions": file_digest(profile.eval.questions)}
    inputs = [gguf, idx.path("index"), data.path("val.jsonl"), llm, emb.path("embed_report.json")]
    st = run.stage(STAGE)
    if not force and st.is_fresh(config=config, inputs=inputs):
        progress("eval: unchanged models and data, skipped")
        return st.result(skipped=True)
    st.begin(config=config, inputs=inputs, resume=True)
    from builder.stage_report import EmbedReport

    embed_report = EmbedReport.load(emb.dir)
    held = _read_triplets(emb.path("triplets/eval.jsonl"))
    corpus = json.loads(emb.path("triplets/corpus.json").read_text(encoding="utf-8"))
    max_tokens = embed_report.max_tokens

    progress(f"eval: retrieval with the shipped embedder.gguf on {len(held)} held-out queries")
    retrieval = {"base": embed_report.base, "tuned": embed_report.tuned, "chosen": embed_report.chosen,
                 "gate": embed_report.gate,
                 "shipped_gguf": gguf_retrieval(gguf, held, corpus, max_tokens=max_tokens),
                 "index": index_retrieval(idx.path("index"), gguf, held, max_tokens=max_tokens)}

    items = chat_eval.read_items(data.path("val.jsonl"), limit=max_items)
    qtype = ((exported.llm_gguf or "").removeprefix("model-").removesuffix(".gguf") or profile.quantization).upper()
    before_path, before_note = base_chat_gguf(run, profile, exp.dir, qtype, progress)
    chat: dict = {"items": len(items), "before_model": before_note, "after_model": llm.name}
    if items:
        n_ctx = profile.max_seq_length + max_new_tokens  # a training-length prompt plus room for the answer
        if before_path is not None:
            chat["before"] = chat_eval.score_model(before_path, items, n_ctx=n_ctx, stop=profile.stop,
                                                   max_tokens=max_new_tokens, progress=progress, label="before").as_dict()
        after = chat_eval.score_model(llm, items, n_ctx=n_ctx, stop=profile.stop, max_tokens=max_new_tokens,
                                      progress=progress, label="after")
        chat["after"] = after.as_dict()
        chat["samples_after"] = after.samples
    else:
        chat["note"] = "the data stage held out no instruction records (val.jsonl is empty)"

    app_ev = None
    if before_path is not None or llm.is_file():
        from app.prompts import CONTEXT_PRESETS
        from builder import app_eval
        from builder.profiles import prompt_preset

        val_records = [json.loads(x) for x in data.path("val.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
        app_ev = app_eval.run_app_eval(tuned=llm, base=before_path, n_ctx=min(profile.context_length, 2048), stop=profile.stop,
                                       index_dir=idx.path("index"), embedder_gguf=gguf, embed_max_tokens=max_tokens,
                                       val_records=val_records, max_items=max_items, max_tokens=max_new_tokens,
                                       chat=chat, questions=questions, progress=progress,
                                       context_tokens=CONTEXT_PRESETS[prompt_preset(profile)],
                                       review_files=profile.eval.review_files)
        app_ev.save(st.dir)
    report = {"profile": profile.name, "retrieval": retrieval, "chat": chat,
              "app": app_ev.model_dump() if app_ev else None,
              "train": data_summary(run), "embed_train": embed_report.train}
    write_text(st.dir / "report.json", json.dumps(report, indent=2, ensure_ascii=False))
    write_text(st.dir / "report.md", markdown(report))
    from builder import eval_plots

    outputs = ["report.json", "report.md"] + (["app_eval.json"] if app_ev else [])
    outputs.append(eval_plots.retrieval_png(retrieval, st.dir / "retrieval.png").name)
    if "after" in chat:
        outputs.append(eval_plots.chat_png(chat, st.dir / "chat.png").name)
    if embed_report.train.get("losses"):
        outputs.append(eval_plots.loss_png(embed_report.train["losses"], st.dir / "embed_loss.png").name)
    shipped = retrieval["shipped_gguf"]
    summary = EvalSummary(retrieval_recall_at_5=shipped.get("recall@5"), retrieval_mrr_at_10=shipped.get("mrr@10"),
                          retrieval_ndcg_at_10=shipped.get("ndcg@10"), embedder=retrieval["chosen"],
                          chat_before=_chat_figures(chat.get("before")), chat_after=_chat_figures(chat.get("after")))
    if app_ev is not None:
        summary.app_before, summary.app_after = _app_figures(app_ev.base), _app_figures(app_ev.tuned)
        summary.app = AppGate(grounded_questions=(app_ev.tuned.grounded.get("model") or {}).get("answerable"),
                              gate_passed=app_ev.gate_passed, analysis_model_default=app_ev.analysis_model_default)
    progress("eval: " + ", ".join(f"{k} {v}" for k, v in summary.to_dict().items()))
    return st.finish(outputs=outputs, summary=summary.to_dict())


def _chat_figures(scored: dict | None) -> ChatFigures | None:
    if scored is None:
        return None
    return ChatFigures(perplexity=scored["perplexity"], schema_valid_rate=scored["schema_valid_rate"])


def _app_figures(m) -> AppFigures | None:
    """One side (builder.app_eval.ModelEval) of the app-pipeline eval, or None when that side did not run."""
    if m is None:
        return None
    mg, ag = m.grounded.get("model") or {}, m.grounded.get("app") or {}
    return AppFigures(grounded_answer_rate=mg.get("grounded_answer_rate"), citation_precision=mg.get("citation_precision"),
                      refusal_rate=mg.get("refusal_rate"), ask_grounded_answer_rate=ag.get("grounded_answer_rate"),
                      schema_valid_rate=m.analysis.get("schema_valid_rate"),
                      hybrid_f1=(m.analysis.get("hybrid") or {}).get("f1"),
                      review_accepted_rate=m.analysis.get("review_accepted_rate"),
                      verdict_accuracy=m.analysis.get("verdict_accuracy"))


def data_summary(run: RunDir) -> dict:
    out = {}
    for name in ("data", "train", "export"):
        m = run.stage(name).meta() or {}
        out[name] = m.get("summary", {})
    return out


def _row(name: str, m: dict | None, keys: Sequence[str]) -> str:
    if not m:
        return f"| {name} | " + " | ".join("–" for _ in keys) + " |"
    return f"| {name} | " + " | ".join("–" if m.get(k) is None else f"{m[k]:.3f}" for k in keys) + " |"


def markdown(report: dict) -> str:
    r, c = report["retrieval"], report["chat"]
    head = "| | " + " | ".join(RETRIEVAL_KEYS) + " |\n|---|" + "---|" * len(RETRIEVAL_KEYS)
    lines = [f"# Evaluation — profile {report['profile']}", "",
             f"## Retrieval (held-out documents, {r['base'].get('queries', 0)} queries)", "",
             f"**Gate:** {r['gate']['verdict']}", "", head,
             _row("base embedder (sentence-transformers)", r["base"], RETRIEVAL_KEYS),
             _row("tuned embedder (sentence-transformers)", r["tuned"], RETRIEVAL_KEYS),
             _row(f"shipped embedder.gguf ({r['chosen']}, llama.cpp)", r["shipped_gguf"], RETRIEVAL_KEYS),
             _row("bundle index, dense (by document)", r["index"].get("dense"), RETRIEVAL_KEYS),
             _row("bundle index, hybrid (by document)", r["index"].get("hybrid"), RETRIEVAL_KEYS), "",
             "![retrieval](retrieval.png)", "",
             f"## Chat model (held-out instruction split, {c['items']} items)", "",
             f"Before: {c.get('before_model')}; after: {c.get('after_model')}.", ""]
    keys = ("loss", "perplexity", *CHAT_KEYS)
    lines += ["| | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys),
              _row("before tuning", c.get("before"), keys), _row("after tuning", c.get("after"), keys), ""]
    if c.get("after"):
        lines += [f"Code-analysis items: {c['after'].get('analysis_items', 0)} (schema validity is the app's own "
                  "contract, app.analysis.contract, checked without the grammar the app uses, so it shows what the model learned).", "", "![chat](chat.png)", ""]
    if c.get("note"):
        lines += [c["note"], ""]
    if report.get("app"):
        from builder.app_eval import AppEval, markdown as app_markdown

        lines += app_markdown(AppEval.model_validate(report["app"]))
    return "\n".join(lines)
