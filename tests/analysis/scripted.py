"""A chat engine whose every answer is one fixed JSON object: the model layer's checks, not a model, under test.

It has the whole `ChatEngine` protocol (nothing loads), so the code under test calls it as it calls llama.cpp.
"""

from __future__ import annotations

import json
import threading

from app.llm.budget import fit_messages
from app.llm.engine import Generation, GenStats


class ScriptedJsonEngine:
    name = "scripted"
    n_ctx = 4096
    max_tokens = 512
    load_seconds = None
    loaded = True

    def __init__(self, answer: dict | None = None) -> None:
        self.answer = answer or {}

    def load(self) -> "ScriptedJsonEngine":
        return self

    def close(self) -> None:
        pass

    def count_tokens(self, text: str) -> int:
        return len(text) // 3

    def fit(self, messages, max_tokens):
        return fit_messages(messages, count=self.count_tokens, n_ctx=self.n_ctx, reserve=max_tokens)

    def chat(self, messages, *, max_tokens=None, temperature=None, json_schema=None, cancel=None) -> Generation:
        return Generation(iter([json.dumps(self.answer)]), GenStats(finish_reason="stop", completion_tokens=1),
                          cancel or threading.Event(), loop_guard=False)

    def chat_json(self, messages, schema, **kw):
        return self.chat(messages, json_schema=schema, **kw).result_json()
