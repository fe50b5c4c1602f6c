"""A conversation's RAG prompt only grows: earlier turns keep their sources, so the cached prefix holds."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.knowledge.prompt_format import build_rag_messages, format_sources, system_prompt, user_turn
from app.knowledge.turn_sources import TurnSources, conversation_messages

SYSTEM = "You are Bastion."


@dataclass
class Hit:
    text: str
    where: str
    flags: tuple[str, ...] = ()

    def label(self) -> str:
        return self.where


class Counter:
    """A stand-in engine: n_ctx and a token count of ~4 characters a token."""

    def __init__(self, n_ctx: int = 100_000) -> None:
        self.n_ctx = n_ctx

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1


def _hits(tag: str) -> list[Hit]:
    return [Hit(f"{tag} source {i}: use parameterised queries, never string formatting.", f"{tag}-{i}.md") for i in (1, 2)]


def test_single_turn_prompt_is_unchanged():
    hits = _hits("a")
    msgs = build_rag_messages("What is SQL injection?", hits, system=SYSTEM)
    assert msgs == [{"role": "system", "content": system_prompt(SYSTEM)},
                    {"role": "user", "content": user_turn(format_sources(hits)[0], "What is SQL injection?")}]
    plain = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello [1]."}]
    assert build_rag_messages("Q?", hits, system=SYSTEM, history=plain)[1:3] == plain


def test_each_turn_extends_the_last_prompt_and_answer():
    memory, engine = TurnSources(), Counter()
    history: list[dict] = []
    previous = None
    for n, (q, tag) in enumerate((("What is SQL injection?", "a"), ("How do I fix it in Python?", "b"),
                                  ("And in Java?", "c"))):
        msgs = conversation_messages(q, _hits(tag), system=SYSTEM, history=history, engine=engine, max_tokens=64,
                                     memory=memory)
        if previous is not None:
            assert msgs[:len(previous)] == previous  # the whole earlier prompt is a prefix of this one
            assert msgs[len(previous)] == history[-1]  # then the answer, as the caller kept it
        assert msgs[-1]["content"] == user_turn(format_sources(_hits(tag))[0], q)
        assert [m["content"].count("<source n=1") for m in msgs if m["role"] == "user"] == [1] * (n + 1)
        previous = msgs
        history = history + [{"role": "user", "content": q}, {"role": "assistant", "content": f"Answer {n} [1]."}]


def test_a_conversation_that_no_longer_fits_goes_plain():
    memory = TurnSources()
    history = [{"role": "user", "content": "What is SQL injection?"}, {"role": "assistant", "content": "It is [1]."}]
    conversation_messages(history[0]["content"], _hits("a"), system=SYSTEM, history=[], engine=Counter(), max_tokens=64,
                          memory=memory)
    roomy = conversation_messages("Fix?", _hits("b"), system=SYSTEM, history=history, engine=Counter(), max_tokens=64,
                                  memory=memory)
    assert "<source" in roomy[1]["content"]
    size = sum(Counter().count_tokens(m["content"]) + 8 for m in roomy)
    tight = conversation_messages("Fix?", _hits("b"), system=SYSTEM, history=history, engine=Counter(size + 64),
                                  max_tokens=64, memory=memory)
    assert tight[1:3] == history and "<source" in tight[-1]["content"]


def test_only_the_same_conversation_gets_the_sources_back():
    memory = TurnSources(capacity=2)
    q = "What is SQL injection?"
    conversation_messages(q, _hits("a"), system=SYSTEM, history=[], engine=Counter(), max_tokens=64, memory=memory)
    history = [{"role": "user", "content": q}, {"role": "assistant", "content": "It is [1]."}]
    assert memory.attach("another system", history) == history
    assert memory.attach(SYSTEM, [{"role": "assistant", "content": "x"}] + history)[1] == history[0]
    assert memory.attach(SYSTEM, history)[0]["sources"] == format_sources(_hits("a"))[0]
    for other in ("b?", "c?"):  # capacity 2: the oldest is forgotten
        conversation_messages(other, _hits("b"), system=SYSTEM, history=[], engine=Counter(), max_tokens=64, memory=memory)
    assert memory.attach(SYSTEM, history) == history


@pytest.mark.slow
def test_second_turn_evaluates_only_the_new_turn(chat_engine):
    """Through the real chat template and llama.cpp: after turn 1, turn 2 evaluates its own user turn, not the
    conversation (the tokens llama-cpp-python hands to eval; no timing)."""
    memory = TurnSources()
    llm = chat_engine.load()
    sources = [Hit("SQL injection happens when user input is concatenated into a query string. " * 6, "sqli.md"),
               Hit("Parameterised queries keep data apart from the SQL code. " * 6, "params.md")]
    q1, q2 = "What is SQL injection?", "How do parameterised queries help?"
    m1 = conversation_messages(q1, sources, system=SYSTEM, history=[], engine=chat_engine, max_tokens=16, memory=memory)
    a1 = chat_engine.chat(m1, max_tokens=16, temperature=0.0).result()
    history = [{"role": "user", "content": q1}, {"role": "assistant", "content": a1}]
    m2 = conversation_messages(q2, list(reversed(sources)), system=SYSTEM, history=history, engine=chat_engine,
                               max_tokens=16, memory=memory)
    evaluated: list[int] = []
    real_eval = llm.eval
    llm.eval = lambda tokens: (evaluated.append(len(tokens)), real_eval(tokens))[1]
    try:
        gen = chat_engine.chat(m2, max_tokens=2, temperature=0.0)
        gen.result()
    finally:
        del llm.eval
    new_turn = chat_engine.count_tokens(m2[-1]["content"])
    assert gen.stats.prompt_tokens > 2 * new_turn  # the conversation is long ...
    assert evaluated[0] <= new_turn + 24  # ... but only the new turn (and template tokens) was evaluated
