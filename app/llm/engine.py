"""The llama.cpp chat engine: lazy load, streaming, cancel, JSON-schema output, budget.

`LlamaEngine` owns one `llama_cpp.Llama`. Generation is serialised by a lock
(a llama.cpp context is not thread-safe); callers stream by iterating a
`Generation`, and cancel with `Generation.cancel()` or a `threading.Event`.

Sampling comes from a `Sampling` preset (the bundle's, overridable in settings).
Every `Generation` runs a `LoopDetector`: text is released a sentence at a time,
and a sentence that repeats an earlier one (or a run of words repeating itself)
stops decoding; the repeat is never shown and `finish_reason` is "loop".
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import GeneratorType
from typing import Any, Generator, Iterable, Iterator, Protocol

from app.errors import EngineError
from app.llm.budget import Budget, fit_messages

log = logging.getLogger(__name__)


@dataclass
class GenStats:
    """What one generation cost; shown in the status line and `--json` output."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    ttft_s: float | None = None
    total_s: float = 0.0
    tokens_per_s: float = 0.0
    dropped_messages: int = 0
    context_used: float = 0.0
    cancelled: bool = False
    finish_reason: str | None = None
    """"stop", "length" (hit max_tokens), "loop" (stopped repeating itself), "cancelled"."""
    loop_trimmed_chars: int = 0
    """Characters of repeated text withheld when a loop was stopped."""
    warnings: list[str] = field(default_factory=list)
    """"code: message" lines about the answer (truncated, loop-stopped; the knowledge layer adds
    extractive, uncited, citations-removed). Shown by the CLI, the TUI, `serve`; kept in history."""


class StreamMeter:
    """Times one stream: first-token time, pieces, total time and decode speed, written into its `GenStats`.

    The in-process engine and the remote one both meter with it, so TTFT and tokens per second mean the
    same thing in the status line, `--json` and the benches. Start it when the request goes out, call
    `piece()` per text piece and `finish()` once, in a `finally`.
    """

    def __init__(self, stats: GenStats) -> None:
        self.stats = stats
        self.t0 = time.perf_counter()
        self.t_first: float | None = None
        self.pieces = 0

    def piece(self) -> None:
        self.pieces += 1
        if self.t_first is None:
            self.t_first = time.perf_counter()
            self.stats.ttft_s = self.t_first - self.t0

    def finish(self) -> None:
        end = time.perf_counter()
        s = self.stats
        s.total_s = end - self.t0
        s.completion_tokens = self.pieces
        if self.t_first is not None and self.pieces > 1 and end > self.t_first:
            s.tokens_per_s = (self.pieces - 1) / (end - self.t_first)


TRUNCATED = "the answer hit the token limit and may be cut off"
LOOP_STOPPED = "the model started repeating itself; the repeat was cut"


def finish_warnings(stats: GenStats) -> list[str]:
    """The warnings a finish reason implies."""
    if stats.finish_reason == "length":
        return [f"truncated: {TRUNCATED}"]
    if stats.finish_reason == "loop":
        return [f"loop-stopped: {LOOP_STOPPED}"]
    return []


@dataclass
class Sampling:
    """A sampling preset. None = llama.cpp's default for that knob."""

    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    min_p: float | None = None
    repeat_penalty: float | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None

    def params(self) -> dict[str, Any]:
        """The llama-cpp-python keyword arguments for the knobs that are set (temperature excluded)."""
        return {k: v for k, v in vars(self).items() if v is not None and k != "temperature"}

    def merged(self, other: "Sampling | dict | None") -> "Sampling":
        """This preset with every knob `other` sets replacing ours."""
        if other is None:
            return self
        items = other.items() if isinstance(other, dict) else vars(other).items()
        known = set(vars(self))
        return Sampling(**{**vars(self), **{k: v for k, v in items if v is not None and k in known}})


_SENT_END = re.compile(r"[.!?。！？:]\s|[。！？]|\n")
_CITES = re.compile(r"\[\d{1,2}(?:\s*[,;]\s*\d{1,2})*\]")
_NORM = re.compile(r"^\s*(?:[-*+>]|\d+[.)])\s*|[^\w\u3400-\u9fff]+")


class LoopDetector:
    """Stops a generation at the first repeat; the repeating text is never released.

    `feed(piece)` returns the text that is safe to show now: everything except a tail
    that could be the start of a repeat (a sentence so far equal to the start of an
    earlier sentence, or trailing words that already occurred in that order). `.looped`
    turns True when a sentence repeats an earlier one (list numbering and citations
    ignored), a run of `ngram` words repeats, or one word repeats `same_word` times in
    a row; the repeating text is kept back (`.withheld`).
    """

    def __init__(self, *, min_chars: int = 12, ngram: int = 8, max_hold: int = 400, same_word: int = 6) -> None:
        self.min_chars = min_chars
        self.ngram = ngram
        self.max_hold = max_hold
        self.same_word = same_word
        self.seen: set[str] = set()
        self.words: list[str] = []
        """Words of the finished sentences."""
        self.sentence = ""
        """The released part of the sentence being written."""
        self.hold = ""
        self.looped = False
        self.withheld = ""
        self._in_code = False

    def feed(self, piece: str) -> str:
        if self.looped:
            return ""
        self.hold += piece
        out = ""
        while True:
            m = _SENT_END.search(self.hold)
            if not m:
                break
            part, self.hold = self.hold[: m.end()], self.hold[m.end():]
            released, cut = self._finish_sentence(part)
            out += released
            if cut:
                return out
        cut = None if self._in_code else self._ngram_loop(self.sentence + self.hold)
        if cut is not None:
            self.looped = True
            keep = max(cut - len(self.sentence), 0)
            out += self.hold[:keep]
            self.withheld, self.hold = self.hold[keep:], ""
            return out
        safe = len(self.hold) if len(self.hold) > self.max_hold else len(self.hold) - self._unsafe_tail()
        if safe > 0:
            out += self.hold[:safe]
            self.sentence += self.hold[:safe]
            self.hold = self.hold[safe:]
        return out

    def flush(self) -> str:
        """The held-back tail at the end of a generation (up to where it starts repeating)."""
        if self.looped or not self.hold:
            return ""
        part, self.hold = self.hold, ""
        released, _ = self._finish_sentence(part)
        return released

    def _finish_sentence(self, part: str) -> tuple[str, bool]:
        """Close the sentence `self.sentence + part`: (text to release, stopped)."""
        full = self.sentence + part
        cut = self._repeats(full)
        self.sentence = ""
        if cut is None:
            return part, False
        keep = max(cut - (len(full) - len(part)), 0)
        self.withheld = part[keep:] + self.hold
        self.hold = ""
        return part[:keep], True

    def _unsafe_tail(self) -> int:
        """Characters at the end of the hold that might begin a repeat (a word still being written included)."""
        if not self.hold:
            return 0
        m = re.search(r"\w+$", self.hold)
        partial = len(self.hold) - m.start() if m else 0  # never release half a word
        if self._in_code:
            return partial
        text = self.sentence + self.hold
        key = _NORM.sub(" ", _CITES.sub(" ", text.lower())).strip()
        if self.seen and any(k.startswith(key) for k in self.seen):
            return len(self.hold)
        found = [(w.group(0).lower(), w.start()) for w in re.finditer(r"\w+", text[: len(text) - partial])]
        words = self.words + [w for w, _ in found]
        for n in range(min(self.ngram - 1, len(words) - 1), 1, -1):
            tail = words[-n:]
            if any(words[j:j + n] == tail for j in range(len(words) - n)):
                start = found[-n][1] if n <= len(found) else 0
                return max(len(text) - max(start, len(self.sentence)), partial)
        return partial

    def _repeats(self, sentence: str) -> int | None:
        """Offset in `sentence` where repetition starts (0: the whole sentence repeats), or None."""
        if sentence.lstrip().startswith("```"):
            self._in_code = not self._in_code
        if self._in_code:
            return None
        key = _NORM.sub(" ", _CITES.sub(" ", sentence.lower())).strip()
        if len(key) >= self.min_chars and (len(key.split()) >= 3 or not key.isascii()):
            if key in self.seen:
                self.looped = True
                return 0
            self.seen.add(key)
        cut = self._ngram_loop(sentence)
        if cut is not None:
            self.looped = True
            return cut
        self._remember_words(sentence)
        return None

    def _remember_words(self, text: str) -> None:
        self.words.extend(re.findall(r"\w+", text.lower()))

    def _ngram_loop(self, text: str) -> int | None:
        """Offset in `text` where a repetition starts, or None."""
        new = [(m.group(0).lower(), m.start()) for m in re.finditer(r"\w+", text)]
        words = self.words + [w for w, _ in new]
        base = len(self.words)
        run = 1
        for i in range(1, len(words)):
            run = run + 1 if words[i] == words[i - 1] else 1
            if run >= self.same_word and i >= base:
                j = i - run + 2  # keep the first occurrence
                return new[max(j - base, 0)][1] if j >= base else 0
        n = self.ngram
        grams: dict[tuple[str, ...], int] = {}
        for i in range(len(words) - n + 1):
            g = tuple(words[i:i + n])
            if g in grams and i >= base:
                return new[i - base][1]
            grams.setdefault(g, i)
        return None


class Generation:
    """A streaming answer: iterate for text pieces; `.text` and `.stats` after.

    Text passes through a `LoopDetector` (`loop_guard=False` turns it off, e.g. for
    JSON output): a repeating generation is stopped and `stats.finish_reason` is "loop".
    """

    def __init__(self, pieces: Iterable[str], stats: GenStats, cancel: threading.Event, *, loop_guard: bool = True) -> None:
        # a generator, so that stopping early (a loop) can close it and stop decoding at once
        self._pieces: Generator[str, None, None] = pieces if isinstance(pieces, GeneratorType) else (p for p in pieces)
        self.stats = stats
        self._cancel = cancel
        self.text = ""
        self._done = False
        self._guard = LoopDetector() if loop_guard else None

    def __iter__(self) -> Iterator[str]:
        if self._done:
            return
        guard = self._guard
        for piece in self._pieces:
            if guard is None:
                self.text += piece
                yield piece
                continue
            out = guard.feed(piece)
            if out:
                self.text += out
                yield out
            if guard.looped:
                break
        if guard is not None:
            if guard.looped:
                self._pieces.close()  # stops decoding now
            tail = "" if self._cancel.is_set() else guard.flush()  # a cancelled answer ends where it was
            if tail:
                self.text += tail
                yield tail
            if guard.looped or guard.withheld:
                self.stats.finish_reason = "loop"
                self.stats.loop_trimmed_chars = len(guard.withheld)
        self.stats.warnings = finish_warnings(self.stats)
        self._done = True

    def cancel(self) -> None:
        self._cancel.set()

    def result(self) -> str:
        """Consume the rest of the stream and return the whole text."""
        if not self._done:
            for _ in self:
                pass
        return self.text

    def result_json(self, *, whose: str = "the model's",
                    hint: str = "raise max_tokens so the JSON answer is not cut off") -> Any:
        """The whole text of a schema-constrained completion, parsed (an EngineError when it was cut off)."""
        text = self.result()
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise EngineError(f"{whose} constrained answer did not parse ({exc}; finish: {self.stats.finish_reason})",
                              hint=hint) from None


class Reply(Protocol):
    """A streamed reply, whoever wrote it: iterate for text pieces; `.text` and `.stats` after.

    `Generation` (the model's raw text) and `app.knowledge.Answer` (checked, with citations) both are one.
    """

    text: str
    stats: GenStats

    def __iter__(self) -> Iterator[str]: ...

    def cancel(self) -> None: ...

    def result(self) -> str: ...


class ChatEngine(Protocol):
    """What the app needs from a chat model: in-process llama.cpp, the resident engine or a remote server.

    Every engine has all of it (a remote one loads nothing: `loaded` is True, `load()` returns at once),
    so callers never probe for a method.
    """

    name: str
    n_ctx: int
    load_seconds: float | None

    @property
    def max_tokens(self) -> int:
        """The answer length when a call does not say."""

    @property
    def loaded(self) -> bool: ...

    def load(self) -> object: ...

    def close(self) -> None: ...

    def count_tokens(self, text: str) -> int: ...

    def fit(self, messages: list[dict], max_tokens: int) -> Budget: ...

    def chat(
        self,
        messages: list[dict],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        json_schema: dict | None = None,
        cancel: threading.Event | None = None,
    ) -> Generation: ...

    def chat_json(self, messages: list[dict], schema: dict, **kw: Any) -> Any: ...


@dataclass
class EngineConfig:
    n_ctx: int = 4096
    n_threads: int | None = None
    n_gpu_layers: int = 0
    temperature: float = 0.2
    max_tokens: int = 512
    seed: int = 0
    stop: list[str] = field(default_factory=list)
    chat_template: str | None = None
    sampling: Sampling = field(default_factory=Sampling)
    """Top-k/top-p/min-p and penalties (the bundle's preset merged with settings); its
    temperature, when set, is used instead of `temperature`."""
    prompt_lookup: int = 0
    """Prompt-lookup (n-gram) speculative decoding: up to this many tokens drafted per step from text
    already in the prompt; 0 = off. Taken only when the model's weights are of types llama.cpp
    evaluates batch-exactly and a probe at load confirms it (`app.llm.lookup`); then the text is
    the one plain decoding writes. See `LlamaEngine.lookup`."""
    exact_batches: bool | None = None
    """Run attention through llama.cpp's flash-attention kernel, whose logits do not depend on how
    many tokens share a batch (the default kernel's do, by up to ~0.9 logit here), which prompt-lookup
    needs. None = on exactly when the weights are of batch-exact types, so that switching prompt-lookup
    on or off never changes the text. Costs here (SmolLM2, 1,100 tokens of context): prefill ~10%
    faster, one-token decoding ~30% slower, which prompt-lookup wins back where it drafts."""
    prompt_cache: Any = None
    """A llama-cpp-python prompt cache from `app.llm.prompt_cache.make_prompt_cache`; None = only the
    live context's common prefix is reused."""


class LlamaEngine:
    """A chat model in a GGUF file, run in-process by llama.cpp."""

    def __init__(self, model_path: Path, config: EngineConfig | None = None, *, context_length: int | None = None) -> None:
        self.model_path = Path(model_path)
        self.config = config or EngineConfig()
        # Never ask for more context than the model was trained for.
        self.n_ctx = min(self.config.n_ctx, context_length) if context_length else self.config.n_ctx
        self.name = self.model_path.name
        self._llm = None
        self._load_lock = threading.Lock()
        self._gen_lock = threading.Lock()
        self.load_seconds: float | None = None
        self.lookup = None
        """`app.llm.lookup.LookupStatus` once loaded with prompt_lookup > 0 (why it is on or off)."""

    # -- loading -------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._llm is not None

    @property
    def max_tokens(self) -> int:
        return self.config.max_tokens

    def load(self):
        """Load the model once (thread-safe); later calls return it."""
        if self._llm is not None:
            return self._llm
        with self._load_lock:
            if self._llm is None:
                self._llm = self._open()
        return self._llm

    def _open(self):
        if not self.model_path.is_file():
            raise EngineError(f"model file not found: {self.model_path}", hint="check the bundle with `bastion bundle verify`")
        from app.llm.gguf_check import ensure_checked
        from app.llm.native_log import silence_native_logs

        ensure_checked(self.model_path)  # header and tensor table, before llama.cpp trusts them

        silence_native_logs()

        kwargs: dict[str, Any] = dict(
            model_path=str(self.model_path),
            n_ctx=self.n_ctx,
            n_gpu_layers=self.config.n_gpu_layers,
            seed=self.config.seed,
            verbose=False,
        )
        if self.config.n_threads:
            kwargs["n_threads"] = self.config.n_threads
        from app.llm.lookup import LookupStatus, exact_llama_class, flash_attention_for, source_lookup_class, weights_block_lookup

        blocked = weights_block_lookup(self.model_path)  # from the header: None when batch-exact types only
        exact = flash_attention_for(self.model_path, self.config.exact_batches)
        kwargs["flash_attn"] = exact
        llama_class = exact_llama_class()
        lookup = self.config.prompt_lookup
        if lookup and (blocked or not exact):
            why = blocked or "off: exact_batches is off (the default attention kernel rounds differently in a batch)"
            self.lookup = LookupStatus(lookup, False, why)
            log.info("prompt-lookup %s", self.lookup.reason)
            lookup = 0
        elif lookup:
            kwargs["draft_model"] = source_lookup_class()(lookup)
            kwargs["check_span"] = lookup + 1
        t0 = time.perf_counter()
        try:
            llm = llama_class(**kwargs)
        except (ValueError, RuntimeError) as exc:
            raise EngineError(
                f"llama.cpp could not load {self.model_path}: {exc}",
                hint="the file may be truncated or not a GGUF; run `bastion bundle verify`",
            ) from None
        if self.config.chat_template:  # a bundle's template: rendered in a bounded child process
            from app.bundle.chat_template import guarded_chat_handler

            llm.chat_handler = guarded_chat_handler(llm, self.config.chat_template)
        if self.config.prompt_cache is not None:
            llm.set_cache(self.config.prompt_cache)
        if lookup:
            self._check_lookup(llm)
        self.load_seconds = time.perf_counter() - t0
        log.info("loaded %s in %.2fs", self.model_path.name, self.load_seconds)
        return llm

    def _check_lookup(self, llm) -> None:
        """Keep prompt-lookup only if this model's batched logits equal its one-at-a-time ones."""
        from app.llm.lookup import LookupStatus, remembered_probe

        n = self.config.prompt_lookup
        t0 = time.perf_counter()
        exact, remembered = remembered_probe(llm, self.model_path, n + 1)
        took = time.perf_counter() - t0
        if exact:
            self.lookup = LookupStatus(n, True, f"on: {n} draft tokens; batched logits are bit-identical to one-at-a-time"
                                                f"{' (probe remembered)' if remembered else ''}", took)
        else:
            llm.draft_model = None  # plain decoding: the check batch would round differently and change the text
            self.lookup = LookupStatus(n, False, "off: this model's batched logits differ from one-at-a-time ones "
                                                 "on the probe, so drafts could change the text", took)
        log.info("prompt-lookup %s", self.lookup.reason)

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None

    # -- tokens ----------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        llm = self.load()
        return len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def fit(self, messages: list[dict], max_tokens: int) -> Budget:
        return fit_messages(messages, count=self.count_tokens, n_ctx=self.n_ctx, reserve=max_tokens)

    # -- generation --------------------------------------------------------------
    def chat(
        self,
        messages: list[dict],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        json_schema: dict | None = None,
        cancel: threading.Event | None = None,
    ) -> Generation:
        """Start a streaming chat completion; iterate the result for text pieces."""
        max_tokens = max_tokens or self.config.max_tokens
        cancel = cancel or threading.Event()
        stats = GenStats()
        budget = self.fit(messages, max_tokens)
        stats.dropped_messages = budget.dropped
        stats.prompt_tokens = budget.prompt_tokens
        stats.context_used = budget.used_fraction
        if budget.dropped:
            log.info("context budget: dropped %d oldest message(s)", budget.dropped)
        sampling = self.config.sampling
        default_t = sampling.temperature if sampling.temperature is not None else self.config.temperature
        params: dict[str, Any] = dict(
            messages=budget.messages,
            max_tokens=max_tokens,
            temperature=default_t if temperature is None else temperature,
            seed=self.config.seed,
            stream=True,
        )
        if json_schema is None:
            params.update(sampling.params())  # penalties would distort constrained JSON
        if self.config.stop:
            params["stop"] = list(self.config.stop)
        if json_schema is not None:
            params["response_format"] = {"type": "json_object", "schema": json_schema}
        return Generation(self._stream(params, stats, cancel), stats, cancel, loop_guard=json_schema is None)

    def _stream(self, params: dict, stats: GenStats, cancel: threading.Event) -> Iterator[str]:
        llm = self.load()
        with self._gen_lock:
            meter = StreamMeter(stats)
            it = llm.create_chat_completion(**params)  # stream=True: a generator
            try:
                for chunk in it:
                    if cancel.is_set():
                        stats.cancelled = True
                        stats.finish_reason = "cancelled"
                        break
                    choice = chunk["choices"][0]
                    piece = choice.get("delta", {}).get("content") or ""
                    if choice.get("finish_reason"):
                        stats.finish_reason = choice["finish_reason"]
                    if piece:
                        meter.piece()
                        yield piece
            finally:
                it.close()  # stops llama.cpp decoding at once on cancel
                meter.finish()

    def chat_json(self, messages: list[dict], schema: dict, **kw: Any) -> Any:
        """A completion constrained by a JSON schema, parsed."""
        return self.chat(messages, json_schema=schema, **kw).result_json()

    @property
    def metadata(self) -> dict:
        return dict(self.load().metadata)
