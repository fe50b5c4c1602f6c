"""`builder embed`: triplets -> fine-tuned embedder -> held-out comparison -> gate -> GGUF -> parity.

Outputs in `<run>/embed/`:
  triplets/train.jsonl, triplets/eval.jsonl   the data actually used (eval = held-out documents)
  model-tuned/                                the tuned sentence-transformers folder (when it won)
  embedder.gguf                               the chosen embedder for the app (llama.cpp)
  embed_report.json                           counts, base vs tuned figures, gate verdict, parity
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from app.atomic import write_text
from app.errors import BastionError
from builder import embed as E
from builder.profiles import EmbedConfig, Profile, profile_config
from builder.retrieval_metrics import evaluate_retrieval, read_questions
from builder.rundir import RunDir, StageResult
from builder.stages.embed.summary import EmbedSummary
from builder.triplets import (
    Triplet,
    TripletSet,
    mine_hard_negatives,
    pairs_from_markdown,
    read_triplets,
    split_by_document,
    write_triplets,
)

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
STAGE = "embed"
MARKDOWN = (".md", ".markdown")
# Knowledge's held-out questions over the starter notes (written separately from the notes).
STARTER_QUESTIONS = Path(__file__).resolve().parents[3] / "tests" / "data" / "retrieval_eval" / "questions.jsonl"


@dataclass
class Selection:
    """The outcome of training and gating: which model ships and the figures behind the choice."""

    model: object
    model_dir: Path
    chosen: str
    base_metrics: dict
    tuned_metrics: dict
    gate: dict
    train: dict


def markdown_files(paths: Sequence[Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.suffix.lower() in MARKDOWN and f.is_file())
        elif p.suffix.lower() in MARKDOWN:
            out.append(p)
    return out


def default_corpus() -> list[Path]:
    """The project's own security notes (the starter knowledge), when the user gives no corpus."""
    notes = Path(__file__).resolve().parents[3] / "app" / "knowledge" / "notes"
    return [notes] if notes.is_dir() else []


def prepare_data(
    *,
    corpus: Sequence[Path],
    triplet_files: Sequence[Path],
    base_embed: Callable,
    eval_fraction: float,
    seed: int,
    progress: Progress,
) -> tuple[list[Triplet], list[Triplet], list[str], list]:
    """(train triplets, held-out triplets, evaluation corpus, the corpus's Markdown passages)."""
    given: list[Triplet] = []
    for f in triplet_files:
        given += read_triplets(Path(f))
    md = markdown_files(corpus)
    mined_from = pairs_from_markdown(md) if md else TripletSet([])
    data = TripletSet(given + mined_from.triplets, mined_from.passages)
    progress(f"triplets: {len(given)} given, {len(mined_from.triplets)} built from {len(md)} Markdown file(s)")
    if len(data.triplets) < 4:
        raise BastionError(
            f"only {len(data.triplets)} retrieval pairs found (from {len(triplet_files)} triplet file(s) and {len(md)} Markdown file(s))",
            hint="pass a triplet .jsonl ({\"query\", \"pos\", \"neg\"}) or a Markdown corpus with headings via --data",
        )
    train, held = split_by_document(data.triplets, eval_fraction=eval_fraction, seed=seed)
    progress(f"held-out split: {len(held)} queries from documents never seen in training; {len(train)} for training")
    mined = mine_hard_negatives(TripletSet(train, data.passages), base_embed)
    n_neg = sum(len(t.negatives) for t in mined.triplets)
    progress(f"mined {n_neg} hard negative(s) with the base embedder")
    return mined.triplets, held, data.corpus(), list(mined_from.passages)


def select_embedder(
    base_dir: Path,
    train: Sequence[Triplet],
    held: Sequence[Triplet],
    corpus: Sequence[str],
    cfg: EmbedConfig,
    *,
    workdir: Path,
    seed: int = 42,
    max_steps: int = -1,
    progress: Progress = lambda m: None,
    base=None,
    questions: Sequence[tuple[str, set[str]]] = (),
    passages: Sequence = (),
) -> Selection:
    """Measure the base, train a copy, measure it on the same held-out split, gate.

    With `questions` (separately written questions over the corpus, judged by document against
    `passages`), the tuned model must also not lose on them: queries mined from headings are a
    proxy, and a model can learn the proxy while getting worse at what users ask.
    """
    base = base if base is not None else E.load_model(base_dir, max_tokens=cfg.max_tokens)
    base_metrics = evaluate_retrieval(E.embed_fn(base), held, corpus)
    progress(f"base embedder on held-out: {_fmt(base_metrics)}")
    tuned = E.load_model(base_dir, max_tokens=cfg.max_tokens)
    result = E.train_embedder(tuned, train, cfg, workdir=workdir, seed=seed, max_steps=max_steps)
    progress(f"trained {result.steps} step(s) with {result.loss_name} (scale {cfg.scale}) in {result.seconds:.1f}s")
    tuned_metrics = evaluate_retrieval(E.embed_fn(tuned), held, corpus)
    progress(f"tuned embedder on held-out: {_fmt(tuned_metrics)}")
    verdict = E.gate(base_metrics, tuned_metrics)
    if questions:
        from builder.retrieval_metrics import evaluate_questions

        qb = evaluate_questions(E.embed_fn(base), questions, passages)
        qt = evaluate_questions(E.embed_fn(tuned), questions, passages)
        progress(f"question set: base {_fmt(qb)}; tuned {_fmt(qt)}")
        base_metrics, tuned_metrics = dict(base_metrics, questions=qb), dict(tuned_metrics, questions=qt)
        second = E.gate(qb, qt, min_gain=-0.005)  # on the question set "not worse" is enough
        if verdict["chosen"] == "tuned" and second["chosen"] == "base":
            verdict = dict(verdict, chosen="base", verdict=(
                f"TUNED EMBEDDER WORSE ON THE QUESTION SET (mrr@10 {qt['mrr@10']:.4f} vs base {qb['mrr@10']:.4f}) "
                f"though better on held-out headings ({verdict['tuned']:.4f} vs {verdict['base']:.4f}): KEEPING THE BASE MODEL"))
        verdict["questions"] = {"base": qb.get("mrr@10"), "tuned": qt.get("mrr@10")}
    log.log(logging.INFO if verdict["chosen"] == "tuned" else logging.WARNING, "%s", verdict["verdict"])
    progress(("✔ " if verdict["chosen"] == "tuned" else "⚠ ") + verdict["verdict"])
    train_info = {"steps": result.steps, "seconds": round(result.seconds, 2), "loss": result.loss_name,
                  "losses": [round(x, 4) for x in result.losses], "triplets": len(train)}
    if verdict["chosen"] == "tuned":
        out = workdir / "model-tuned"
        tuned.save(str(out))
        return Selection(tuned, out, "tuned", base_metrics, tuned_metrics, verdict, train_info)
    return Selection(base, base_dir, "base", base_metrics, tuned_metrics, verdict, train_info)


def _fmt(m: dict) -> str:
    return " ".join(f"{k} {m[k]:.3f}" for k in ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10") if k in m) + f" ({m.get('queries', 0)} queries)"


def run_embed(
    run: RunDir,
    profile: Profile,
    *,
    corpus: Sequence[Path] = (),
    triplets: Sequence[Path] = (),
    force: bool = False,
    progress: Progress = lambda m: None,
    eval_fraction: float = 0.25,
    max_steps: int = -1,
    llama_cpp_dir: Path | None = None,
    questions: Path | None = None,
    **overrides,
) -> StageResult:
    """The whole embed stage; skipped when its config and inputs are unchanged.

    `questions`: a separately written question set (`{"question", "relevant": [file names]}`
    JSONL) that the tuned model must not lose on; by default the starter knowledge's own set
    when the starter notes are part of the corpus and the set is in the source tree.
    """
    cfg = profile.embed.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    corpus = list(corpus) or ([] if triplets else default_corpus())
    if questions is None and any(Path(c).resolve() in [d.resolve() for d in default_corpus()] for c in corpus):
        questions = STARTER_QUESTIONS if STARTER_QUESTIONS.is_file() else None
    seed = profile.train.seed
    config = {"embed": cfg.model_dump(), "profile": profile_config(profile, "embed"), "eval_fraction": eval_fraction, "max_steps": max_steps, "seed": seed,
              "questions": str(questions) if questions else None}
    inputs = [*map(Path, corpus), *map(Path, triplets), *([Path(questions)] if questions else [])]
    st = run.stage(STAGE)
    if not force and st.is_fresh(config=config, inputs=inputs):
        progress("embed: unchanged since the last run, skipped")
        return st.result(skipped=True)
    st.begin(config=config, inputs=inputs)
    base_dir = E.base_model_dir(cfg.base_model, st.dir)
    base = E.load_model(base_dir, max_tokens=cfg.max_tokens)
    train, held, pool, passages = prepare_data(corpus=corpus, triplet_files=triplets, base_embed=E.embed_fn(base),
                                     eval_fraction=eval_fraction, seed=seed, progress=progress)
    write_triplets(st.dir / "triplets" / "train.jsonl", train)
    write_triplets(st.dir / "triplets" / "eval.jsonl", held)
    write_text(st.dir / "triplets" / "corpus.json", json.dumps(pool, ensure_ascii=False))
    sel = select_embedder(base_dir, train, held, pool, cfg, workdir=st.dir, seed=seed, max_steps=max_steps,
                          progress=progress, base=base, passages=passages,
                          questions=read_questions(questions) if questions else ())
    progress(f"exporting the {sel.chosen} embedder to GGUF")
    gguf = E.export_gguf(sel.model_dir, st.dir / "embedder.gguf", llama_cpp_dir=llama_cpp_dir)
    parity = E.check_parity(sel.model, gguf, max_tokens=cfg.max_tokens)
    progress(f"parity sentence-transformers vs GGUF: min cosine {parity['min_cosine']:.5f} over {parity['probes']} probes")
    from app.bundle.hashing import sha256_file

    rerank = _maybe_reranker(cfg, sel, held, pool, st.dir, llama_cpp_dir=llama_cpp_dir, progress=progress)
    from builder.stage_report import EmbedReport

    report = EmbedReport(base_model=cfg.base_model, chosen=sel.chosen, gate=sel.gate, base=sel.base_metrics,
                         tuned=sel.tuned_metrics, train=sel.train,
                         held_out={"queries": len(held), "documents": len({t.doc for t in held}), "corpus": len(pool)},
                         parity=parity, dim=E.dimension(sel.model), max_tokens=cfg.max_tokens,
                         fingerprint=sha256_file(gguf), reranker=rerank)
    report.save(st.dir)
    outputs = ["embedder.gguf", "embed_report.json", "triplets/train.jsonl", "triplets/eval.jsonl", "triplets/corpus.json"]
    if sel.chosen == "tuned":
        outputs.append("model-tuned")
    if (st.dir / "reranker.gguf").is_file():
        outputs.append("reranker.gguf")
    asked = sel.gate.get("questions") or {}
    summary = EmbedSummary(chosen=sel.chosen, verdict=sel.gate["verdict"], base_mrr_at_10=sel.base_metrics.get("mrr@10"),
                           tuned_mrr_at_10=sel.tuned_metrics.get("mrr@10"), parity_min_cosine=parity["min_cosine"],
                           dim=report.dim, fingerprint=report.fingerprint,
                           questions_base_mrr_at_10=asked.get("base"), questions_tuned_mrr_at_10=asked.get("tuned"))
    return st.finish(outputs=outputs, summary=summary.to_dict())


def _maybe_reranker(cfg: EmbedConfig, sel: Selection, held, pool, workdir: Path, *, llama_cpp_dir, progress: Progress) -> dict | None:
    """When the profile names a cross-encoder: compare dense vs dense+rerank; export it only if it wins."""
    if not cfg.reranker:
        return None
    from builder.rerank import cross_encoder_scorer, rerank_comparison

    progress(f"reranker: evaluating {cfg.reranker} on the held-out split")
    score, folder = cross_encoder_scorer(cfg.reranker)
    result = rerank_comparison(E.embed_fn(sel.model), score, held, pool)
    progress(("✔ " if result["chosen"] == "reranker" else "⚠ ") + result["verdict"])
    if result["chosen"] == "reranker":
        if folder is None:
            raise BastionError(f"reranker {cfg.reranker!r} won but is not a local folder, so it cannot be converted",
                               hint="download it once and set [embed] reranker to its folder")
        E.export_gguf(folder, workdir / "reranker.gguf", llama_cpp_dir=llama_cpp_dir)
    return result
