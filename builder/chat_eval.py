"""The chat model before vs after tuning, measured on the held-out instruction split.

Everything runs on the GGUF files through llama.cpp — the artefacts that ship, not the
training-time weights:
- response loss / perplexity: teacher-forced negative log-likelihood of the reference answer
  tokens (prompt tokens excluded), with the model's own chat template;
- for code-analysis items (the app's review prompt), a greedy unconstrained answer: does the app's
  own contract (`app.analysis.contract.parse_review`) accept it — the rate the app's
  schema-constrained path hides — do its confirm/dispute verdicts match the reference's, and
  does an extra finding name the reference's CWE?
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from builder.chat_text import GGUFTemplate, render_chat

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class ChatScores:
    items: int = 0
    tokens: int = 0
    nll: float = 0.0
    analysis_items: int = 0
    schema_valid: int = 0
    verdicts_correct: int = 0
    extra_cwe_correct: int = 0
    extra_expected: int = 0
    samples: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        loss = self.nll / self.tokens if self.tokens else float("nan")
        n = self.analysis_items
        return {
            "items": self.items,
            "response_tokens": self.tokens,
            "loss": round(loss, 4),
            "perplexity": round(math.exp(loss), 3) if self.tokens else None,
            "analysis_items": n,
            "schema_valid_rate": round(self.schema_valid / n, 4) if n else None,
            "verdict_accuracy": round(self.verdicts_correct / n, 4) if n else None,
            "extra_cwe_accuracy": round(self.extra_cwe_correct / self.extra_expected, 4) if self.extra_expected else None,
        }


def read_items(path: Path, *, limit: int) -> list[dict]:
    """Held-out SFT records (the data stage's val.jsonl): messages ending in the reference answer."""
    items = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            rec = json.loads(line)
            msgs = rec.get("messages") or []
            if len(msgs) >= 2 and msgs[-1].get("role") == "assistant":
                items.append(rec)
    # Code-analysis items first: they carry the figures the product cares most about.
    items.sort(key=lambda r: r.get("task") != "code_analysis")
    return items[:limit]


def review_answer(text: str, n_findings: int) -> dict | None:
    """The answer as the app's contract parses it (the whole text must be the JSON object); None if rejected."""
    from pydantic import ValidationError

    from app.analysis import contract

    try:
        return contract.parse_review(text.strip(), n_findings).model_dump()
    except (ValidationError, ValueError):
        return None


def verdicts(answer: dict | None) -> dict[str, str]:
    return {k: v["verdict"] for k, v in (answer or {}).items() if k != "extra"}


def extra_cwes(answer: dict | None) -> set[str]:
    return {e["cwe"] for e in (answer or {}).get("extra") or []}


class GGUFScorer:
    """One GGUF chat model opened for scoring (logits for every position) and greedy answers."""

    def __init__(self, path: Path, *, n_ctx: int, stop: Sequence[str] = ()) -> None:
        from app.llm.native_log import silence_native_logs

        silence_native_logs()
        import llama_cpp

        self.path = Path(path)
        self.n_ctx = n_ctx
        self.stop = list(stop)
        self.llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, logits_all=True, verbose=False, seed=0)
        meta = self.llm.metadata
        template = meta.get("tokenizer.chat_template")
        eos = self.llm.detokenize([self.llm.token_eos()]).decode("utf-8", "replace") if self.llm.token_eos() >= 0 else ""
        bos = self.llm.detokenize([self.llm.token_bos()]).decode("utf-8", "replace") if self.llm.token_bos() >= 0 else ""
        if not template:
            raise ValueError(f"{path} has no chat template")
        self.eos_text = eos
        self.template = GGUFTemplate(template, eos_token=eos, bos_token=bos)

    def prompt(self, messages: list[dict]) -> str:
        return render_chat(self.template, messages, reply_prompt=True)

    def response_nll(self, messages: list[dict]) -> tuple[float, int]:
        """(sum of -log p, tokens) of the last (assistant) message given the rest."""
        import numpy as np

        head = self.llm.tokenize(self.prompt(messages[:-1]).encode("utf-8"), add_bos=False, special=True)
        tail = self.llm.tokenize((messages[-1]["content"] + self.eos_text).encode("utf-8"), add_bos=False, special=True)
        room = self.n_ctx - len(head)
        if room < 8:
            return 0.0, 0
        tail = tail[:room]
        tokens = head + tail
        self.llm.reset()
        self.llm.eval(tokens)
        logits = np.asarray(self.llm.scores[len(head) - 1:len(tokens) - 1], dtype=np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        nll = -float(logp[np.arange(len(tail)), tail].sum())
        return nll, len(tail)

    def answer(self, messages: list[dict], *, max_tokens: int) -> str:
        """The greedy answer, cut to the room the context leaves after the prompt ("" when it leaves almost none):
        one long held-out record must not end the whole eval stage."""
        prompt = len(self.llm.tokenize(self.prompt(messages[:-1]).encode("utf-8"), add_bos=False, special=True))
        max_tokens = min(max_tokens, self.n_ctx - prompt - 1)
        if max_tokens < 16:
            log.info("chat eval: a %d-token prompt leaves no room to answer in %d tokens of context", prompt, self.n_ctx)
            return ""
        self.llm.reset()
        out = self.llm.create_chat_completion(messages=messages[:-1], max_tokens=max_tokens, temperature=0.0,
                                              stop=self.stop or None, seed=0)
        return out["choices"][0]["message"]["content"] or ""

    def close(self) -> None:
        self.llm.close()


def score_model(path: Path, items: Sequence[dict], *, n_ctx: int, stop: Sequence[str] = (), max_tokens: int = 256,
                progress: Progress = lambda m: None, label: str = "") -> ChatScores:
    scores = ChatScores()
    scorer = GGUFScorer(path, n_ctx=n_ctx, stop=stop)
    try:
        for i, rec in enumerate(items, 1):
            msgs = [{"role": m["role"], "content": m["content"]} for m in rec["messages"]]
            nll, n = scorer.response_nll(msgs)
            scores.items += 1
            scores.nll += nll
            scores.tokens += n
            if rec.get("task") == "code_analysis":
                ref = json.loads(msgs[-1]["content"])
                n_findings = len(verdicts(ref))
                got_text = scorer.answer(msgs, max_tokens=max_tokens)
                got = review_answer(got_text, n_findings)
                scores.analysis_items += 1
                scores.schema_valid += got is not None
                scores.verdicts_correct += got is not None and verdicts(got) == verdicts(ref)
                if extra_cwes(ref):
                    scores.extra_expected += 1
                    scores.extra_cwe_correct += bool(extra_cwes(got) & extra_cwes(ref))
                if len(scores.samples) < 3:
                    scores.samples.append({"reference": ref, "answer": got_text[:600], "accepted": got is not None})
            progress(f"eval {label}: {i}/{len(items)} held-out items")
    finally:
        scorer.close()
    return scores
