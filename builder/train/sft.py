"""Tokenising for SFT with the tokenizer's own chat template; loss on assistant tokens only.

`encode_chat` renders the whole conversation with the tokenizer's template (builder.chat_text), finds each assistant
reply (and the end-of-turn token right after it) in the rendered text, and labels only the
tokens whose characters fall inside those spans; everything else gets -100. If the template does
not end the final reply with the EOS token, EOS is appended (and learned).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from builder.chat_text import render_chat

IGNORE = -100


class TemplateMismatch(ValueError):
    """The rendered template does not contain a message's text verbatim."""


def assistant_spans(text: str, messages: list[dict], *, end_markers: list[str]) -> list[tuple[int, int]]:
    spans = []
    cursor = 0
    for m in messages:
        content = m["content"].strip()
        at = text.find(content, cursor)
        if at < 0:
            raise TemplateMismatch(f"{m['role']} message not found verbatim in the rendered template")
        end = at + len(content)
        if m["role"] == "assistant":
            for mark in end_markers:
                if mark and text.startswith(mark, end):
                    end += len(mark)
                    break
            spans.append((at, end))
        cursor = end
    return spans


def encode_chat(tok, messages: list[dict], *, max_len: int) -> tuple[list[int], list[int], bool]:
    """(input_ids, labels, truncated). Labels are -100 outside assistant replies."""
    text = render_chat(tok, messages)
    eos = tok.eos_token or ""
    spans = assistant_spans(text, messages, end_markers=[eos])
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(enc["input_ids"])
    labels = [IGNORE] * len(ids)
    si = 0
    for i, (s, e) in enumerate(enc["offset_mapping"]):
        while si < len(spans) and s >= spans[si][1]:
            si += 1
        if si < len(spans) and spans[si][0] <= s < spans[si][1] and e > s:
            labels[i] = ids[i]
    last_label = max((i for i, lab in enumerate(labels) if lab != IGNORE), default=-1)
    if tok.eos_token_id is not None and (last_label < 0 or ids[last_label] != tok.eos_token_id):
        ids.append(tok.eos_token_id)  # the template did not close the reply with EOS: append it
        labels.append(tok.eos_token_id)
    truncated = len(ids) > max_len
    return ids[:max_len], labels[:max_len], truncated


def pack_corpus(tok, texts: list[str], *, block: int) -> list[list[int]]:
    """Continued pre-training blocks: texts + EOS, concatenated and cut into `block`-token pieces."""
    stream: list[int] = []
    for t in texts:
        stream += tok(t, add_special_tokens=False)["input_ids"]
        if tok.eos_token_id is not None:
            stream.append(tok.eos_token_id)
    blocks = [stream[i:i + block] for i in range(0, len(stream), block)]
    return [b for b in blocks if len(b) >= 16]


@dataclass
class Encoded:
    input_ids: list[list[int]] = field(default_factory=list)
    labels: list[list[int]] = field(default_factory=list)
    truncated: int = 0
    dropped: int = 0
    response_tokens: int = 0
    prompt_tokens: int = 0

    def dataset(self):
        from datasets import Dataset

        return Dataset.from_dict({"input_ids": self.input_ids, "labels": self.labels})

    def stats(self) -> dict:
        return {"examples": len(self.input_ids), "truncated": self.truncated, "dropped": self.dropped,
                "response_tokens": self.response_tokens, "prompt_tokens": self.prompt_tokens}


def encode_file(tok, path: Path, *, max_len: int, task: str | None = None, limit: int | None = None) -> Encoded:
    """Tokenised records of a JSONL file (only those of `task` when given, at most `limit`)."""
    out = Encoded()
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        if task is not None and rec.get("task") != task:
            continue
        if limit is not None and len(out.input_ids) >= limit:
            break
        try:
            ids, labels, trunc = encode_chat(tok, rec["messages"], max_len=max_len)
        except TemplateMismatch:
            out.dropped += 1
            continue
        n_resp = sum(1 for x in labels if x != IGNORE)
        if n_resp == 0:  # the reply was cut off entirely
            out.dropped += 1
            continue
        out.truncated += trunc
        out.input_ids.append(ids)
        out.labels.append(labels)
        out.response_tokens += n_resp
        out.prompt_tokens += len(ids) - n_resp
    return out


def read_corpus(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(x)["text"] for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
