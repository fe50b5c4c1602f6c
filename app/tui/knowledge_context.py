"""What the TUI keeps open for retrieval: the embedder and one Retriever per KB choice.

Thin glue over `app.knowledge` (no widgets): opening chroma and the embedder is
slow, so they are opened once, in a worker thread, and reused until a knowledge
base changes (ingest, remove) or the settings do.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from app.errors import BastionError

log = logging.getLogger(__name__)

# chroma shares one "system" per path between clients and is not safe to open/close from two
# threads at once; every open, close, list and remove the TUI does goes through this lock.
CHROMA_LOCK = threading.RLock()

ALL_KNOWLEDGE = "all"
BUNDLE_INDEX = "bundle"
NO_KNOWLEDGE = "none"


class KnowledgeContext:
    def __init__(self, settings, bundle, *, embedder: Any = None) -> None:
        self.settings = settings
        self.bundle = bundle
        self._embedder = embedder
        self._retrievers: dict[str, Any] = {}
        self._lock = threading.Lock()

    def embedder(self):
        """The bundle's embedder (made on first use); `BastionError` when the bundle has none."""
        if self._embedder is None:
            from app.runtime import make_embedder

            if self.bundle is None:
                raise BastionError("no bundle is open, so there is no embedder for knowledge",
                                   hint="open a bundle, or choose 'No knowledge'")
            self._embedder = make_embedder(self.settings, self.bundle)
            if self._embedder is None:
                raise BastionError(f"the bundle {self.bundle.root} has no embedder",
                                   hint="choose 'No knowledge' or use a bundle built with an embedder")
        return self._embedder

    def retriever(self, choice: str):
        """The Retriever for a selector value: 'all', 'bundle' or 'kb:<name>'."""
        with self._lock, CHROMA_LOCK:
            if choice not in self._retrievers:
                self._retrievers[choice] = self._open(choice)
            return self._retrievers[choice]

    def _open(self, choice: str):
        from app.knowledge.grounded_chat import BUNDLE_KB, open_retriever

        if choice == ALL_KNOWLEDGE:
            names = None
        elif choice == BUNDLE_INDEX:
            names = [BUNDLE_KB]
        elif choice.startswith("kb:"):
            names = [choice[3:]]
        else:
            raise ValueError(f"unknown knowledge choice {choice!r}")
        retriever, warnings = open_retriever(self.settings, self.bundle, embedder=self.embedder(), names=names)
        for w in warnings:
            log.warning("%s", w)
        if retriever is None:
            raise BastionError("no knowledge base to search", hint="add a folder on the Knowledge screen (F4), or choose 'No knowledge'")
        return retriever

    def invalidate(self) -> None:
        """Forget open retrievers (after an ingest or a removal)."""
        with self._lock, CHROMA_LOCK:
            old, self._retrievers = self._retrievers, {}
            for ret in old.values():
                try:
                    ret.close()
                except Exception as exc:  # closing is best effort
                    log.debug("closing retriever: %s", exc)

    def close(self) -> None:
        self.invalidate()
        if self._embedder is not None:
            self._embedder.close()
