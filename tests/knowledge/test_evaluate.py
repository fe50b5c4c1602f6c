"""The retrieval evaluation: the scoring is right, and the starter index meets a floor."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.knowledge.evaluate import Question, evaluate, load_questions, score_question

QUESTIONS = Path(__file__).resolve().parent.parent / "data" / "retrieval_eval" / "questions.jsonl"


def test_score_question():
    q = Question("q1", "?", ("a.md", "b.md"), ("resolve", "base"))
    s = score_question(["x.md", "a.md", "a.md", "b.md"], ["Resolve the path", "then check the BASE"], q, k=5)
    assert s["recall@1"] == 0 and s["recall@3"] == 0.5 and s["recall@5"] == 1.0
    assert s["mrr@10"] == 0.5 and s["context_hit@5"] == 1.0 and s["floor_empty"] == 0.0
    miss = score_question([], [], q, k=5)
    assert miss["mrr@10"] == 0 and miss["context_hit@5"] == 0 and miss["floor_empty"] == 1.0


@pytest.mark.slow
def test_starter_index_retrieval_quality(starter_bundle):
    from app.bundle import load_bundle
    from app.knowledge import Retriever, open_bundle_index
    from app.llm.embedder import Embedder

    b = load_bundle(starter_bundle)
    spec = b.manifest.embedder
    emb = Embedder(starter_bundle / spec.path, fingerprint=spec.fingerprint, max_tokens=spec.max_tokens)
    qs = load_questions(QUESTIONS)
    qs = qs[::4]  # a quarter of the set keeps this test quick; bench/eval_retrieval.py runs all
    r = Retriever([open_bundle_index(b, fingerprint=spec.fingerprint)], embedder=emb)
    rep = evaluate(r, qs, modes=("dense", "hybrid"))
    r.close()
    assert rep["hybrid"]["queries"] == len(qs) >= 20
    assert rep["hybrid"]["recall@5"] >= 0.8 and rep["hybrid"]["mrr@10"] >= 0.75
    assert rep["hybrid"]["mrr@10"] >= rep["dense"]["mrr@10"] - 0.02
    assert rep["hybrid"]["context_hit@5"] >= 0.6
