"""Follow-up questions: give retrieval the topic of the conversation.

"How do I fix it?" retrieves nothing useful on its own. When a question looks
like a follow-up (a pronoun or demonstrative, or very few content words) the
previous user question is prepended, so retrieval sees "SQL injection … how do I
fix it". Deterministic on purpose: a tiny chat model rewrites queries badly.
"""

from __future__ import annotations

import re

from app.knowledge.lexical import tokenize

_REFERS = re.compile(
    r"\b(it|its|this|that|these|those|they|them|their|the same|above|previous|such|one|ones|"
    r"example|more|else|again|also)\b|(它|这个|那个|这些|那些|上面|其|该|これ|それ|あれ)",
    re.IGNORECASE,
)
MIN_CONTENT_TERMS = 3


def is_follow_up(question: str) -> bool:
    terms = [t for t in tokenize(question) if len(t) > 1]
    return bool(_REFERS.search(question)) or len(terms) < MIN_CONTENT_TERMS


def retrieval_query(question: str, history: list[dict] | None) -> str:
    """The text to search with: the question, plus the last user turn if this is a follow-up."""
    if not history or not is_follow_up(question):
        return question
    previous = [m.get("content", "") for m in history if m.get("role") == "user" and m.get("content")]
    if not previous:
        return question
    return f"{previous[-1].strip()}\n{question.strip()}"
