"""Lean context: sources cut to what matches the question, under a per-bundle budget."""

from __future__ import annotations

import pytest

from app.errors import BundleError
from app.knowledge import answer
from app.knowledge.lean import GAP, TRIMMED, lean_hits
from app.knowledge.retrieval import Hit
from app.prompts import CHAT_SYSTEM, CONTEXT_PRESETS, context_tokens_for, default_prompts_toml, load_prompts
from app.settings import Settings

DOC = """# SQL injection
The testing guide covers many topics in its chapters.
SQL injection happens when user input is concatenated into a query string. Attackers can read or change data.
Use parameterized queries to prevent SQL injection. Stored procedures can help too.
Cookies should carry the Secure flag. Session identifiers must be long and random.
TLS 1.0 is obsolete and must be disabled on every server.
Report every finding with its evidence and a severity rating.
"""


def words(text: str) -> int:
    return len(text.split())


def hit(text: str = DOC, start: int = 40, source: str = "guide.md") -> Hit:
    return Hit(id=source, text=text, source=source, heading="SQL injection", start_line=start,
               end_line=start + text.count("\n") - 1, score=1.0)


def test_cut_keeps_the_matching_sentence_its_lines_and_says_so():
    h = hit()
    out = lean_hits("How do I prevent SQL injection?", [h], budget_tokens=14, count_tokens=words)[0]
    assert "Use parameterized queries to prevent SQL injection." in out.text
    assert words(out.text.replace(GAP, " ")) <= 14 and TRIMMED in out.flags
    assert "Cookies" not in out.text and "TLS" not in out.text  # unrelated sentences go first
    # every kept sentence is verbatim from the chunk, and the line range covers exactly the kept lines
    lines = DOC.splitlines()
    kept = lines[out.start_line - h.start_line:out.end_line - h.start_line + 1]
    for piece in out.text.split(GAP):
        assert piece.strip() in DOC and any(piece.strip().splitlines()[0] in ln for ln in kept)
    assert h.start_line <= out.start_line <= out.end_line <= h.end_line
    assert out.start_line == 40 + 2 or out.start_line == 40 + 3  # the query sentence's line or the one before


def test_document_order_and_gaps_between_separate_passages():
    out = lean_hits("prevent SQL injection and disable TLS 1.0", [hit()], budget_tokens=30, count_tokens=words)[0]
    i, j = out.text.find("parameterized"), out.text.find("TLS 1.0")
    assert 0 <= i < j, out.text  # both matches, in the chunk's order
    assert GAP in out.text[i:j] or "Cookies" in out.text[i:j]


def test_nothing_changes_when_it_fits_or_the_budget_is_zero():
    hs = [hit(), hit("Short note on CSRF tokens.", source="csrf.md")]
    assert lean_hits("csrf", hs, budget_tokens=0, count_tokens=words) == hs
    assert lean_hits("csrf", hs, budget_tokens=10_000, count_tokens=words) == hs


def test_budget_is_shared_and_unused_share_flows_on():
    small = hit("CSRF tokens must be unpredictable and tied to the session.", source="csrf.md")
    out = lean_hits("How do I prevent SQL injection with CSRF tokens?", [small, hit(), hit(source="b.md")],
                    budget_tokens=40, count_tokens=words)
    assert out[0] is small  # fits its share whole
    assert sum(words(h.text.replace(GAP, " ")) for h in out) <= 40
    assert all("SQL injection" in h.text for h in out[1:])


def test_a_chinese_question_keeps_the_english_sentence_it_asks_about():
    out = lean_hits("如何防止SQL注入？", [hit()], budget_tokens=12, count_tokens=words)[0]
    assert "SQL injection" in out.text


def test_one_long_unit_is_cut_to_its_first_words():
    code = "```\n" + " ".join(f"tok{i}" for i in range(200)) + "\n```"
    out = lean_hits("tok5", [hit(code)], budget_tokens=20, count_tokens=words)[0]
    assert words(out.text) <= 21 and out.text.endswith("…") and TRIMMED in out.flags


def test_bundle_budget_from_prompts_toml_and_settings_override(tmp_path):
    p = tmp_path / "prompts.toml"
    p.write_text(default_prompts_toml("small"))
    prompts = load_prompts(p)
    assert prompts.context_tokens == CONTEXT_PRESETS["small"] > 0
    assert load_prompts(None).context_tokens == 0
    assert context_tokens_for(prompts, Settings()) == CONTEXT_PRESETS["small"]
    assert context_tokens_for(prompts, Settings(retrieval={"context_tokens": 0})) == 0
    assert context_tokens_for(prompts, Settings(retrieval={"context_tokens": 900})) == 900
    for bad in ("-5", '"lots"', "true"):
        p.write_text(f"[retrieval]\ncontext_tokens = {bad}\n")
        with pytest.raises(BundleError, match=r"prompts.toml: \[retrieval\] context_tokens"):
            load_prompts(p)


@pytest.mark.slow
def test_answer_with_a_budget_sends_fewer_tokens_and_cites_the_cut_text(tmp_path, kb_embedder, chat_engine):
    """Real SmolLM2 + MiniLM: the same question with and without a budget; the cut prompt is shorter and every
    citation shown is checked against the text the model saw."""
    from app.knowledge import KnowledgeBase, Retriever, ingest

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "sqli.md").write_text(DOC * 3)
    kb = KnowledgeBase(tmp_path / "kb", name="lean", fingerprint=kb_embedder.fingerprint)
    ingest([docs], kb=kb, embedder=kb_embedder)
    r = Retriever([kb], embedder=kb_embedder)
    try:
        full = answer("How do I prevent SQL injection?", engine=chat_engine, retriever=r, system=CHAT_SYSTEM,
                      max_tokens=32)
        full.result()
        lean = answer("How do I prevent SQL injection?", engine=chat_engine, retriever=r, system=CHAT_SYSTEM,
                      max_tokens=32, context_tokens=60)
        lean.result()
    finally:
        r.close()
    assert lean.stats.prompt_tokens < full.stats.prompt_tokens
    assert any(TRIMMED in h.flags for h in lean.hits)
    assert any("parameterized queries" in h.text for h in lean.hits)
    flat = lambda t: " ".join(t.replace("…", " ").split())  # noqa: E731
    for c in lean.citations:
        assert all(flat(span)[:40] in flat(c.hit.text) for span in c.spans)


def test_a_list_number_stays_with_its_item():
    steps = "".join(f"{i}. Attempt to log in with a wrong password {i} times and note the reply.\n" for i in range(1, 9))
    steps += "7. The account is locked out after five attempts and stays locked for ten minutes.\n"
    out = lean_hits("When is the account locked out?", [hit(steps)], budget_tokens=30, count_tokens=words)[0]
    assert "7. The account is locked out" in out.text
    for piece in out.text.split(GAP):  # no orphan "8." left beside a gap
        assert len(piece.strip()) > 3, out.text
