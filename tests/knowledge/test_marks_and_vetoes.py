"""The aligner's exchange and negation vetoes, the judge's verdict, inline marks in `--json`, and Chinese
off-topic refusal through the real MiniLM retriever.

Where a test needs a particular model output the text goes through a real `Generation`
(as in test_grounding.py); the judge is a stand-in with the engine's `chat_json` shape so
its verdict is fixed. Retrieval and embeddings are real (MiniLM GGUF, chromadb).
"""

from __future__ import annotations

import json
import threading

import pytest

from app.knowledge import NO_SOURCES, KnowledgeBase, Retriever, ingest
from app.knowledge import answer
from app.knowledge.answer import UNSUPPORTED_MARK, Answer
from app.knowledge.grounding import Grounder, exchanged
from app.knowledge.evidence import words
from app.knowledge.retrieval import Hit
from app.llm.engine import GenStats, Generation
from tests.knowledge.conftest import DOCS, write_docs

PASSAGE = ("Server-side request forgery could allow an attacker to proxy traffic through the server, in order to "
           "hide their source address or reach internal systems. Try to generate as many security questions as "
           "possible to get a good idea of the type of questions that are asked.")


def hit(text: str = PASSAGE, heading: str = "SSRF > Summary", source: str = "ssrf.md") -> Hit:
    return Hit(id=source, text=text, source=source, heading=heading, start_line=1, end_line=3, score=1.0)


def scripted(text: str) -> Generation:
    pieces = iter([text[i:i + 7] for i in range(0, len(text), 7)])
    return Generation(pieces, GenStats(finish_reason="stop"), threading.Event())


class Judge:
    """The engine's `chat_json` with a fixed verdict; counts the questions it was asked."""

    def __init__(self, verdict: str) -> None:
        self.verdict, self.asked = verdict, []

    def chat_json(self, messages, schema, **kw):
        self.asked.append(messages[-1]["content"])
        return {"stated": self.verdict}


def test_an_exchanged_word_inside_a_copy_is_not_lexical_support():
    g = Grounder([hit()])
    right = "An attacker could proxy traffic through the server, in order to hide their source address."
    wrong = "An attacker could proxy traffic through the client, in order to hide their source address."
    assert g.check(right)[1], "a faithful copy must stay supported"
    assert g.check(wrong)[1] == []  # a near-verbatim copy used to skip the polarity check
    assert g.candidates(wrong) == []  # client/server are opposites: the judge is never asked
    other = "An attacker could proxy traffic through the browser, in order to hide their source address."
    # a copy with a word exchanged is vetoed outright: the 1.5B judge said yes to 15 of 21 such swaps
    assert g.check(other)[1] == [] and g.candidates(other) == []
    paraphrase = "Attackers can relay their traffic through the server to conceal where it comes from."
    assert g.check(paraphrase)[1] == [] and g.candidates(paraphrase), "a paraphrase is the judge's to decide"
    # the same exchange where the substitute word does occur in the passage
    both = hit("The client sends the request. The server could proxy traffic through the server, in order to hide it.")
    assert Grounder([both]).check("The server could proxy traffic through the client, in order to hide it.")[1] == []
    assert exchanged(words("the cookies before and after login are kept"), words("the cookies before and after "
                                                                                   "authentication are kept"))
    assert not exchanged(words("use the same value before and after login"), words("use the same value before "
                                                                                    "and after login"))


def test_a_negation_added_or_dropped_inside_a_copy_is_not_lexical_support():
    g = Grounder([hit()])
    assert g.check("Generate as many security questions as possible to get a good idea of the type of "
                   "questions that are asked.")[1]
    assert g.check("Generate as many security questions as possible to get a good idea of the type of "
                   "questions that are not asked.")[1] == []
    law = hit("PCI DSS is a standard that organizations follow to process card payments, although it is not a law.")
    assert Grounder([law]).check("PCI DSS is a standard that organizations follow to process card payments, "
                                 "although it is a law.")[1] == []


@pytest.mark.parametrize("verdict", ["no", "yes"])
def test_the_judge_decides_a_paraphrase_and_a_no_is_marked(verdict):
    text = ("An attacker could proxy traffic through the server, in order to hide their source address [1]. "
            "Server-side request forgery could allow an attacker to reach internal systems [1]. "
            "Attackers can relay their traffic through the server to conceal where it comes from [1].")
    judge = Judge(verdict)
    ans = Answer(hits=[hit()], query="q", generation=scripted(text), question="What does SSRF allow?", judge=judge)
    shown = ans.result()
    assert len(judge.asked) == 1 and "conceal where it comes from" in judge.asked[0]  # only the paraphrase is asked
    statuses = [s["status"] for s in ans.shown_sentences]
    assert statuses == ["supported", "supported", "supported" if verdict == "yes" else "unsupported"]
    if verdict == "no":
        assert shown.count(UNSUPPORTED_MARK) == 1 and shown.rstrip().endswith(UNSUPPORTED_MARK)
        assert ans.shown_sentences[-1]["marked"] and ans.unsupported_sentences == 1
    else:
        assert UNSUPPORTED_MARK not in shown and ans.shown_sentences[-1]["entailed"]


class RecordingJudge(Judge):
    """Says yes, and records how much of the answer the reader had been shown when each question was asked."""

    def __init__(self, shown: list[str]) -> None:
        super().__init__("yes")
        self.shown, self.seen_at_ask = shown, []

    def chat_json(self, messages, schema, **kw):
        self.seen_at_ask.append("".join(self.shown))
        return super().chat_json(messages, schema, **kw)


def test_a_held_claim_is_shown_as_soon_as_the_judge_accepts_it():
    # both sentences are paraphrases, so both are held until generation ends; the first one must reach the
    # reader before the judge is asked about the second (first shown sentence, issue 27)
    text = ("Attackers can relay their traffic through the server to conceal where it comes from [1]. "
            "The server can be abused to relay traffic and hide where it comes from [1].")
    shown: list[str] = []
    judge = RecordingJudge(shown)
    ans = Answer(hits=[hit()], query="q", generation=scripted(text), question="What does SSRF allow?", judge=judge)
    for piece in ans:
        shown.append(piece)
    assert len(judge.asked) == 2
    assert judge.seen_at_ask[0] == "", "nothing is shown before the first held claim is judged"
    assert "conceal where it comes from [1]." in judge.seen_at_ask[1], "the accepted claim was out before the next ask"
    assert [s["status"] for s in ans.shown_sentences] == ["supported", "supported"]
    assert not ans.extractive and UNSUPPORTED_MARK not in ans.text


def test_a_sentence_that_only_points_at_sources_is_dropped():
    text = ("An attacker could proxy traffic through the server, in order to hide their source address [1]. "
            "This answer comes from sources [1], [2] and [3].")
    ans = Answer(hits=[hit()], query="q", generation=scripted(text), question="What does SSRF allow?", judge=Judge("no"))
    shown = ans.result()
    assert "comes from sources" not in shown and UNSUPPORTED_MARK not in shown
    assert [s["status"] for s in ans.shown_sentences] == ["supported"]


@pytest.mark.slow
def test_ask_json_flags_and_marks_the_unsupported_sentence(starter_bundle, monkeypatch):
    """`bastion ask --json` end to end over the starter bundle's notes; only the model's text is fixed."""
    from typer.testing import CliRunner

    from app.cli.main import cli
    from app.llm.engine import LlamaEngine

    text = ("SQL injection (CWE-89) occurs when an application builds a database query by gluing untrusted text "
            "into the SQL string [1]. The database parses the combined text, so a quote or a keyword in the input "
            "changes the structure of the statement instead of being treated as a value [1]. "
            "SQL injection was first described by the Apollo 11 flight crew in 1969 [1].")
    monkeypatch.setattr(LlamaEngine, "chat", lambda self, messages, **kw: scripted(text))
    monkeypatch.setattr(LlamaEngine, "chat_json", lambda self, messages, schema, **kw: {"stated": "no"})
    res = CliRunner().invoke(cli, ["ask", "What is SQL injection and how does it arise?", "--bundle",
                                   str(starter_bundle), "--json", "--kb", "bundle"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    sents = out["sentences"]
    assert [s["status"] for s in sents] == ["supported", "supported", "unsupported"], sents
    assert [s["marked"] for s in sents] == [False, False, True]
    assert all(s["cited"] for s in sents[:2]) and sents[2]["cited"] == []
    assert out["answer"].count(UNSUPPORTED_MARK) == 1 and "Apollo 11 flight crew in 1969. " + UNSUPPORTED_MARK in out["answer"]
    assert any(w.startswith("uncited") for w in out["warnings"])


@pytest.fixture(scope="module")
def zh_retriever(tmp_path_factory, kb_embedder):
    root = tmp_path_factory.mktemp("scope")
    kb = KnowledgeBase(root / "kb", name="scope", fingerprint=kb_embedder.fingerprint)
    ingest([write_docs(root / "docs", DOCS)], kb=kb, embedder=kb_embedder)
    r = Retriever([kb], embedder=kb_embedder)
    yield r
    r.close()


class NoEngine:
    """An out-of-scope question must be refused before any model call."""

    def __getattr__(self, name):
        raise AssertionError(f"the model was asked ({name}) about a question the sources do not cover")


@pytest.mark.parametrize("question", ["周末去哪里钓鱼比较好？", "怎么腌制咸鸭蛋才入味？", "我的电脑开不了机，屏幕一直黑着怎么办？"])
def test_chinese_off_topic_questions_are_refused_through_minilm(zh_retriever, question):
    ans = answer(question, engine=NoEngine(), retriever=zh_retriever, system="")
    assert list(ans) == [NO_SOURCES] and ans.hits == []


def test_serve_refuses_what_the_sources_do_not_cover_as_ask_does(zh_retriever):
    """The API answers through the same service: an off-topic question finds nothing, and is told so."""
    from app.knowledge import GroundedChat
    from app.serve.rag import KnowledgeRag

    rag = KnowledgeRag(GroundedChat(engine=NoEngine(), system="", retriever=zh_retriever))
    messages = [{"role": "user", "content": "怎么做红烧肉？"}]
    hits = rag.retrieve(messages)
    reply = rag.start(messages, hits, max_tokens=None, temperature=None, cancel=None)
    assert hits == [] and list(reply) == [NO_SOURCES] and rag.sources(reply.hits) == []


class ScriptedEngine:
    """Counts tokens roughly and streams a fixed text: enough for `answer()` to run after retrieval."""

    n_ctx = 4096
    max_tokens = 512

    def count_tokens(self, text: str) -> int:
        return len(text) // 3 + 1

    def chat(self, messages, **kw):
        self.prompt = messages[-1]["content"]
        return scripted("服务端请求伪造指攻击者让服务器向内部地址发起请求[1]。")


def test_a_chinese_question_the_notes_cover_is_answered_from_them(zh_retriever):
    eng = ScriptedEngine()
    ans = answer("服务端请求伪造是什么？怎么修复？", engine=eng, retriever=zh_retriever, system="", entail=False)
    assert ans.hits and any(h.source.endswith("zh-ssrf.md") for h in ans.hits)
    assert "内部地址" in eng.prompt  # the note was put in front of the model
    assert ans.result() != NO_SOURCES


def test_contrast_question_makes_a_yes_to_everything_judge_support_nothing():
    from app.knowledge.entailment import Entailment, contrast

    assert contrast("ECB mode should not be used.") == "ECB mode should be used."
    assert contrast("Reflected XSS is non-persistent.") == "Reflected XSS is not non-persistent."
    assert "错误" in contrast("账户通常在五次失败登录后锁定。")

    class Discerning:
        def chat_json(self, messages, schema, **kw):
            claim = messages[-1]["content"].split("Claim: ", 1)[1]
            return {"stated": "no" if " not " in claim or "not true" in claim else "yes"}

    yes = Judge("yes")
    assert Entailment(yes).stated("ECB is weak.", "ECB is weak.")  # without the contrast a yes is a yes
    e = Entailment(yes, contrast=True)
    assert not e.stated("ECB is weak.", "ECB is weak.") and e.calls == 2
    assert "ECB is not weak." in yes.asked[-1]
    d = Entailment(Discerning(), contrast=True, max_calls=3)
    assert d.stated("Reflected XSS is non-persistent.", "Reflected XSS is also known as non-persistent XSS.")
    assert not d.stated("Reflected XSS is stored.", "...")  # one call left: the contrast cannot be asked


def test_a_chinese_claim_about_an_english_passage_never_reaches_the_judge():
    lock = hit("Accounts are typically locked after 3 to 5 unsuccessful attempts. The application returns "
               "\"Your account is locked out\" after 5 minutes.", heading="Lockout")
    g = Grounder([lock])
    assert g.candidates("账户锁定机制通常在5次失败登录后锁定账户。") == []  # "5" is in the passage, but not as a count
    zh = hit("账户锁定机制通常在3到5次失败登录后锁定账户。", heading="账户锁定")
    assert Grounder([zh]).candidates("账户通常在3到5次登录失败后被锁定。")  # same language: the judge may decide
