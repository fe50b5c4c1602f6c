"""The token budget: fit a conversation into the context window, never silently.

Keeps the system prompt(s) and the newest user message, drops the oldest other
turns until the prompt plus the answer reserve fits, and reports how many were
dropped so the caller can say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from app.errors import EngineError

# Role markers, separators and the assistant header a chat template adds per message.
MESSAGE_OVERHEAD = 8


@dataclass(frozen=True)
class Budget:
    messages: list[dict]
    prompt_tokens: int
    dropped: int
    n_ctx: int
    reserve: int

    @property
    def used_fraction(self) -> float:
        return (self.prompt_tokens + self.reserve) / self.n_ctx


def message_tokens(msg: dict, count: Callable[[str], int]) -> int:
    return count(str(msg.get("content") or "")) + MESSAGE_OVERHEAD


def fit_messages(
    messages: list[dict], *, count: Callable[[str], int], n_ctx: int, reserve: int
) -> Budget:
    """Return the messages that fit `n_ctx - reserve` tokens, oldest turns dropped first."""
    if not messages:
        raise EngineError("no messages to send", hint="ask a question")
    limit = n_ctx - reserve
    sizes = [message_tokens(m, count) for m in messages]
    last = len(messages) - 1
    pinned = {i for i, m in enumerate(messages) if m.get("role") == "system"} | {last}
    pinned_total = sum(sizes[i] for i in pinned)
    if pinned_total > limit:
        raise EngineError(
            f"the prompt needs {pinned_total} tokens but only {limit} fit "
            f"(context {n_ctx}, {reserve} reserved for the answer)",
            hint="shorten the question, lower max_tokens, or raise engine.n_ctx in settings",
        )
    keep = set(range(len(messages)))
    total = sum(sizes)
    # Drop the oldest droppable turn until it fits.
    for i in range(len(messages)):
        if total <= limit:
            break
        if i in pinned:
            continue
        keep.discard(i)
        total -= sizes[i]
    kept = [m for i, m in enumerate(messages) if i in keep]
    return Budget(kept, total, len(messages) - len(kept), n_ctx, reserve)
