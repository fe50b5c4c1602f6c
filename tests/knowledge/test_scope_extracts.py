"""Off-topic refusal in any language (scope gate) and query-focused extracts, on hand-made hits."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.knowledge.extracts import answer_type, extract
from app.knowledge.scope import in_scope


@dataclass
class Hit:
    text: str
    heading: str = ""
    flags: list = field(default_factory=list)


ZH_SQL = Hit("SQL注入是指攻击者把恶意的SQL语句插入到查询中。防御方法：使用参数化查询，对输入进行校验。",
             heading="SQL注入")
EN_PW = Hit(
    "This section describes how to store passwords.\n\n"
    "For more details, see the Password Storage Cheat Sheet at https://cheatsheetseries.owasp.org.\n\n"
    "Store user passwords with a slow, salted hash such as Argon2id, scrypt or bcrypt, never with MD5 or SHA-1.\n\n"
    "Forgot-password flows should send a single-use token to the registered address.",
    heading="Password storage")


def test_chinese_off_topic_question_is_out_of_scope_of_chinese_notes():
    assert not in_scope("怎么做红烧肉？", [ZH_SQL])
    assert not in_scope("明天北京的天气怎么样？", [ZH_SQL])


def test_chinese_question_the_notes_cover_is_in_scope():
    assert in_scope("如何防御SQL注入？", [ZH_SQL])
    assert in_scope("什么是注入攻击？", [ZH_SQL])


def test_english_off_topic_question_is_out_of_scope():
    assert not in_scope("What is a good recipe for sourdough bread?", [EN_PW, ZH_SQL])
    assert in_scope("How should I store user passwords?", [EN_PW])


def test_extract_quotes_the_answer_not_the_pointer_or_the_intro():
    assert answer_type("How many rounds should bcrypt use?") == "number"
    text, supports = extract("How should I store user passwords?", [EN_PW])
    first = supports[0].span
    assert "Argon2id" in first, text
    assert "Cheat Sheet" not in first and not first.startswith("This section")
    assert text.startswith("1. \u201c") and text.rstrip().endswith("[1]")


def test_vetoes_run_before_the_entailment_judge():
    from app.knowledge.grounding import Grounder

    hit = Hit("Passwords must be hashed with bcrypt using a work factor of 12. "
              "Sessions expire after 30 minutes of inactivity.", heading="Authentication")
    g = Grounder([hit])
    # a wrong number or a flipped polarity never reaches the judge
    assert g.candidates("Sessions expire after 45 minutes of inactivity.") == []
    assert g.candidates("Sessions never expire after 30 minutes of inactivity.") == []
    # an identifier the chunk does not hold (another algorithm) never reaches it either
    assert g.candidates("Passwords must be hashed with MD5 using a work factor of 12.") == []
    # a paraphrase that keeps the number does
    assert [c.n for c in g.candidates("After 30 minutes without activity a session expires.")] == [1]


def test_a_failing_or_exhausted_judge_supports_nothing():
    from app.knowledge.entailment import Entailment

    class Judge:
        def __init__(self, answers):
            self.answers = list(answers)

        def chat_json(self, messages, schema, **kw):
            a = self.answers.pop(0)
            if isinstance(a, Exception):
                raise a
            return a

    e = Entailment(Judge([{"stated": "yes"}, RuntimeError("cut off"), {"stated": "maybe"}]), max_calls=3)
    assert e.stated("claim", "passage") is True
    assert e.stated("claim", "passage") is False  # the judge failed
    assert e.stated("claim", "passage") is False  # not a "yes"
    assert e.stated("claim", "passage") is False  # budget spent: not even asked
    assert e.calls == 3 and e.verdicts[1].error == "cut off"
