"""Retrieval evaluation: Recall@k, MRR@10 and context hit for dense, lexical and hybrid.

A question set is JSONL, one object a line: {"id", "question", "relevant": [note
file names], "answer_contains": [lower-case keywords], "lang"}. A retrieved chunk
is relevant when its source file's name is listed. Recall and MRR rank chunks
with the relevance floor off (they measure ranking); "context hit@k" is what the
model would actually see: the top-k chunks *after* the floor contain every
answer keyword. `floor_empty` counts questions for which the floor kept nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from app.errors import BastionError

MODES = ("dense", "lexical", "hybrid")
RECALL_KS = (1, 3, 5, 10)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    relevant: tuple[str, ...]
    answer_contains: tuple[str, ...]
    lang: str = "en"


def load_questions(path: Path) -> list[Question]:
    """Read a question set; a bad line raises `BastionError` naming file and line."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            out.append(Question(str(d["id"]), d["question"], tuple(d["relevant"]), tuple(d.get("answer_contains", ())),
                                d.get("lang", "en")))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise BastionError(f"{path} line {n}: not a question record ({exc})",
                               hint='each line needs {"id", "question", "relevant": [...], "answer_contains": [...]}') from None
    return out


def _is_relevant(source: str, relevant: Sequence[str]) -> bool:
    name = Path(source).name
    return name in relevant or source in relevant


def score_question(ranked_sources: list[str], floor_texts: list[str], q: Question, *, k: int) -> dict[str, float]:
    """Figures for one question from ranked chunk sources (no floor) and the top-k texts after the floor."""
    rel = set(q.relevant)
    out: dict[str, float] = {}
    for kk in RECALL_KS:
        found = {Path(s).name for s in ranked_sources[:kk]} | set(ranked_sources[:kk])
        out[f"recall@{kk}"] = len(rel & found) / len(rel)
    out["mrr@10"] = next((1.0 / (i + 1) for i, s in enumerate(ranked_sources[:10]) if _is_relevant(s, q.relevant)), 0.0)
    context = "\n".join(floor_texts[:k]).lower()
    out[f"context_hit@{k}"] = float(bool(q.answer_contains) and all(kw.lower() in context for kw in q.answer_contains))
    out["floor_empty"] = float(not floor_texts)
    return out


def evaluate(retriever, questions: Sequence[Question], *, k: int = 5, modes: Sequence[str] = MODES) -> dict:
    """{mode: {metric: mean, ..., "queries": n, "by_lang": {lang: {...}}}} for each retrieval mode."""
    report: dict[str, dict] = {}
    for mode in modes:
        rows: list[tuple[str, dict[str, float]]] = []
        for q in questions:
            ranked = retriever.search(q.question, k=10, mode=mode, floor=False)
            kept = [h for h in ranked if retriever.relevant(h, mode)][:k]
            rows.append((q.lang, score_question([h.source for h in ranked], [h.text for h in kept], q, k=k)))
        report[mode] = _mean([r for _, r in rows])
        report[mode]["by_lang"] = {lang: _mean([r for lg, r in rows if lg == lang]) for lang in sorted({lg for lg, _ in rows})}
    return report


def _mean(rows: list[dict[str, float]]) -> dict:
    if not rows:
        return {"queries": 0}
    out: dict = {key: round(sum(r[key] for r in rows) / len(rows), 4) for key in rows[0]}
    out["queries"] = len(rows)
    return out


def format_report(report: dict, *, k: int = 5) -> str:
    cols = [f"recall@{kk}" for kk in RECALL_KS] + ["mrr@10", f"context_hit@{k}", "floor_empty"]
    lines = [f"{'mode':<14}" + "".join(f"{c:>14}" for c in cols) + f"{'queries':>9}"]
    for mode, m in report.items():
        lines.append(f"{mode:<14}" + "".join(f"{m.get(c, 0):>14.3f}" for c in cols) + f"{m.get('queries', 0):>9}")
        for lang, lm in m.get("by_lang", {}).items():
            lines.append(f"  {lang:<12}" + "".join(f"{lm.get(c, 0):>14.3f}" for c in cols) + f"{lm.get('queries', 0):>9}")
    return "\n".join(lines)
