"""Grounded-answering training examples (retrieval-augmented fine-tuning) in the app's RAG format.

From the corpus (chunked with the app's own chunker) and the user's Q&A records:

    question -> numbered <source> blocks (the answering chunk + BM25-retrieved distractors from
    other documents, built by `app.knowledge.prompt_format.build_rag_messages`) -> an answer
    whose every line cites [n]

Questions come from the Q&A records (answer: the record's own answer; its source: the corpus
chunk that covers it, else the answer text itself as a source) and from corpus headings
(answer: the section's own first sentences). A `refusal_fraction` of the questions is also shown
without its answering source (distractors only; none that overlaps the answer) and the target
declines with `NOT_COVERED`. Nothing in a target is invented:
every answer sentence is copied from the data.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from app.knowledge.chunking import Chunk, ChunkOptions, approx_tokens, chunk_document
from app.knowledge.lexical import BM25Index, tokenize
from app.knowledge.loaders import Document
from app.knowledge.prompt_format import build_rag_messages, cited_numbers
from app.knowledge.retrieval import Hit
from app.prompts import CHAT_SYSTEM

NOT_COVERED = "The sources do not answer this question, so I won't guess."
"""The trained refusal when no source answers (CITE_RULES: 'say that they do not')."""
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9`\"'(])")
_HEADING_Q = ("What do the sources say about {h}?", "Explain {h}.", "What should I know about {h}?")


@dataclass
class GroundedCounts:
    from_qa: int = 0
    from_headings: int = 0
    refusals: int = 0
    qa_source_from_corpus: int = 0
    too_long: int = 0
    chunks: int = 0
    held_out: int = 0
    """Questions not built because their answering file, or the question itself, is held out for the eval."""

    @property
    def built(self) -> int:
        return self.from_qa + self.from_headings + self.refusals


@dataclass
class GroundedItem:
    question: str
    answer: str
    answer_chunk: Chunk
    answer_source: str
    kind: str
    messages: list[dict] = field(default_factory=list)
    refusal: bool = False
    from_corpus: bool = True
    """Whether the answering source is a corpus chunk (the index holds it), not the Q&A answer itself."""


def _h(*parts: str) -> int:
    return int(hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12], 16)


def cite_lines(text: str, n: int) -> str:
    """The answer with [n] in every prose sentence (code blocks left alone)."""
    out, in_code = [], False
    for line in text.strip().splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
            out.append(line)
            continue
        if in_code or len(re.findall(r"[^\W\d_]", line)) < 3:
            out.append(line)
            continue
        out.append(" ".join(_cite_sentence(x, n) for x in _SENTENCE.split(line.rstrip())))
    return "\n".join(out)


def _cite_sentence(sentence: str, n: int) -> str:
    """'Text.' -> 'Text [n].' (the marker inside the sentence it supports)."""
    if sentence[-1:] in ".!?" and not sentence.endswith("..."):
        return f"{sentence[:-1]} [{n}]{sentence[-1]}"
    return f"{sentence} [{n}]"


def lead_sentences(text: str, *, max_chars: int = 320) -> str:
    """The first sentences of a section body (prose only), up to `max_chars`."""
    prose = " ".join(ln.strip() for ln in text.splitlines()
                     if ln.strip() and not ln.lstrip().startswith(("#", "```", "|", "-", "*", ">")))
    picked = ""
    for s in _SENTENCE.split(prose):
        if picked and len(picked) + len(s) > max_chars:
            break
        picked = f"{picked} {s}".strip()
    return picked if len(picked) >= 40 else ""


def corpus_chunks(docs: list[tuple[str, str]], *, max_tokens: int) -> list[tuple[str, Chunk]]:
    """(source, chunk) for every corpus document, chunked as the app chunks."""
    out = []
    for source, text in docs:
        kind = "markdown" if Path(source).suffix.lower() in (".md", ".markdown") else "text"
        opts = ChunkOptions(max_tokens=max_tokens, overlap_tokens=0)
        for c in chunk_document(Document(path=Path(source), text=text, kind=kind), options=opts):
            if len(c.text.strip()) >= 40:
                out.append((source, c))
    return out


def _coverage(answer: str, chunk: Chunk) -> float:
    want = set(tokenize(answer))
    return len(want & set(tokenize(chunk.embed_text))) / len(want) if want else 0.0


def _hit(source: str, c: Chunk, i: int) -> Hit:
    return Hit(id=f"{source}#{i}", text=c.text, source=source, heading=c.heading,
               start_line=c.start_line, end_line=c.end_line, score=0.0)


def build_grounded(qa: list[tuple[str, str, str]], docs: list[tuple[str, str]], *, seed: int,
                   sources_per_example: int = 3, refusal_fraction: float = 0.25, max_items: int = 2000,
                   max_seq_tokens: int = 2048, held_out_files: frozenset[str] | set[str] = frozenset(),
                   held_out_questions: frozenset[str] | set[str] = frozenset()) -> tuple[list[GroundedItem], GroundedCounts]:
    """Grounded items from Q&A records (question, answer, source file) and corpus docs (source, text).

    No item answers from a file named in `held_out_files` or asks a question in `held_out_questions`
    (the eval's test half, builder.eval_questions); those files may still appear as distractors."""
    counts = GroundedCounts()
    banned_q = {q.strip().lower() for q in held_out_questions}
    budget = max(60, min(200, (max_seq_tokens * 3 // 4 - 120) // max(1, sources_per_example)))
    chunks = corpus_chunks(docs, max_tokens=budget)
    counts.chunks = len(chunks)
    index = BM25Index.build([str(i) for i in range(len(chunks))], [c.embed_text for _, c in chunks]) if chunks else None

    items: list[GroundedItem] = []
    for q, a, src in qa:
        best = None
        if index is not None:
            for hit in index.search(f"{q}\n{a}", k=3):
                s, c = chunks[hit.index]
                if _coverage(a, c) >= 0.5:
                    best = (s, c)
                    break
        in_corpus = best is not None
        counts.qa_source_from_corpus += in_corpus
        if best is None:  # the record's own answer is the source the answer rests on
            best = (src, Chunk(text=a.strip(), heading="", start_line=1, end_line=max(1, a.count("\n") + 1)))
        items.append(GroundedItem(q.strip(), a.strip(), best[1], best[0], "qa", from_corpus=in_corpus))
    for s, c in chunks:
        head = c.heading.split(" > ")[-1].strip(" #") if c.heading else ""
        lead = lead_sentences(c.text)
        if len(head) < 6 or not lead:
            continue
        q = _HEADING_Q[_h(s, head, str(seed)) % len(_HEADING_Q)].format(h=head)
        items.append(GroundedItem(q, lead, c, s, "heading"))
    kept = [it for it in items if Path(it.answer_source).name not in held_out_files
            and it.question.strip().lower() not in banned_q]
    counts.held_out, items = len(items) - len(kept), kept
    seen: set[str] = set()
    items = [it for it in sorted(items, key=lambda it: _h(it.question, it.answer_source, str(seed)))
             if not (it.question.lower() in seen or seen.add(it.question.lower()))][:max_items]

    built: list[GroundedItem] = []
    for it in items:
        if not cited_numbers(cite_lines(it.answer, 1)):
            continue
        distractors = _distractors(it, chunks, index, k=sources_per_example - 1)
        answering = _hit(it.answer_source, it.answer_chunk, -1)
        pos_seed = _h("pos", it.question, str(seed))
        shown = _fit(it.question, it.answer, answering, distractors, pos_seed, max_seq_tokens)
        if shown is None:
            counts.too_long += 1
            continue
        variants = [shown]
        if (_h("refuse", it.question, str(seed)) % 1000) < refusal_fraction * 1000:
            # the same question with the answering source taken out: decline (only beside a kept answer,
            # so short refusals cannot outnumber answers that had to be dropped as too long)
            others = distractors or _distractors(it, chunks, index, k=sources_per_example)
            refusal = _fit(it.question, NOT_COVERED, None, others, pos_seed, max_seq_tokens)
            if refusal is None:
                counts.too_long += 1
            else:
                variants.append(refusal)
        for msgs in variants:
            answer = msgs[-1]["content"]
            refused = answer == NOT_COVERED
            built.append(GroundedItem(it.question, answer, it.answer_chunk, it.answer_source, it.kind, msgs, refused,
                                      it.from_corpus))
            counts.refusals += refused
            if not refused:
                counts.from_qa += it.kind == "qa"
                counts.from_headings += it.kind == "heading"
    return built, counts


def _fit(question: str, answer: str, answering: Hit | None, distractors: list[Hit], pos_seed: int,
         max_seq_tokens: int) -> list[dict] | None:
    """The example's messages with as many distractors as fit in `max_seq_tokens` (the answering source, when
    given, sits at a seeded position and the answer cites it); None when even the fewest sources do not fit."""
    for k in range(len(distractors), -1, -1):
        hits = list(distractors[:k])
        target = answer
        if answering is not None:
            pos = pos_seed % (k + 1)
            hits.insert(pos, answering)
            target = cite_lines(answer, pos + 1)
        if not hits:
            return None
        msgs = build_rag_messages(question, hits, system=CHAT_SYSTEM)
        msgs.append({"role": "assistant", "content": target})
        if sum(approx_tokens(m["content"]) + 8 for m in msgs) <= max_seq_tokens:
            return msgs
    return None


def _distractors(it: GroundedItem, chunks: list[tuple[str, Chunk]], index: BM25Index | None, *, k: int) -> list[Hit]:
    """Up to k chunks from other documents that BM25 ranks highest for the question."""
    if k <= 0 or index is None:
        return []
    out = []
    for hit in index.search(it.question, k=k + 10):
        s, c = chunks[hit.index]
        # never a chunk that might answer too: a "not covered" target must be true
        if s != it.answer_source and c.text != it.answer_chunk.text and _coverage(it.answer, c) < 0.3:
            out.append(_hit(s, c, hit.index))
        if len(out) == k:
            break
    return out
