"""The chat model measured through the app's own pipelines, base vs tuned, on held-out data.

- grounded answering (`app.knowledge.grounded_chat.answer` over the run's index, the app's retriever
  and prompt): share of answerable held-out questions whose answer cites the answering document
  (grounded-answer rate), citation precision, and refusal of off-corpus questions;
- code review (`app.analysis.analyze_files`, static-only vs hybrid with this model): precision,
  recall and F1 by file (a file is flagged when its overall label is not safe); the share of
  unconstrained answers to the app's review prompt that the app's contract accepts comes from
  the chat eval (`builder.chat_eval`, same held-out records).

`decide()` turns the figures into the gate verdict and the bundle's `analysis_model_default`.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from pathlib import Path
from typing import Callable, ClassVar, Sequence

from pydantic import BaseModel, Field

from builder.stage_report import StageReport

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
OFF_CORPUS = (
    "What is a good recipe for sourdough bread?",
    "Who won the football world cup in 1998?",
    "How many moons does Jupiter have?",
    "What is the capital of Australia?",
)
TOLERANCE = 0.05
"""How much worse than its base a tuned model may be on a gated figure and still ship (or 1/sqrt(items), if larger)."""
MIN_GATE_ITEMS = 3
"""A figure measured on fewer items does not gate (it is reported)."""


class PRF(BaseModel):
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def figures(self) -> dict:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                "tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn}


def _rate(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


class GroundedScores(BaseModel):
    mode: str
    """'model' (the raw answer, ground=False) or 'app' (what `bastion ask` shows)."""
    answerable: int = 0
    cited: int = 0
    grounded: int = 0
    citations: int = 0
    supported_citations: int = 0
    off_corpus: int = 0
    refused: int = 0
    seconds: float = 0.0
    answers: list[dict] = Field(default_factory=list)
    """Per question: id, whether grounded/refused, the cited documents and the answer's start (for reading, not gating)."""

    def figures(self) -> dict:
        r = _rate
        return {"grounded_answer_rate": r(self.grounded, self.answerable), "cited_rate": r(self.cited, self.answerable),
                "citation_precision": r(self.supported_citations, self.citations),
                "refusal_rate": r(self.refused, self.off_corpus), "answerable": self.answerable,
                "off_corpus": self.off_corpus, "seconds": round(self.seconds, 1), "answers": self.answers}


class AnalysisScores(BaseModel):
    files: int = 0
    hybrid: PRF = Field(default_factory=PRF)
    seconds: float = 0.0
    reviews: int = 0
    """Files whose static findings the model was asked to review (`bastion analyze`'s grammar-constrained path)."""
    reviews_accepted: int = 0
    """Of those, answers the model layer took (the JSON closed within its token budget; nothing else rejects one)."""
    verdicts: int = 0
    """Static findings the model was asked about."""
    verdicts_right: int = 0
    """Verdicts that match the file's label: confirm on a vulnerable file, dispute on a safe one."""

    def figures(self) -> dict:
        r = _rate
        return {"files": self.files, "hybrid": self.hybrid.figures(), "seconds": round(self.seconds, 1),
                "review_accepted_rate": r(self.reviews_accepted, self.reviews), "reviews": self.reviews,
                "verdict_accuracy": r(self.verdicts_right, self.verdicts), "verdicts": self.verdicts}


class ModelEval(BaseModel):
    """One chat model's figures through the app's pipelines."""

    model: str
    grounded: dict[str, dict] = Field(default_factory=dict)
    analysis: dict = Field(default_factory=dict)
    heldout_loss: float | None = None
    """Mean loss (nats/token) on the held-out app-format answers (builder.chat_eval): a broken model that
    cites nothing and writes no JSON can tie a weak base on every rate, never on this."""
    heldout_tokens: int | None = None


class AppEval(StageReport):
    """Base vs tuned through the app, the gate verdict and what the bundle should default to."""

    FILE: ClassVar[str] = "app_eval.json"

    static: dict = Field(default_factory=dict)
    """Static-only analysis figures on the same files (no model)."""
    grounded_set: str = ""
    """Where the grounded questions came from (a question file's test half, or the data stage's held-out records)."""
    base: ModelEval | None = None
    tuned: ModelEval
    gate_passed: bool = True
    gate_reasons: list[str] = Field(default_factory=list)
    analysis_model_default: bool | None = None
    """Whether `bastion analyze` should run the model layer by default with this bundle (None: not measured);
    decided by the app's own `app.analysis.policy.decide` on `analysis_evidence()`."""
    analysis_model_default_why: str = ""

    def analysis_evidence(self) -> dict | None:
        """Static vs hybrid (tuned model) on the held-out files, as `app.analysis.contract.AnalysisEval`:
        what the bundle's manifest records under `metrics["analysis"]`. None when nothing was measured."""
        from app.analysis.contract import AnalysisEval

        files = self.tuned.analysis.get("files") or 0
        if not files or not self.static:
            return None
        pick = ("precision", "recall", "f1")
        return AnalysisEval(static={k: self.static[k] for k in pick},
                            hybrid={k: self.tuned.analysis["hybrid"][k] for k in pick},
                            cases=files, split="validation",
                            dataset="builder data stage held-out code-analysis records").model_dump()


def same_doc(a: str, b: str) -> bool:
    """Whether two paths name the same document. Roots differ (the data stage records paths as given,
    the index stores `<folder>/<relative path>`, or `docs/<name>` for a single file), so the names must
    agree and, for files inside folders, the folder they sit in too (many guides have a README.md)."""
    pa, pb = Path(str(a)).parts, Path(str(b)).parts
    if not pa or not pb or pa[-1] != pb[-1]:
        return False
    if len(pa) < 2 or len(pb) < 2 or "docs" in (pa[-2], pb[-2]):
        return True
    return pa[-2] == pb[-2]


def _score_answer(sc: GroundedScores, qid: str, want: list[str], cited: list, text: str) -> None:
    row = {"id": qid, "cited": sorted({Path(str(h.source)).name for h in cited}), "text": (text or "")[:160]}
    if not want:
        sc.off_corpus += 1
        sc.refused += not cited
        row["refused"] = not cited
    else:
        sc.answerable += 1
        sc.cited += bool(cited)
        good = [h for h in cited if any(same_doc(h.source, w) for w in want)]
        sc.grounded += bool(good)
        sc.citations += len(cited)
        sc.supported_citations += len(good)
        row["grounded"] = bool(good)
    sc.answers.append(row)


def grounded_scores(engine, retriever, items: Sequence[dict], *, max_tokens: int, context_tokens: int = 0,
                    progress: Progress = lambda m: None) -> dict[str, GroundedScores]:
    """Ask each held-out question once through `app.knowledge.grounded_chat.answer` (what `bastion ask` runs) and score
    citations against the truth, two ways: mode `app`, the sources the shown (grounded) answer cites; mode
    `model`, the sources the model's own text cites (`raw_text`, exactly what `ground=False` would show: the
    decoding is greedy, so one generation serves both).

    An item is {"question", "source" (one document) or "sources" (any of them answers), "id"?}; an item with
    no source is off-corpus (should be declined), like the built-in OFF_CORPUS questions asked after them.
    `context_tokens` is the bundle's source budget (prompts.toml [retrieval]), as `bastion ask` applies it."""
    from app.knowledge.grounded_chat import answer
    from app.knowledge.prompt_format import cited_numbers
    from app.prompts import CHAT_SYSTEM

    out = {m: GroundedScores(mode=m) for m in ("model", "app")}
    t0 = time.perf_counter()
    questions = [(it.get("id", f"q{i}"), it["question"], list(it.get("sources") or ([it["source"]] if it.get("source") else [])))
                 for i, it in enumerate(items)] + [(f"off{i}", q, []) for i, q in enumerate(OFF_CORPUS)]
    for i, (qid, q, want) in enumerate(questions, 1):
        ans = answer(q, engine=engine, retriever=retriever, system=CHAT_SYSTEM, max_tokens=max_tokens, ground=True,
                     context_tokens=context_tokens)
        text = ans.result()
        raw = getattr(ans, "raw_text", "") or ""
        hits = list(getattr(ans, "hits", []) or [])
        own = [hits[n - 1] for n in dict.fromkeys(cited_numbers(raw)) if 1 <= n <= len(hits)]
        _score_answer(out["model"], qid, want, own, raw)
        _score_answer(out["app"], qid, want, list(ans.sources), text)
        progress(f"eval: ask {i}/{len(questions)}")
    for sc in out.values():
        sc.seconds = time.perf_counter() - t0
    return out


def _score_reviews(sc: AnalysisScores, truth: dict, report) -> None:
    """The model's review of this file's static findings, as `bastion analyze` took it."""
    from app.analysis.model_layer import CUT_OFF_NOTE, MAX_REVIEWED

    asked = [f for f in report.findings if f.source in ("static", "both")][:MAX_REVIEWED]
    if not asked:
        return
    sc.reviews += 1
    sc.reviews_accepted += not any(n == CUT_OFF_NOTE or n.startswith("model unavailable") for n in report.notes)
    want = "confirm" if _truth_positive(truth) else "dispute"
    sc.verdicts += len(asked)
    sc.verdicts_right += sum(1 for f in asked if f.model_verdict == want)


def _truth_positive(truth: dict) -> bool:
    return truth.get("label") not in (None, "safe")


def _score(prf: PRF, truth: dict, report) -> None:
    flagged = report.label not in (None, "safe")
    if _truth_positive(truth):
        prf.tp += flagged
        prf.fn += not flagged
    else:
        prf.fp += flagged
        prf.tn += not flagged


def analysis_files(items: Sequence[dict], folder: Path) -> list[tuple[Path, dict]]:
    """Write each held-out record's code to a file named for its language (what `bastion analyze` reads)."""
    from app.analysis.languages import LANGUAGES

    out = []
    for i, it in enumerate(items):
        p = folder / f"case{i:04d}{LANGUAGES[it['language']].suffix}"
        p.write_text(it["code"], encoding="utf-8")
        out.append((p, it))
    return out


def static_scores(files: list[tuple[Path, dict]]) -> PRF:
    from app.analysis.analyzer import analyze_files

    reports = {r.filename: r for r in analyze_files([p for p, _ in files], engine=None, use_model=False)}
    prf = PRF()
    for p, it in files:
        _score(prf, it, reports[str(p)])
    return prf


def analysis_scores(engine, files: list[tuple[Path, dict]], *, progress: Progress = lambda m: None) -> AnalysisScores:
    """Hybrid analysis with this model through `analyze_files` (the grammar-constrained path users get)."""
    from app.analysis.analyzer import analyze_files

    sc = AnalysisScores(files=len(files))
    t0 = time.perf_counter()
    if files:
        progress(f"eval: analyze (hybrid) {len(files)} held-out file(s) with {engine.name}")
        reports = {r.filename: r for r in analyze_files([p for p, _ in files], engine=engine, use_model=True)}
        for p, it in files:
            _score(sc.hybrid, it, reports[str(p)])
            _score_reviews(sc, it, reports[str(p)])
    sc.seconds = time.perf_counter() - t0
    return sc


LOSS_TOLERANCE = 0.1
"""Nats/token a tuned model's held-out loss may exceed its base's (quantisation alone moves it ~0.02)."""
MIN_LOSS_TOKENS = 32


def worse(base: float | None, tuned: float | None, n: int | None) -> bool:
    """Whether `tuned` is below `base` by more than sampling noise on `n` items (at least TOLERANCE)."""
    if base is None or tuned is None or not n or n < MIN_GATE_ITEMS:
        return False
    return base - tuned > max(TOLERANCE, 1 / math.sqrt(n))


def decide(ev: AppEval) -> AppEval:
    """The gate (tuned no worse than base beyond noise on the gated figures) and the analysis default."""
    reasons = []
    if ev.base is not None:
        bg, tg = ev.base.grounded.get("model") or {}, ev.tuned.grounded.get("model") or {}
        ba, ta = ev.base.analysis, ev.tuned.analysis
        checks = [("grounded-answer rate", bg.get("grounded_answer_rate"), tg.get("grounded_answer_rate"), tg.get("answerable")),
                  ("off-corpus refusal rate", bg.get("refusal_rate"), tg.get("refusal_rate"), tg.get("off_corpus")),
                  ("review answers the app's contract accepts", ba.get("schema_valid_rate"), ta.get("schema_valid_rate"),
                   ta.get("schema_checked")),
                  ("hybrid analysis F1", (ba.get("hybrid") or {}).get("f1"), (ta.get("hybrid") or {}).get("f1"), ta.get("files")),
                  ("review answers `bastion analyze` takes", ba.get("review_accepted_rate"), ta.get("review_accepted_rate"),
                   ta.get("reviews")),
                  ("review verdicts right", ba.get("verdict_accuracy"), ta.get("verdict_accuracy"), ta.get("verdicts"))]
        reasons = [f"{what}: tuned {t:.2f} < base {b:.2f} on {n} items" for what, b, t, n in checks if worse(b, t, n)]
        bl, tl, tok = ev.base.heldout_loss, ev.tuned.heldout_loss, ev.tuned.heldout_tokens or 0
        if bl is not None and tl is not None and tok >= MIN_LOSS_TOKENS and (math.isnan(tl) or tl - bl > LOSS_TOLERANCE):
            reasons.append(f"loss on held-out app-format answers: tuned {tl:.2f} > base {bl:.2f} nats/token on {tok} tokens")
    ev.gate_reasons, ev.gate_passed = reasons, not reasons
    evidence = ev.analysis_evidence()
    if evidence is None:
        ev.analysis_model_default, ev.analysis_model_default_why = None, "no held-out code-analysis files to measure on"
    else:  # the app's own rule (app.analysis.policy), on the figures the manifest will carry
        from app.analysis.policy import decide as app_policy

        pol = app_policy({"analysis": evidence}, bundle_name="this bundle")
        ev.analysis_model_default, ev.analysis_model_default_why = pol.use_model, pol.reason
    return ev


def evaluate_model(gguf: Path, *, label: str, n_ctx: int, stop: Sequence[str], index_dir: Path, embedder_gguf: Path,
                   embed_max_tokens: int, grounded_items: Sequence[dict], files: list[tuple[Path, dict]],
                   max_tokens: int, progress: Progress, context_tokens: int = 0) -> ModelEval:
    """One GGUF chat model through `bastion ask`'s and `bastion analyze`'s library calls."""
    import os

    from app.bundle.hashing import sha256_file
    from app.knowledge.registry import BUNDLE_COLLECTION
    from app.knowledge.retrieval import Retriever
    from app.knowledge.store import KnowledgeBase
    from app.llm.embedder import Embedder
    from app.llm.engine import EngineConfig, LlamaEngine
    out = ModelEval(model=label)
    engine = LlamaEngine(gguf, EngineConfig(n_ctx=n_ctx, temperature=0.0, max_tokens=max_tokens, stop=list(stop),
                                            n_threads=os.cpu_count()))
    fp = sha256_file(embedder_gguf)
    emb = Embedder(embedder_gguf, fingerprint=fp, max_tokens=embed_max_tokens, n_threads=os.cpu_count())
    kb = KnowledgeBase(index_dir, name=BUNDLE_COLLECTION, fingerprint=fp, create=False)
    try:
        retriever = Retriever([kb], embedder=emb)
        scores = grounded_scores(engine, retriever, grounded_items, max_tokens=max_tokens, context_tokens=context_tokens,
                                 progress=lambda m: progress(f"{m} ({label})"))
        out.grounded = {mode: sc.figures() for mode, sc in scores.items()}
    finally:
        kb.close()
    out.analysis = analysis_scores(engine, files, progress=progress).figures()
    engine.close()
    return out


def indexed_sources(index_dir: Path, embedder_gguf: Path) -> list[str]:
    """The documents the run's index holds (as the index names them)."""
    from app.bundle.hashing import sha256_file
    from app.knowledge.registry import BUNDLE_COLLECTION
    from app.knowledge.store import KnowledgeBase

    kb = KnowledgeBase(index_dir, name=BUNDLE_COLLECTION, fingerprint=sha256_file(embedder_gguf), create=False)
    try:
        return list(kb.file_states())
    finally:
        kb.close()


def question_items(questions: Sequence, indexed: Sequence[str]) -> tuple[list[dict], str]:
    """A question file's test half as grounded items: answerable ones whose answering file is indexed, then the
    off-corpus ones (`files: []`); with a line saying what was asked."""
    from builder.eval_questions import answerable, test_half

    test = test_half(questions)
    ok = answerable(questions, indexed)
    off = [q for q in test if q.off_corpus]
    items = [{"id": q.id, "question": q.question, "sources": list(q.files)} for q in ok]
    items += [{"id": q.id, "question": q.question, "sources": []} for q in off]
    return items, (f"question file test half (sha1(id) odd): {len(ok)} of {len(test) - len(off)} answerable questions "
                   f"have their answering file in the index; +{len(off)} off-corpus from the file, +{len(OFF_CORPUS)} built in")


def run_app_eval(*, tuned: Path, base: Path | None, n_ctx: int, stop: Sequence[str], index_dir: Path,
                 embedder_gguf: Path, embed_max_tokens: int, val_records: Sequence[dict], max_items: int,
                 max_tokens: int, chat: dict | None = None, questions: Sequence | None = None,
                 context_tokens: int = 0, review_files: int | None = None,
                 progress: Progress = lambda m: None) -> AppEval:
    """Base and tuned through the app's pipelines on the data stage's held-out app-task records.

    `questions` (builder.eval_questions.EvalQuestion, from the profile's `eval.questions`): ask their test half
    instead of the data stage's held-out grounded records (all of them: the set is chosen, not sampled).
    `chat` is the chat eval's figures ({"before": ..., "after": ...}): its unconstrained answers to the
    app's review prompt, checked by the app's contract, are the schema-valid rate (not generated twice)."""
    if questions is not None:
        grounded_items, grounded_set = question_items(questions, indexed_sources(index_dir, embedder_gguf))
    else:
        grounded_items = [r["truth"] for r in val_records if r.get("task") == "grounded_answer"
                          and r.get("truth", {}).get("in_corpus") and not r["truth"].get("refusal")][:max_items]
        grounded_set = f"data stage held-out grounded records ({len(grounded_items)})"
    review_items = [r for r in val_records if r.get("task") == "code_analysis" and r.get("truth")
                    ][: review_files or max_items]
    with tempfile.TemporaryDirectory(prefix="bastion-eval-") as tmp:
        files = analysis_files([r["truth"] for r in review_items], Path(tmp))
        progress(f"eval: static analysis of {len(files)} held-out file(s)")
        static = static_scores(files).figures() if files else {}
        common = dict(n_ctx=n_ctx, stop=stop, index_dir=index_dir, embedder_gguf=embedder_gguf,
                      embed_max_tokens=embed_max_tokens, grounded_items=grounded_items, files=files,
                      max_tokens=max_tokens, progress=progress, context_tokens=context_tokens)
        base_ev = evaluate_model(base, label="base", **common) if base is not None else None
        tuned_ev = evaluate_model(tuned, label="tuned", **common)
    for side, m in (("before", base_ev), ("after", tuned_ev)):
        fig = (chat or {}).get(side) or {}
        if m is not None and fig.get("analysis_items"):
            m.analysis["schema_valid_rate"] = fig.get("schema_valid_rate")
            m.analysis["schema_checked"] = fig["analysis_items"]
        if m is not None and fig.get("response_tokens"):
            m.heldout_loss, m.heldout_tokens = fig.get("loss"), fig["response_tokens"]
    if context_tokens:
        grounded_set += f"; sources cut to {context_tokens} tokens (the bundle's [retrieval] context_tokens)"
    return decide(AppEval(static=static, base=base_ev, tuned=tuned_ev, grounded_set=grounded_set))


def markdown(ev: AppEval) -> list[str]:
    """The report.md section."""
    lines = ["## Through the app's pipelines (held-out app-task data, same run)", ""]
    if ev.grounded_set:
        lines += [f"Grounded questions: {ev.grounded_set}.", ""]
    keys = ("grounded_answer_rate", "cited_rate", "citation_precision", "refusal_rate")
    lines += ["| model | mode | " + " | ".join(keys) + " |", "|---|---|" + "---|" * len(keys)]
    for m in (ev.base, ev.tuned):
        if m is None:
            continue
        for mode, fig in m.grounded.items():
            lines.append(f"| {m.model} | {mode} | " + " | ".join("–" if fig.get(k) is None else f"{fig[k]:.3f}" for k in keys) + " |")
    lines += ["", "Mode `model`: the model's own answer (no post-hoc grounding); `app`: what `bastion ask` shows.", ""]
    lines += ["| analysis | files | precision | recall | F1 | schema-valid (unconstrained) | review taken (`analyze`) | verdicts right |",
              "|---|---|---|---|---|---|---|---|"]
    if ev.static:
        s = ev.static
        lines.append(f"| static only | {s['tp'] + s['fp'] + s['fn'] + s['tn']} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | – | – | – |")
    for m in (ev.base, ev.tuned):
        if m is None or not m.analysis:
            continue
        a = m.analysis
        h, sv = a.get("hybrid", {}), a.get("schema_valid_rate")
        taken = f"{a['review_accepted_rate']:.3f} ({a['reviews']})" if a.get("review_accepted_rate") is not None else "–"
        right = f"{a['verdict_accuracy']:.3f} ({a['verdicts']})" if a.get("verdict_accuracy") is not None else "–"
        lines.append(f"| hybrid, {m.model} | {a.get('files')} | {h.get('precision', 0):.3f} | "
                     f"{h.get('recall', 0):.3f} | {h.get('f1', 0):.3f} | {'–' if sv is None else f'{sv:.3f}'} | {taken} | {right} |")
    lines += ["", f"**Gate:** {'passed' if ev.gate_passed else 'FAILED — ' + '; '.join(ev.gate_reasons)}", "",
              f"**Model layer on by default for analysis:** {ev.analysis_model_default} ({ev.analysis_model_default_why})", ""]
    return lines
