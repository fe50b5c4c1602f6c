"""Retrieval training data: (query, positives, negatives) triplets.

Three ways in:
- `read_triplets(path)`: JSONL records `{"query", "pos"|"positive", "neg"|"negative"}`, each
  side a string or a list of strings; every malformed record is reported with file:line and field.
- `pairs_from_markdown(files)`: when the user has none, heading -> section text and
  question-like line -> the passage after it, from a Markdown corpus.
- `mine_hard_negatives(...)`: the base embedder's top-ranked passages that are not positives.

`split_by_document` holds out an evaluation split that shares no source document with training,
so the held-out figures measure generalisation to unseen documents, not memorisation.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

from app.errors import BastionError

_QUERY_KEYS = ("query", "anchor", "question")
_POS_KEYS = ("pos", "positive", "positives")
_NEG_KEYS = ("neg", "negative", "negatives")
_MAX_REPORTED = 10


@dataclass(frozen=True)
class Triplet:
    """One training query with its relevant passages and (optional) hard negatives."""

    query: str
    positives: tuple[str, ...]
    negatives: tuple[str, ...] = ()
    doc: str = ""
    """The source document the positives come from (the unit of the train/eval split)."""


@dataclass(frozen=True)
class Passage:
    text: str
    doc: str
    title: str = ""


@dataclass
class TripletSet:
    """Triplets plus the passage pool they were drawn from (used for mining and evaluation)."""

    triplets: list[Triplet]
    passages: list[Passage] = field(default_factory=list)

    def corpus(self) -> list[str]:
        """Every distinct passage text: the pool, positives and negatives, in a stable order."""
        seen: dict[str, None] = {}
        for p in self.passages:
            seen.setdefault(p.text, None)
        for t in self.triplets:
            for s in (*t.positives, *t.negatives):
                seen.setdefault(s, None)
        return list(seen)


# --------------------------------------------------------------------------- JSONL records


def _texts(value: object) -> tuple[str, ...] | None:
    """A string or a list of non-empty strings -> tuple; anything else -> None."""
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else None
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(v.strip() for v in value)
    return None


def _pick(rec: dict, keys: Sequence[str]) -> tuple[str | None, object]:
    for k in keys:
        if k in rec:
            return k, rec[k]
    return None, None


def parse_record(rec: object, where: str) -> tuple[Triplet | None, str | None]:
    """Validate one decoded record; returns (triplet, None) or (None, problem naming the field)."""
    if not isinstance(rec, dict):
        return None, f"{where}: record is a {type(rec).__name__}, expected a JSON object"
    qkey, q = _pick(rec, _QUERY_KEYS)
    if qkey is None:
        return None, f"{where}: field 'query' is missing"
    if not isinstance(q, str) or not q.strip():
        return None, f"{where}: field {qkey!r} must be a non-empty string (got {q!r:.60})"
    pkey, p = _pick(rec, _POS_KEYS)
    if pkey is None:
        return None, f"{where}: field 'pos' (or 'positive') is missing"
    pos = _texts(p)
    if pos is None:
        return None, f"{where}: field {pkey!r} must be a non-empty string or list of strings (got {p!r:.60})"
    nkey, n = _pick(rec, _NEG_KEYS)
    neg: tuple[str, ...] = ()
    if nkey is not None and n not in (None, [], ""):
        got = _texts(n)
        if got is None:
            return None, f"{where}: field {nkey!r} must be a string or list of strings (got {n!r:.60})"
        neg = tuple(x for x in got if x not in pos)
    doc = rec.get("doc") or rec.get("source") or ""
    if not isinstance(doc, str):
        return None, f"{where}: field 'doc' must be a string (got {doc!r:.60})"
    doc = doc or "pos:" + hashlib.sha256(pos[0].encode()).hexdigest()[:16]
    return Triplet(query=q.strip(), positives=pos, negatives=neg, doc=doc), None


def read_triplets(path: Path) -> list[Triplet]:
    """Read a triplet JSONL file; any malformed record is fatal, all of them named by line."""
    path = Path(path)
    if not path.is_file():
        raise BastionError(f"triplet file not found: {path}", hint="pass an existing .jsonl file")
    out: list[Triplet] = []
    problems: list[str] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})")
                continue
            trip, problem = parse_record(rec, where)
            if problem:
                problems.append(problem)
            elif trip is not None:
                out.append(trip)
    if problems:
        shown = "\n  ".join(problems[:_MAX_REPORTED])
        more = f"\n  … and {len(problems) - _MAX_REPORTED} more" if len(problems) > _MAX_REPORTED else ""
        raise BastionError(
            f"{len(problems)} malformed triplet record(s) in {path}:\n  {shown}{more}",
            hint='each line must be {"query": "...", "pos": "..." or [...], "neg": "..." or [...] (optional)}',
        )
    if not out:
        raise BastionError(f"{path} holds no triplet records", hint='add lines like {"query": "...", "pos": "..."}')
    return out


def looks_like_triplets(path: Path) -> bool:
    """True if the first non-empty line of a .jsonl file is a query/positive record."""
    if Path(path).suffix.lower() not in (".jsonl", ".json"):
        return False
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.strip():
                    rec = json.loads(line)
                    return isinstance(rec, dict) and _pick(rec, _QUERY_KEYS)[0] is not None and _pick(rec, _POS_KEYS)[0] is not None
    except (OSError, json.JSONDecodeError):
        return False
    return False


# --------------------------------------------------------------------------- Markdown corpus

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_QUESTION = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)]\s+|\*\*|Q:\s*|Question:\s*)*(.{8,200}\?)\s*(?:\*\*)?\s*$")
_MIN_PASSAGE = 40


def _sections(text: str) -> list[tuple[str, list[str]]]:
    """(heading path, body lines) per section; headings inside code fences are not headings.

    The path joins the enclosing headings ("SQL Injection (CWE-89): How to fix"), so the many
    notes that share a sub-heading such as "How to fix" still give distinct queries.
    """
    out: list[tuple[str, list[str]]] = [("", [])]
    stack: list[tuple[int, str]] = []
    in_fence = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        m = None if in_fence else _HEADING.match(line)
        if m:
            level = len(m.group(1))
            stack = [(lv, h) for lv, h in stack if lv < level] + [(level, m.group(2).strip())]
            out.append((": ".join(h for _, h in stack), []))
        else:
            out[-1][1].append(line)
    return [(h, body) for h, body in out if h or any(x.strip() for x in body)]


def _clean(lines: Iterable[str]) -> str:
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _answer_after(body: list[str], i: int) -> str:
    """The paragraph(s) after a question line, up to the next question or two paragraphs."""
    taken: list[str] = []
    paragraphs = 0
    for line in body[i + 1:]:
        if _QUESTION.match(line) and taken:
            break
        if not line.strip():
            if taken and taken[-1].strip():
                paragraphs += 1
                if paragraphs >= 2:
                    break
        taken.append(line)
    return _clean(taken)


def pairs_from_markdown(files: Sequence[Path], *, max_chars: int = 1500) -> TripletSet:
    """Heading -> section text and question -> answer passage, from Markdown files."""
    triplets: list[Triplet] = []
    passages: list[Passage] = []
    for f in files:
        f = Path(f)
        doc = f.as_posix()
        text = f.read_text(encoding="utf-8", errors="replace")
        for heading, body in _sections(text):
            section = _clean(body)[:max_chars]
            if len(section) >= _MIN_PASSAGE:
                passages.append(Passage(section, doc, heading))
                if heading:
                    triplets.append(Triplet(heading, (section,), (), doc))
            in_fence = False
            for i, line in enumerate(body):
                if _FENCE.match(line):
                    in_fence = not in_fence
                m = None if in_fence else _QUESTION.match(line)
                if m:
                    answer = _answer_after(body, i)[:max_chars]
                    if len(answer) >= _MIN_PASSAGE:
                        if answer != section:
                            passages.append(Passage(answer, doc, heading))
                        triplets.append(Triplet(m.group(1).strip(), (answer,), (), doc))
    return TripletSet(_dedupe(triplets), passages)


def _dedupe(triplets: list[Triplet]) -> list[Triplet]:
    seen: set[tuple[str, str]] = set()
    out = []
    for t in triplets:
        key = (t.query.lower(), t.positives[0])
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out


# --------------------------------------------------------------------------- mining and split

EmbedFn = Callable[[list[str]], "object"]  # texts -> (n, dim) normalised numpy array


def mine_hard_negatives(
    data: TripletSet,
    embed: EmbedFn,
    *,
    per_query: int = 1,
    margin: float = 0.95,
) -> TripletSet:
    """Add the base embedder's top-ranked non-positive passages as negatives.

    A candidate scoring at or above `margin` x the positive's score is skipped: it is more
    likely an unlabelled positive than a true negative. Negatives come from other documents'
    passages first, so a sibling section of the same note is not called irrelevant.
    """
    import numpy as np

    corpus = data.corpus()
    if len(corpus) < 2:
        return data
    doc_of = {p.text: p.doc for p in data.passages}
    for t in data.triplets:
        for s in t.positives:
            doc_of.setdefault(s, t.doc)
    cvec = np.asarray(embed(corpus), dtype=np.float32)
    qvec = np.asarray(embed([t.query for t in data.triplets]), dtype=np.float32)
    index = {s: i for i, s in enumerate(corpus)}
    scores = qvec @ cvec.T
    mined: list[Triplet] = []
    for t, row in zip(data.triplets, scores):
        pos_ids = {index[s] for s in t.positives if s in index}
        pos_score = max((row[i] for i in pos_ids), default=1.0)
        negs = list(t.negatives)
        for j in np.argsort(-row):
            if len(negs) >= per_query + len(t.negatives):
                break
            if j in pos_ids or row[j] >= margin * pos_score or doc_of.get(corpus[j]) == t.doc:
                continue
            if corpus[j] not in negs:
                negs.append(corpus[j])
        mined.append(replace(t, negatives=tuple(negs)))
    return TripletSet(mined, data.passages)


def split_by_document(
    triplets: Sequence[Triplet], *, eval_fraction: float = 0.2, seed: int = 42, min_eval: int = 1
) -> tuple[list[Triplet], list[Triplet]]:
    """Hold out whole documents: no document contributes to both train and eval."""
    docs = sorted({t.doc for t in triplets})
    if len(docs) < 2:
        raise BastionError(
            f"the triplets come from {len(docs)} document(s); a held-out split needs at least 2",
            hint="add more documents to the corpus, or give records a 'doc' field",
        )
    rng = random.Random(seed)
    rng.shuffle(docs)
    n_eval = min(len(docs) - 1, max(min_eval, round(len(docs) * eval_fraction)))
    held = set(docs[:n_eval])
    train = [t for t in triplets if t.doc not in held]
    evals = [t for t in triplets if t.doc in held]
    return train, evals


def write_triplets(path: Path, triplets: Iterable[Triplet]) -> int:
    from app.atomic import write_text

    lines = [json.dumps({"query": t.query, "pos": list(t.positives), "neg": list(t.negatives), "doc": t.doc},
                        ensure_ascii=False) for t in triplets]
    write_text(Path(path), "\n".join(lines) + ("\n" if lines else ""))
    return len(lines)


def shuffled_pairs(triplets: Sequence[Triplet], *, seed: int = 0) -> list[Triplet]:
    """Queries paired with another record's positive (useless data, for testing the gate)."""
    order = list(range(len(triplets)))
    random.Random(seed).shuffle(order)
    out: list[Triplet] = list(triplets)
    for k, i in enumerate(order):  # each query gets the next one's positive: none keeps its own
        j = order[(k + 1) % len(order)]
        out[i] = Triplet(triplets[i].query, triplets[j].positives, (), triplets[i].doc)
    return out
