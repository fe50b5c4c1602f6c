"""The held-out question file for the grounded eval: split rule, exclusion from training, scoring (fast)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.errors import BastionError
from builder import eval_questions as eq
from builder.data import grounded
from builder.profiles import load_profile, profile_config, with_eval_questions

ROOT = Path(__file__).resolve().parents[2]
WSTG_QUESTIONS = ROOT / "bench" / "data" / "wstg_questions.jsonl"
DOC_A = "# Cookie attributes\n\n## The HttpOnly attribute\n\nThe HttpOnly attribute keeps client-side script from reading the cookie. It limits session theft through cross-site scripting.\n"
DOC_B = "# Clickjacking\n\n## Frame ancestors\n\nThe frame-ancestors directive says which origins may frame the page. Older browsers read X-Frame-Options instead.\n"


def _ids(split: str, n: int) -> list[str]:
    """The first n ids of the form q<i> that fall in `split` under the bench's rule."""
    out, i = [], 0
    while len(out) < n:
        qid = f"q{i}"
        if ("test" if int(hashlib.sha1(qid.encode()).hexdigest(), 16) % 2 else "tune") == split:
            out.append(qid)
        i += 1
    return out


@pytest.fixture()
def qfile(tmp_path):
    (t1, t2, t3), (u1,) = _ids("test", 3), _ids("tune", 1)
    rows = [{"id": t1, "question": "What does the HttpOnly attribute protect against?", "files": ["cookies.md"]},
            {"id": t2, "question": "What is a good bread recipe?", "files": []},
            {"id": t3, "question": "What does an unindexed guide say?", "files": ["missing.md"]},
            {"id": u1, "question": "Which origins may frame the page?", "files": ["clickjacking.md"]}]
    p = tmp_path / "questions.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return p


def test_split_is_the_bench_rule_and_the_wstg_set_has_a_test_half():
    if WSTG_QUESTIONS.is_file():  # the bench's question set (bench/eval_answers.py splits it the same way)
        qs = eq.load_questions(WSTG_QUESTIONS)
        assert 10 <= len(eq.test_half(qs)) < len(qs)
    for qid in ("hsts-directives", "cookie-httponly", "x"):
        assert eq.split_of(qid) == ("test" if int(hashlib.sha1(qid.encode()).hexdigest(), 16) % 2 else "tune")


def test_bad_question_file_names_the_line(tmp_path):
    p = tmp_path / "q.jsonl"
    p.write_text('{"id": "a", "question": "x", "files": []}\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(BastionError, match=r"q.jsonl:2"):
        eq.load_questions(p)


def test_test_half_answering_files_never_answer_a_training_question(qfile):
    qs = eq.load_questions(qfile)
    held = eq.held_out_names(qs)
    assert held == {"cookies.md", "missing.md"}  # the tune question's file stays trainable
    docs = [("corpus/cookies.md", DOC_A), ("corpus/clickjacking.md", DOC_B)]
    qa = [(qs[0].question, "The HttpOnly attribute keeps client-side script from reading the cookie.", "qa.jsonl")]
    items, counts = grounded.build_grounded(qa, docs, seed=1, refusal_fraction=0.0, max_seq_tokens=512,
                                            held_out_files=held, held_out_questions={q.question for q in eq.test_half(qs)})
    assert items and counts.held_out >= 2  # the Q&A record (test question) and the cookies heading
    assert all(Path(it.answer_source).name not in held for it in items)
    assert all(it.question != qs[0].question for it in items)
    free, _ = grounded.build_grounded(qa, docs, seed=1, refusal_fraction=0.0, max_seq_tokens=512)
    assert any(Path(it.answer_source).name == "cookies.md" for it in free)  # without the file, it would train


def test_a_long_answer_keeps_its_source_and_drops_distractors_to_fit():
    docs = [(f"corpus/d{i}.md", f"# Guide {i}\n\n## Topic number {i}\n\n" + "Plain sentence about topic words here. " * 30)
            for i in range(4)]
    items, counts = grounded.build_grounded([], docs, seed=3, refusal_fraction=0.0, max_seq_tokens=512)
    assert items and counts.too_long == 0
    assert all(it.answer_chunk.text.strip() in it.messages[-2]["content"] for it in items)


def test_question_items_keep_indexed_answerable_and_off_corpus(qfile):
    from builder.app_eval import question_items

    items, what = question_items(eq.load_questions(qfile), ["wstg/cookies.md", "wstg/clickjacking.md"])
    assert [it["sources"] for it in items] == [["cookies.md"], []]  # missing.md is not indexed; the tune one is never asked
    assert "1 of 2 answerable" in what


def test_grounded_scores_any_answering_file_counts(monkeypatch):
    import importlib

    from builder.app_eval import OFF_CORPUS, grounded_scores

    def fake_answer(question, *, engine, retriever, system, max_tokens, ground=True, context_tokens=0):
        hits = [SimpleNamespace(source="wstg/a.md"), SimpleNamespace(source="wstg/b.md")]
        if "bread" in question or question in OFF_CORPUS:
            return SimpleNamespace(result=lambda: "I won't guess.", raw_text="I won't guess.", hits=hits, sources=[])
        # the model cites [2] and [9] (out of range); the app's grounding keeps [2] and adds [1]
        return SimpleNamespace(result=lambda: "Alpha text [1]. Beta text [2].", raw_text="Beta text [2] [9].", hits=hits, sources=hits)

    monkeypatch.setattr(importlib.import_module("app.knowledge.grounded_chat"), "answer", fake_answer)
    items = [{"id": "x", "question": "q1", "sources": ["a.md", "b.md"]}, {"id": "y", "question": "q2", "source": "a.md"},
             {"id": "z", "question": "bread?", "sources": []}]
    scores = grounded_scores(None, None, items, max_tokens=8)
    model, app = scores["model"], scores["app"]
    assert (model.answerable, model.grounded, model.off_corpus, model.refused) == (2, 1, 1 + len(OFF_CORPUS), 1 + len(OFF_CORPUS))
    assert model.figures()["citation_precision"] == 0.5 and model.figures()["grounded_answer_rate"] == 0.5
    assert app.figures()["grounded_answer_rate"] == 1.0 and app.figures()["citation_precision"] == 0.75
    assert [a["id"] for a in model.figures()["answers"]][:3] == ["x", "y", "z"]


def test_question_file_is_typed_and_in_the_fingerprints(qfile):
    base = load_profile("smollm2-135m")
    prof = with_eval_questions(base, qfile)
    assert prof.eval.questions == str(qfile.resolve()) and base.eval.questions is None
    assert with_eval_questions(base, None) is base
    for stage in ("data", "eval"):
        assert profile_config(prof, stage) != profile_config(base, stage)
    assert profile_config(prof, "train") == profile_config(base, "train")
    from builder.stages.data.stage import data_config

    before = data_config(prof, strict=False, allow_pickle=False)["eval_questions"]
    qfile.write_text(qfile.read_text() + '{"id": "new", "question": "?", "files": []}\n')
    assert data_config(prof, strict=False, allow_pickle=False)["eval_questions"] != before


def test_data_eval_and_build_take_the_question_file():
    from typer.testing import CliRunner

    from builder.cli import cli

    for cmd in ("data", "eval", "build"):
        res = CliRunner().invoke(cli, [cmd, "--help"], terminal_width=200)
        assert res.exit_code == 0 and "--eval-questions" in res.output, cmd
