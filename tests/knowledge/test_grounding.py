"""Grounded answers: checked citations, extractive fallback, loop stop, cross-lingual retrieval, warnings.

Real MiniLM embeddings, real chromadb, real SmolLM2-135M through llama.cpp. Where a
test needs a particular model output (a fabricated citation, an off-source claim)
the text is fed through a real `Generation` so the same streaming path runs.
"""

from __future__ import annotations

import json
import threading

import pytest

from app.knowledge import KnowledgeBase, Retriever, ingest
from app.knowledge import answer
from app.knowledge.answer import Answer
from app.knowledge.glossary import expand, language
from app.knowledge.grounding import Grounder, split_sentences
from app.knowledge.prompt_format import cited_numbers
from app.knowledge.rerank import dedupe, is_reference_only
from app.llm.engine import GenStats, Generation, LoopDetector
from app.prompts import CHAT_SYSTEM
from tests.knowledge.conftest import DOCS, write_docs

EN_DOCS = {k: v for k, v in DOCS.items() if not k.startswith("zh-")}
EN_DOCS["refs.md"] = ("# SQL injection\n\n## References\n\n- [OWASP SQLi](https://owasp.org/sqli)\n"
                      "- [CWE-89](https://cwe.mitre.org/data/definitions/89.html)\n"
                      "- [Cheat sheet](https://cheatsheetseries.owasp.org/sql)\n")


@pytest.fixture(scope="module")
def en_retriever(tmp_path_factory, kb_embedder):
    root = tmp_path_factory.mktemp("grounding")
    kb = KnowledgeBase(root / "kb", name="grounding", fingerprint=kb_embedder.fingerprint)
    ingest([write_docs(root / "docs", EN_DOCS)], kb=kb, embedder=kb_embedder)
    r = Retriever([kb], embedder=kb_embedder)
    yield r
    r.close()


def scripted(text: str) -> Generation:
    """A Generation streaming `text` in small pieces (the model's output, fixed)."""
    pieces = iter([text[i:i + 5] for i in range(0, len(text), 5)])
    return Generation(pieces, GenStats(finish_reason="stop"), threading.Event())


def test_split_sentences_keeps_citations_with_their_sentence():
    parts = split_sentences("Use parameters. [1] Escape output [2]. 参数化查询可以防止注入[1]。下一句。")
    assert parts[0].strip() == "Use parameters. [1]" and parts[1].strip() == "Escape output [2]."
    assert parts[2] == "参数化查询可以防止注入[1]。"


def test_glossary_expands_chinese_to_english_and_back():
    e = expand("什么是SQL注入？如何防御？")
    assert e.lang == "zh" and "SQL injection" in e.dense and "SQL injection" in e.lexical
    assert "SQL注入" in expand("How do I prevent SQL injection?").lexical
    assert language("Cookie的HttpOnly属性有什么作用？") == "zh" and language("What is XSS?") == "en"


def test_reference_only_chunks_and_duplicates():
    assert is_reference_only(EN_DOCS["refs.md"].split("## References")[1], "SQL injection > References")
    assert not is_reference_only(DOCS["sqli.md"], "SQL injection > Fix")

    class H:
        def __init__(self, text, source="a.md", start=1, end=5):
            self.text, self.source, self.kb, self.start_line, self.end_line = text, source, "k", start, end

    a, b, c = H("Use parameterized queries for every SQL statement."), H("Use parameterized queries for every SQL statement!", "b.md"), H("Escape HTML output.", "c.md")
    assert dedupe([a, b, c]) == [a, c]


@pytest.mark.slow
def test_chinese_query_retrieves_english_chunk(en_retriever):
    hits = en_retriever.search("如何防止SQL注入？", k=3)
    assert hits and hits[0].source.endswith("sqli.md")
    assert all(language(h.text) == "en" for h in hits)  # the KB holds only English documents
    hits = en_retriever.search("什么是跨站脚本攻击？", k=3)
    assert hits and hits[0].source.endswith("xss.md")


@pytest.mark.slow
def test_reference_list_is_demoted(en_retriever):
    hits = en_retriever.search("SQL injection parameterized queries", k=5)
    assert hits[0].source.endswith("sqli.md")
    refs = [h for h in hits if h.source.endswith("refs.md")]
    assert not refs or "reference-only" in refs[0].flags and hits.index(refs[0]) > 0


@pytest.mark.slow
def test_fabricated_citation_is_removed_and_supported_sentence_gets_one(en_retriever, kb_embedder):
    hits = en_retriever.search("How do I prevent SQL injection?", k=3)
    sqli = next(i for i, h in enumerate(hits, 1) if h.source.endswith("sqli.md") and "parameterized" in h.text)
    wrong = next(i for i, h in enumerate(hits, 1) if i != sqli)
    cause = next(i for i, h in enumerate(hits, 1) if "concatenating" in h.text)
    text = (f"Use parameterized queries: cursor.execute with a %s placeholder and user_id as a parameter [{wrong}]. "
            f"Attackers can also use SQL injection to mine bitcoin on the moon [{sqli}]. "
            "Building a query by concatenating request parameters into SQL text lets an attacker change the query.")
    ans = Answer(hits=hits, query="q", question="How do I prevent SQL injection?", generation=scripted(text),
                 embedder=kb_embedder)
    final = ans.result()
    assert ans.removed_citations == 2 and not ans.extractive
    first, second, third = ans.sentences
    assert first.removed == [wrong] and first.cited == [sqli]  # wrong number replaced by the supporting source
    assert second.removed == [sqli] and second.cited == [] and not second.supported  # invented claim: uncited
    assert third.added == [cause] and third.supports[0].verbatim >= 6  # copied, uncited: gets its citation
    assert set(cited_numbers(final)) == {sqli, cause} and "bitcoin on the moon." in final
    assert [c.n for c in ans.citations][0] == sqli and ans.citations[0].spans
    assert "parameterized" in ans.citations[0].spans[0].lower()
    codes = [c for c, _ in ans.warnings]
    assert "citations-removed" in codes and "uncited" in codes


@pytest.mark.slow
def test_unsupported_answer_becomes_extractive(en_retriever, kb_embedder):
    hits = en_retriever.search("How do I prevent SQL injection?", k=3)
    ans = Answer(hits=hits, query="q", question="How do I prevent SQL injection?",
                 generation=scripted("Bread needs flour, water and a long rise [1]. Bake it at 250 degrees [2]."),
                 embedder=kb_embedder)
    pieces = list(ans)
    assert ans.extractive and "".join(pieces) == ans.text  # nothing of the unsupported text was streamed
    assert "flour" not in ans.text and "quoted" in ans.text
    assert ans.citations and all(c.spans and c.spans[0] in c.hit.text for c in ans.citations)
    assert all("reference-only" not in c.hit.flags for c in ans.citations)  # a link list is never quoted
    assert [c for c, _ in ans.warnings] == ["extractive"]


@pytest.mark.slow
def test_real_model_answer_cites_only_supported_sources(en_retriever, chat_engine):
    ans = answer("How do I prevent SQL injection?", engine=chat_engine, retriever=en_retriever, system=CHAT_SYSTEM,
                 max_tokens=64)
    ans.result()
    assert ans.citations  # a generated answer with a supported citation, or an extractive one
    grounder = Grounder(ans.hits)
    for cs in ans.sentences:
        for n in cs.cited:
            assert any(s.n == n for s in cs.supports)
    if ans.extractive:
        assert all(c.spans[0] in c.hit.text for c in ans.citations)
    assert grounder.hits == ans.hits


COOKIE_DOC = (
    "The Strict value is the most restrictive setting of SameSite: the browser sends the cookie only in a "
    "first-party context, never on requests generated by third-party sites. "
    "The Lax value also sends the cookie on top-level navigations from other sites. "
    "Accounts are usually locked after 3 to 5 unsuccessful login attempts."
)


class _Hit:
    def __init__(self, text: str, heading: str) -> None:
        self.text, self.heading, self.flags = text, heading, ()


@pytest.mark.slow
def test_topical_sentences_lose_citations_supported_paraphrases_keep_them(kb_embedder):
    g = Grounder([_Hit(COOKIE_DOC, "Cookies > SameSite attribute"),
                  _Hit("Use parameterized queries instead of string concatenation.", "SQL injection > Fix")],
                 embedder=kb_embedder)
    unsupported = [
        "The Strict mode allows only cross-site requests to send cookies [1].",  # same words, opposite meaning
        "With Strict, the browser sends the cookie on requests generated by third-party sites [1].",  # negation dropped
        "The Lax value sends the cookie only in a first-party context [1].",  # the other value's property
        "Accounts are usually locked after 10 unsuccessful login attempts [1].",  # wrong number
        "The SameSite attribute is important for the security of cookies [1].",  # topical, states nothing there
        "Parameterized queries also stop cross-site scripting in cookies [2].",  # a claim the source does not make
    ]
    for sentence in unsupported:
        checked = g.fix(sentence)
        assert checked.claim and not checked.supported and checked.removed == [1 if "[1]" in sentence else 2], sentence
    supported = [
        ("With SameSite=Strict the browser sends the cookie only in a first-party context [1].", 1),  # copied run
        ("An account is usually locked after three to five failed login attempts [1].", 1),  # paraphrase
        ("Prefer parameterized queries over string concatenation [1].", 2),  # paraphrase, wrong number fixed
    ]
    for sentence, n in supported:
        checked = g.fix(sentence)
        assert checked.supported and checked.cited == [n], (sentence, checked)
        assert checked.supports[0].span in (COOKIE_DOC if n == 1 else "Use parameterized queries instead of string "
                                            "concatenation.")


def test_loop_detector_withholds_the_repeat():
    d = LoopDetector()
    out = "".join(d.feed(p) for p in ["Use parameterized ", "queries [1]. Escape the % sign. ", "Use parameterized queries [2]. more"])
    assert d.looped and out == "Use parameterized queries [1]. Escape the % sign. "
    d = LoopDetector()
    text = "The fix is " + "to escape the percent sign and then " * 6
    out = "".join(d.feed(text[i:i + 4]) for i in range(0, len(text), 4)) + d.flush()
    assert d.looped and out.count("percent sign") == 1


@pytest.mark.slow
def test_looping_generation_is_stopped(smollm2_gguf):
    from app.llm.engine import EngineConfig, LlamaEngine, Sampling

    # Greedy decoding with every penalty off, the 135M model repeats itself on some of these prompts; which ones
    # depends on the attention kernel and on the vector units llama.cpp was compiled for (AVX2 vs AVX-512 round
    # differently), so every prompt runs with both kernels. The guard must stop each loop that happens, and at
    # least one must happen (a broken guard shows as `length` at 300 tokens with the repeat in the text).
    prompts = ("Write the sentence 'I like secure code.' again and again, forever.",
               "Repeat the word 'secure' forever.", "Say 'hello world' again and again without stopping.")
    loops = 0
    for exact in (False, True):
        eng = LlamaEngine(smollm2_gguf, EngineConfig(n_ctx=1024, max_tokens=300, temperature=0.0, exact_batches=exact,
                                                     sampling=Sampling(repeat_penalty=1.0)))
        try:
            for prompt in prompts:
                gen = eng.chat([{"role": "user", "content": prompt}])
                text = gen.result()
                sentences = [s.strip().lower() for s in split_sentences(text) if len(s.strip()) > 12]
                assert len(sentences) == len(set(sentences)), (prompt, text)  # the repeat never reached the reader
                if gen.stats.finish_reason == "loop":
                    loops += 1
                    assert gen.stats.loop_trimmed_chars > 0 and gen.stats.completion_tokens < 300
        finally:
            eng.close()
    assert loops >= 1


@pytest.mark.slow
def test_warnings_reach_ask_json(starter_bundle):
    from typer.testing import CliRunner

    from app.cli.main import cli

    res = CliRunner().invoke(cli, ["ask", "How do I prevent SQL injection in Python?", "--bundle", str(starter_bundle),
                                   "--json", "--max-tokens", "8", "--kb", "bundle"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["finish_reason"] in ("length", "stop", "loop") and isinstance(out["warnings"], list)
    codes = {w.split(":")[0] for w in out["warnings"]}
    assert out["extractive"] == ("extractive" in codes)
    assert out["finish_reason"] != "length" or "truncated" in codes
    assert codes & {"truncated", "extractive"}  # 8 tokens: cut off, or not a supported answer
    assert out["sources"] and all(s["spans"] for s in out["sources"])
    res = CliRunner().invoke(cli, ["ask", "How do I prevent SQL injection in Python?", "--bundle", str(starter_bundle),
                                   "--max-tokens", "8"])
    assert res.exit_code == 0 and "Warning: " in res.output
