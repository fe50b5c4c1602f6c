"""`GroundedChat`: the one service every front end asks for an answer (`bastion ask`, the TUI, `serve`).

It owns what used to be assembled three times: opening the retriever over the bundle index and the
user's knowledge bases, the follow-up-aware query, the scope check, the context budget (sources cut to
the bundle's token budget, then dropped from the bottom until the answer fits), the numbered-source
prompt and the checked `Answer`. Without knowledge it answers plainly, still as an `Answer` (no
sources), so a front end reads one type either way.

    chat = GroundedChat.open(settings, bundle, engine=engine)       # or GroundedChat(engine=..., retriever=...)
    reply = chat.reply("How do I store passwords?", history)        # stream: `for piece in reply`
    reply.source_list().shown()                                     # typed `Source`s for the UI

`serve` splits the two halves over its two worker threads: `retrieve()` on the embedder's, `start()`
on the chat engine's.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from app.chat import build_messages
from app.knowledge.answer import ANSWER_RESERVE, ENTAIL_CONTRAST, NO_SOURCES, Answer
from app.knowledge.followup import retrieval_query
from app.knowledge.prompt_format import build_rag_messages
from app.knowledge.retrieval import Hit, Retriever
from app.knowledge.scope import in_scope
from app.llm.engine import ChatEngine

log = logging.getLogger(__name__)

BUNDLE_KB = "bundle"
"""The name that stands for the bundle's own index in a list of knowledge bases to search."""


class GroundedChat:
    """Answers from `engine`, grounded in what `retriever` finds (plain answers when it is None)."""

    def __init__(self, *, engine: ChatEngine, system: str, retriever: Retriever | None = None, k: int = 5,
                 context_tokens: int = 0, warnings: list[str] | None = None, ground: bool = True,
                 entail: bool = True, contrast: bool | None = None) -> None:
        self.engine = engine
        self.system = system
        self.retriever = retriever
        self.k = k
        self.context_tokens = context_tokens
        """> 0: sources cut to this many tokens around what matches the question (`app.knowledge.lean`)."""
        self.warnings = list(warnings or [])
        """Why knowledge is off or partial (no embedder, no index, a knowledge base left out)."""
        self.ground = ground
        """False streams the model's text unchecked (for measuring the raw model)."""
        self.entail = entail
        self.contrast = ENTAIL_CONTRAST if contrast is None else contrast

    @classmethod
    def open(cls, settings: Any, bundle: Any, *, engine: ChatEngine, embedder: Any = None,
             kbs: list[str] | None = None, use_knowledge: bool = True, retriever: Retriever | None = None,
             system: str | None = None) -> "GroundedChat":
        """The service for `bundle` as the settings configure it: its prompt, context budget and `k`.

        `kbs` names the knowledge bases to search (`BUNDLE_KB` = the bundle's own index); None searches what
        the settings say. `embedder` defaults to the bundle's. A `retriever` the caller keeps open (the TUI
        keeps one per knowledge choice) is used as it is. `system` defaults to the bundle's chat prompt.
        """
        from app.prompts import context_tokens_for, load_prompts

        prompts = load_prompts(bundle.prompts_path if bundle is not None else None)
        warnings: list[str] = []
        if use_knowledge and retriever is None:
            retriever, warnings = open_retriever(settings, bundle, embedder=embedder, names=kbs)
        elif not use_knowledge:
            retriever = None
        return cls(engine=engine, system=prompts.chat_system if system is None else system, retriever=retriever,
                   k=settings.retrieval.k, context_tokens=context_tokens_for(prompts, settings), warnings=warnings)

    @property
    def knowledge(self) -> bool:
        """Whether answers are grounded in an index."""
        return self.retriever is not None

    # -- the two halves ---------------------------------------------------------------
    def retrieve(self, question: str, history: list[dict] | None = None) -> list[Hit]:
        """The sources for `question` (the conversation folded in for a follow-up); [] when none is in scope."""
        if self.retriever is None or not question.strip():
            return []
        hits = self.retriever.search(retrieval_query(question, history), k=self.k)
        return hits if hits and in_scope(question, hits) else []

    def start(self, question: str, history: list[dict] | None, hits: list[Hit], *, system: str | None = None,
              max_tokens: int | None = None, temperature: float | None = None,
              cancel: threading.Event | None = None) -> Answer:
        """Start the answer from `hits` (what `retrieve` found); nothing relevant: say so, never ask the model."""
        system = self.system if system is None else system
        query = retrieval_query(question, history) if self.retriever is not None else question
        if self.retriever is None:
            gen = self.engine.chat(build_messages(question, system=system, history=history), max_tokens=max_tokens,
                                   temperature=temperature, cancel=cancel)
            return Answer.plain(gen, question)
        if not hits:
            return Answer(hits=[], query=query, fixed_text=NO_SOURCES, question=question)
        hits = self.fit_sources(question, hits, system=system, max_tokens=max_tokens)
        gen = self.engine.chat(build_rag_messages(question, hits, system=system, history=history),
                               max_tokens=max_tokens, temperature=temperature, cancel=cancel)
        return Answer(hits=hits, query=query, generation=gen, question=question, embedder=self.retriever.embedder,
                      ground=self.ground, judge=self.engine if self.entail else None, contrast=self.contrast)

    def reply(self, question: str, history: list[dict] | None = None, **kw: Any) -> Answer:
        """Retrieve, then start the answer (keywords as `start`)."""
        return self.start(question, history, self.retrieve(question, history), **kw)

    # -- the context budget, worked out once -------------------------------------------
    def fit_sources(self, question: str, hits: list[Hit], *, system: str, max_tokens: int | None) -> list[Hit]:
        """The sources cut to the context budget, then the lowest-ranked dropped until the answer fits."""
        engine = self.engine
        if self.context_tokens > 0:
            from app.knowledge.lean import lean_hits

            hits = lean_hits(question, hits, budget_tokens=self.context_tokens, count_tokens=engine.count_tokens)
        reserve = (max_tokens or engine.max_tokens) + ANSWER_RESERVE
        kept = list(hits)
        while kept:
            msgs = build_rag_messages(question, kept, system=system)
            used = sum(engine.count_tokens(m["content"]) + 8 for m in msgs)
            if used + reserve <= engine.n_ctx:
                return kept
            kept.pop()
        return hits[:1]  # the budget check in the engine will explain what does not fit

    def close(self) -> None:
        if self.retriever is not None:
            self.retriever.close()


def open_retriever(settings: Any, bundle: Any, *, embedder: Any = None,
                   names: list[str] | None = None) -> tuple[Retriever | None, list[str]]:
    """A Retriever over the bundle index and the user's knowledge bases (or only `names`), with warnings;
    (None, warnings) when there is nothing to search. A knowledge base named explicitly that cannot be
    opened raises (`open_knowledge`)."""
    if bundle is None:
        return None, []
    if embedder is None:
        from app.runtime import make_embedder

        embedder = make_embedder(settings, bundle)
    if embedder is None:
        return None, [f"bundle {bundle.root} has no embedder: answering without knowledge"]
    from app.knowledge.registry import open_bundle_index, open_knowledge

    if names:
        user = [n for n in dict.fromkeys(names) if n != BUNDLE_KB]
        if user:
            kbs, warnings = open_knowledge(settings, bundle, embedder, names=user, use_bundle=BUNDLE_KB in names)
        else:
            kb = open_bundle_index(bundle, fingerprint=embedder.fingerprint)
            kbs, warnings = ([kb] if kb is not None else []), []
    else:
        kbs, warnings = open_knowledge(settings, bundle, embedder)
    if not kbs:
        return None, warnings + ["no knowledge index (bundle or `bastion ingest`): answering without sources"]
    from app.knowledge.cross_encoder import bundle_reranker

    return Retriever(kbs, embedder=embedder, min_score=settings.retrieval.min_score or None,
                     reranker=bundle_reranker(bundle)), warnings


def answer(question: str, *, engine: ChatEngine, retriever: Retriever, system: str,
           history: list[dict] | None = None, max_tokens: int | None = None, cancel: threading.Event | None = None,
           k: int = 5, ground: bool = True, context_tokens: int = 0, entail: bool = True,
           contrast: bool | None = None) -> Answer:
    """One grounded answer over `retriever` (the library call the benches and tests use; front ends hold a
    `GroundedChat`). `ground=False` streams the model's text unchecked; `entail=False` skips the
    entailment check; `context_tokens` > 0 cuts the sources to that budget."""
    chat = GroundedChat(engine=engine, system=system, retriever=retriever, k=k, context_tokens=context_tokens,
                        ground=ground, entail=entail, contrast=contrast)
    return chat.reply(question, history, max_tokens=max_tokens, cancel=cancel)
