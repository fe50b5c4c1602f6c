"""Whether the retrieved sources cover a question at all, in any language.

A multilingual embedder puts any Chinese question near any Chinese chunk
(怎么做红烧肉？ lands next to the Chinese SQL-injection note), so the dense
relevance floor cannot refuse an off-topic Chinese question. A question the
sources cover shares words with them: its own content words or its glossary
terms' English forms (`content_terms`).

Chinese has no spaces, so a Chinese question's other words are measured by
character: each content character (not a question or function character such
as 怎, 么, 的) is covered when it belongs to a glossary term or to a run of at
least three characters that a source also holds (two characters, like 需要 or
一次, are shared by any two Chinese texts). A Chinese question is in scope only
when at least half of its content characters are covered: 我忘了手机锁屏密码，怎么
找回照片？ names 密码 (password), which the sources cover, but its subject (手机锁屏,
照片) is nowhere in them.
"""

from __future__ import annotations

import re
from typing import Sequence

from app.knowledge.evidence import content_terms
from app.knowledge.glossary import _ZH_INDEX

_CJK = re.compile(r"[\u3400-\u9fff]+")
_FUNCTION_CHARS = frozenset("的了是在和与或及吗呢吧啊么怎什如何为哪些个这那我你他她它们有没不可能会要应该该就都也还"
                            "被把让对从向到于以之其而且但则所得地着过很更最一请问下呢呀么样多少几次时候通常一般好")
ZH_COVERAGE_MIN = 0.5
"""The share of a Chinese question's content characters the glossary or the sources must cover."""
RUN_MIN = 3
"""Characters a shared run needs to count as a word the question and a source have in common."""


def _runs(text: str) -> list[str]:
    return _CJK.findall(text)


def _glossary_spans(question: str) -> set[int]:
    """Positions of `question` inside a Chinese glossary term (security vocabulary the glossary translates)."""
    out: set[int] = set()
    for t, _ in _ZH_INDEX:
        for m in re.finditer(re.escape(t), question):
            out.update(range(m.start(), m.end()))
    return out


def _shared_spans(question: str, source_text: str) -> set[int]:
    """Positions of `question` inside a run of >= RUN_MIN CJK characters that `source_text` also holds."""
    out: set[int] = set()
    for run in _CJK.finditer(question):
        s = run.group(0)
        for i in range(len(s) - RUN_MIN + 1):
            j = i + RUN_MIN
            if s[i:j] in source_text:
                while j < len(s) and s[i:j + 1] in source_text:
                    j += 1
                out.update(range(run.start() + i, run.start() + j))
    return out


def zh_coverage(question: str, hits: Sequence) -> float | None:
    """The share of the question's Chinese content characters covered (None: it has none)."""
    content = [m.start() + k for m in _CJK.finditer(question) for k, ch in enumerate(m.group(0))
               if ch not in _FUNCTION_CHARS]
    if not content:
        return None
    covered = _glossary_spans(question)
    for h in hits:
        covered |= _shared_spans(question, f"{h.heading}\n{h.text}")
    return sum(1 for p in content if p in covered) / len(content)


def in_scope(question: str, hits: Sequence) -> bool:
    """Whether a hit shares a content word with `question` (and, for Chinese, covers what it is about)."""
    terms = set(content_terms(question))
    cov = zh_coverage(question, hits)
    if not terms and cov is None:
        return bool(hits)  # nothing to match on ("?"): leave it to the relevance floor
    if cov is not None and cov < ZH_COVERAGE_MIN:
        return False
    if cov is not None and not terms:
        return True  # covered by runs the sources hold
    return any(terms & set(content_terms(f"{h.heading}\n{h.text}")) for h in hits)
