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
    calls: int = 0
    seconds: float = 0.0
    verdicts: list[Verdict] = field(default_factory=list)

    def stated(self, claim: str, passage: str, heading: str = "") -> bool:
        """Whether the passage states the claim (False when the call budget is spent or the judge fails)."""
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
