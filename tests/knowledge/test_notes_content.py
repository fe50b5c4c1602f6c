"""Structure of the starter security notes and consistency of the held-out retrieval question set.

Fast, pure Python: no models, no index. The retrieval evaluation itself lives elsewhere; these
tests only guarantee that its inputs are well-formed (every note has the expected sections, every
question points at notes that exist and contain its answer keywords).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTES = ROOT / "app" / "knowledge" / "notes"
QUESTIONS = ROOT / "tests" / "data" / "retrieval_eval" / "questions.jsonl"

EN_SECTIONS = ["How it arises", "Spotting it in code", "How to fix", "Related"]
ZH_SECTIONS = ["成因", "在代码中识别", "修复方法", "相关"]
CWE_TOP25_2024 = [79, 787, 89, 352, 22, 125, 78, 416, 862, 434, 94, 20, 77, 287, 269, 502, 200,
                  863, 918, 119, 476, 798, 190, 400, 306]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _notes() -> list[Path]:
    return sorted(NOTES.glob("*.md"))


def _title(text: str) -> str:
    return text.splitlines()[0]


def _sections(text: str) -> dict[str, str]:
    """Map each `## ` heading to its body (fenced code blocks are not mistaken for headings)."""
    out: dict[str, str] = {}
    current, fenced = None, False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            current = line[3:].strip()
            out[current] = ""
        elif current is not None:
            out[current] += line + "\n"
    return out


def _is_zh(path: Path) -> bool:
    return path.name.startswith("zh-")


def test_folder_holds_only_notes():
    names = [p.name for p in NOTES.iterdir()]
    assert names and all(n.endswith(".md") for n in names), names
    assert not any(n.lower() == "readme.md" for n in names)


@pytest.mark.parametrize("path", _notes(), ids=lambda p: p.name)
def test_note_structure(path: Path):
    text = path.read_text(encoding="utf-8")
    title = _title(text)
    assert title.startswith("# "), f"{path.name}: first line must be a '# ' title"
    assert re.search(r"\((?:[^)]*\b)?(CWE-\d+|OWASP A\d\d:2021)", title), f"{path.name}: title lacks an id"
    expected = ZH_SECTIONS if _is_zh(path) else EN_SECTIONS
    assert list(_sections(text)) == expected, f"{path.name}: sections {list(_sections(text))}"
    assert text.count("```") % 2 == 0, f"{path.name}: unclosed code fence"
    assert "```" in _sections(text)[expected[1]], f"{path.name}: no code example"
    if _is_zh(path):
        assert 300 <= len(CJK.findall(text)) <= 1500, f"{path.name}: Chinese length out of range"
    else:
        assert 250 <= len(text.split()) <= 600, f"{path.name}: {len(text.split())} words"


def test_coverage_of_cwe_top25_owasp_top10_and_chinese():
    titles = [_title(p.read_text(encoding="utf-8")) for p in _notes() if not _is_zh(p)]
    cwe_ids = {int(m) for t in titles for m in re.findall(r"\(CWE-(\d+)\)", t)}
    assert set(CWE_TOP25_2024) <= cwe_ids, set(CWE_TOP25_2024) - cwe_ids
    owasp = {m for t in titles for m in re.findall(r"OWASP (A\d\d):2021", t)}
    assert owasp == {f"A{i:02d}" for i in range(1, 11)}
    assert sum(_is_zh(p) for p in _notes()) >= 4


def _questions() -> list[dict]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_question_set_shape():
    qs = _questions()
    assert len(qs) >= 80
    assert len({q["id"] for q in qs}) == len(qs)
    assert sum(q["lang"] == "zh" for q in qs) >= 10
    for q in qs:
        assert set(q) == {"id", "question", "relevant", "answer_contains", "lang"}, q["id"]
        assert q["lang"] in {"en", "zh"}, q["id"]
        assert (q["lang"] == "zh") == bool(CJK.search(q["question"])), q["id"]
        assert 2 <= len(q["answer_contains"]) <= 3, q["id"]
        assert all(k == k.lower() for k in q["answer_contains"]), q["id"]


def test_questions_point_at_existing_notes_that_hold_the_answer():
    texts = {p.name: p.read_text(encoding="utf-8") for p in _notes()}
    for q in _questions():
        assert q["relevant"], q["id"]
        for name in q["relevant"]:
            assert name in texts, f"{q['id']}: {name} does not exist"
            low = texts[name].lower()
            missing = [k for k in q["answer_contains"] if k not in low]
            assert not missing, f"{q['id']}: {name} lacks {missing}"
        # a context hit must be possible: all keywords share one section of some relevant note
        assert any(
            all(k in body.lower() for k in q["answer_contains"])
            for name in q["relevant"] for body in _sections(texts[name]).values()
        ), f"{q['id']}: keywords never share a section"


def test_questions_are_not_copied_from_the_notes():
    texts = {p.name: p.read_text(encoding="utf-8").lower() for p in _notes()}
    headings = {line[2:].strip().lower() for t in texts.values() for line in t.splitlines() if line.startswith("#")}
    for q in _questions():
        question = q["question"].lower().strip()
        assert question not in headings, q["id"]
        assert not any(question in t for t in texts.values()), f"{q['id']}: question appears verbatim in a note"
