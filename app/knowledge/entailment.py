"""Entailment: does a passage state what an answer sentence says, in other words?

The lexical checks (`app.knowledge.evidence`) accept a sentence that copies or
closely follows its source; a correct paraphrase ("use a slow salted hash such
as Argon2id" for "Argon2id ... should be used to store passwords") falls short
of them. `Entailment` asks the bundle's own chat model a constrained yes/no
question with the passage and the sentence. It is only asked about a sentence
that has already passed the hard vetoes (every number in the passage, every
identifier in the chunk, the same polarity): the model judges wording, never
facts the vetoes can check.

The judge shares the answering engine, which is busy while the answer streams,
so `Answer` asks it after generation ends (see `app.knowledge.answer`).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

JUDGE_SYSTEM = (
    "You check claims against a quoted passage. Judge only from the passage, never from what you know. "
    "A claim is stated when the passage says the same thing, in any words. It is not stated when it adds, "
    "changes or swaps a name, value, algorithm, header, step or condition, or says the opposite."
)
SCHEMA = {"type": "object", "properties": {"stated": {"type": "string", "enum": ["yes", "no"]}}, "required": ["stated"]}
MAX_PASSAGE_CHARS = 900


def judge_messages(claim: str, passage: str, heading: str = "") -> list[dict]:
    where = f" (from a section titled \"{heading.strip()[:120]}\")" if heading.strip() else ""
    user = (f"Passage{where}:\n\"\"\"\n{passage.strip()[:MAX_PASSAGE_CHARS]}\n\"\"\"\n\n"
            f"Claim: {claim.strip()}\n\nDoes the passage state this claim? Answer yes or no.")
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]


_NEG_EN = re.compile(r"\b(is|are|was|were|should|must|can|could|will|would|does|do|did|may|has|have)\b(?! not)", re.I)
_NEG_EN_OUT = re.compile(r"\b(is|are|was|were|should|must|can|could|will|would|does|do|did|may|has|have) not\b", re.I)
_NEG_ZH = re.compile(r"(不|没有|无法|禁止)")


def contrast(claim: str) -> str:
    """The claim turned into its opposite, for the contrast question: a judge that also says "yes" to it
    cannot tell the two apart, and its first "yes" carries no information."""
    text = claim.strip()
    if _CJK.search(text):
        if _NEG_ZH.search(text):
            return _NEG_ZH.sub("", text, count=1)
        return f"“{text.rstrip('。.！!')}”这一说法是错误的。"
    if _NEG_EN_OUT.search(text):
        return _NEG_EN_OUT.sub(lambda m: m.group(1), text, count=1)
    if _NEG_EN.search(text):
        return _NEG_EN.sub(lambda m: f"{m.group(1)} not", text, count=1)
    return "It is not true that " + text[:1].lower() + text[1:]


_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass
class Verdict:
    stated: bool
    seconds: float
    error: str = ""


@dataclass
class Entailment:
    """A yes/no judge on `engine` (anything with `chat_json`); at most `max_calls` per answer."""

    engine: object
    max_calls: int = 6
    contrast: bool = False
    """Also ask about the claim's opposite (`contrast()`); stated only on "yes" then "no" (two calls)."""
    calls: int = 0
    seconds: float = 0.0
    verdicts: list[Verdict] = field(default_factory=list)

    def stated(self, claim: str, passage: str, heading: str = "") -> bool:
        """Whether the passage states the claim (False when the call budget is spent or the judge fails)."""
        if not self._ask(claim, passage, heading):
            return False
        if not self.contrast:
            return True
        if self.calls >= self.max_calls:
            return False
        opposite = contrast(claim)
        if self._ask(opposite, passage, heading):
            log.info("entailment: the judge also says the opposite is stated: %r", opposite)
            return False
        return not self.verdicts[-1].error  # a failed contrast call confirms nothing

    def _ask(self, claim: str, passage: str, heading: str) -> bool:
        if self.calls >= self.max_calls:
            return False
        self.calls += 1
        t0 = time.perf_counter()
        try:
            out = self.engine.chat_json(judge_messages(claim, passage, heading), SCHEMA, max_tokens=16, temperature=0.0)
            verdict = Verdict(stated=isinstance(out, dict) and out.get("stated") == "yes", seconds=time.perf_counter() - t0)
        except Exception as exc:  # a judge that fails supports nothing: strict by default
            log.info("entailment check failed: %s", exc)
            verdict = Verdict(stated=False, seconds=time.perf_counter() - t0, error=str(exc))
        self.seconds += verdict.seconds
        self.verdicts.append(verdict)
        return verdict.stated
