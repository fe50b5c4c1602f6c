"""Checks that a training example is in the app's own format (shared by the data and training tests)."""

from __future__ import annotations

import re

from app.analysis import contract
from app.knowledge.prompt_format import CITE, cited_numbers
from app.prompts import ANALYSIS_SYSTEM, CHAT_SYSTEM
from builder.data.grounded import NOT_COVERED


def assert_app_review(messages: list[dict]) -> None:
    """System and user turns as model_layer sends them; the answer validates against the app's contract."""
    system, user, answer = messages[0], messages[-2], messages[-1]
    assert system == {"role": "system", "content": ANALYSIS_SYSTEM}
    assert user["role"] == "user" and "<<<CODE" in user["content"]
    n = len(re.findall(r"^F\d+: line \d+", user["content"], re.M))
    parsed = contract.parse_review(answer["content"], n)  # raises if the app would reject it
    assert sorted(parsed.model_dump()) == sorted([f"F{i}" for i in range(1, n + 1)] + ["extra"])


def assert_app_grounded(messages: list[dict]) -> None:
    """Numbered <source> blocks as the app builds them; the answer cites only shown sources, or declines."""
    assert messages[0]["role"] == "system" and messages[0]["content"].startswith(CHAT_SYSTEM)
    user, answer = messages[-2]["content"], messages[-1]["content"]
    shown = [int(n) for n in re.findall(r'^<source n=(\d+) from="', user, re.M)]
    assert shown == list(range(1, len(shown) + 1)) and "\nQuestion: " in user
    if answer == NOT_COVERED:
        assert not CITE.search(answer)
        return
    cited = cited_numbers(answer)
    assert cited and set(cited) <= set(shown)
