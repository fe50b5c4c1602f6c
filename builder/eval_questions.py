"""A held-out question file for the grounded-answering eval (profile `eval.questions` / `--eval-questions`).

One JSON object per line: `{"id", "question", "files": [answering file names], "lang"?, "phrase"?}`
(the shape of bench/data/wstg_questions.jsonl); `files: []` marks an off-corpus question that
should be declined. The split is the bench's rule (bench/eval_answers.py): sha1(id) odd -> test,
even -> tune. The eval asks only the test half, restricted to questions whose answering file is in
the run's index; the data stage never builds a training example whose answering source is one of
the test half's answering files, nor one whose question is a test question. So the grounded-answer
rate is measured on questions, and answering documents, the model was never trained to answer.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable, Literal

from pydantic import BaseModel, ValidationError

from app.errors import BastionError

Split = Literal["test", "tune"]


class EvalQuestion(BaseModel):
    id: str
    question: str
    files: list[str]
    """Names of the files that answer it (bare names or paths; matched by name); empty = off-corpus."""
    lang: str = "en"
    phrase: str | None = None

    @property
    def split(self) -> Split:
        return split_of(self.id)

    @property
    def off_corpus(self) -> bool:
        return not self.files


def split_of(qid: str) -> Split:
    """The bench's deterministic split: sha1(id) odd -> test."""
    return "test" if int(hashlib.sha1(qid.encode("utf-8")).hexdigest(), 16) % 2 else "tune"


def load_questions(path: str | Path) -> list[EvalQuestion]:
    p = Path(path).expanduser()
    if not p.is_file():
        raise BastionError(f"eval question file not found: {p}", hint="pass a JSONL file of {id, question, files}")
    out = []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(EvalQuestion.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise BastionError(f"{p}:{n}: not an eval question ({str(exc).splitlines()[0]})",
                               hint='each line must be {"id": ..., "question": ..., "files": [...]}') from None
    return out


def file_digest(path: str | Path | None) -> str | None:
    """sha256 of the question file (part of the data and eval fingerprints)."""
    return hashlib.sha256(Path(path).expanduser().read_bytes()).hexdigest() if path else None


def test_half(questions: Iterable[EvalQuestion]) -> list[EvalQuestion]:
    return [q for q in questions if q.split == "test"]


def held_out_names(questions: Iterable[EvalQuestion]) -> set[str]:
    """File names that answer a test-half question: never an answering source in training."""
    return {Path(f).name for q in test_half(questions) for f in q.files}


def answerable(questions: Iterable[EvalQuestion], indexed: Iterable[str]) -> list[EvalQuestion]:
    """Test-half questions with at least one answering file in the index (by file name)."""
    names = {Path(s).name for s in indexed}
    return [q for q in test_half(questions) if any(Path(f).name in names for f in q.files)]
