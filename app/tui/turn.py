"""Glue between the chat screen and the library: start one answer (plain or with knowledge).

No widgets here; the chat screen runs `start_turn` in a thread worker and iterates
`Turn.reply` for pieces. The answer itself comes from the one grounded-chat service
(`app.knowledge.grounded_chat`) that `bastion ask` and `serve` use too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.knowledge.grounded_chat import GroundedChat
from app.llm.engine import ChatEngine
from app.settings import Settings
from app.source import Source
from app.tui.knowledge_context import NO_KNOWLEDGE

if TYPE_CHECKING:
    from app.knowledge.answer import Answer
    from app.tui.knowledge_context import KnowledgeContext


@dataclass
class Turn:
    """An answer being written and the sources put in front of the model (numbered from 1)."""

    reply: "Answer"
    sources: list[Source] = field(default_factory=list)

    def cited(self) -> list[Source]:
        """The checked citations (with the sentences they back and the passage that backs them); when the
        answer cites none, every given source marked not cited."""
        return self.reply.source_list().shown()


def start_turn(question: str, *, settings: Settings, engine: ChatEngine, bundle: Any,
               history: list[dict], kb: str = NO_KNOWLEDGE, knowledge: "KnowledgeContext | None" = None) -> Turn:
    """Begin answering `question` after `history`, from knowledge choice `kb` (or none)."""
    es = settings.engine
    retriever = None if kb == NO_KNOWLEDGE or knowledge is None else knowledge.retriever(kb)
    chat = GroundedChat.open(settings, bundle, engine=engine, retriever=retriever, use_knowledge=retriever is not None)
    # a plain answer takes the settings' temperature, as it always did; a grounded one the engine's preset
    reply = chat.reply(question, history, max_tokens=es.max_tokens,
                       temperature=es.temperature if retriever is None else None)
    return Turn(reply, reply.source_list().given)
