"""Whether the retrieved sources cover a question at all, in any language.

A multilingual embedder puts any Chinese question near any Chinese chunk
(怎么做红烧肉？ lands next to the Chinese SQL-injection note), so the dense
relevance floor cannot refuse an off-topic Chinese question. A question the
sources cover shares words with them: its own content words or its glossary
terms' English forms (`content_terms`), or, for text the glossary does not know,
Chinese character pairs that are not question words ("怎么", "什么"). With none of
those in any hit, the answer is a refusal.
"""

from __future__ import annotations

import re
from typing import Sequence

from app.knowledge.evidence import content_terms

_CJK = re.compile(r"[\u3400-\u9fff]+")
_FUNCTION_PAIRS = frozenset(
    """怎么 什么 如何 为什么 为何 哪些 哪个 可以 能够 应该 是否 通常 一般 这个 那个 一个 我们 你们 他们 我的 你的
    时候 怎样 多少 几次 之后 之前 以后 以前 才好 好吃 明天 今天 昨天 有什么 的是 是什 么做 么样 样的 做才 才能 能让
    让攻 的作 作用 么是""".split()
)


def _pairs(text: str) -> set[str]:
    out = set()
    for run in _CJK.findall(text):
        out.update(run[i:i + 2] for i in range(len(run) - 1))
    return out - _FUNCTION_PAIRS


def in_scope(question: str, hits: Sequence) -> bool:
    """Whether any hit shares a content word (or, in Chinese, a non-question character pair) with `question`."""
    terms = set(content_terms(question))
    pairs = _pairs(question)
    if not terms and not pairs:
        return bool(hits)  # nothing to match on ("?"): leave it to the relevance floor
    for h in hits:
        text = f"{h.heading}\n{h.text}"
        if terms & set(content_terms(text)):
            return True
        if pairs and pairs & _pairs(text):
            return True
    return False
