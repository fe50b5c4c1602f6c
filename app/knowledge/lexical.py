"""BM25 over chunks, with a tokenizer for English, code identifiers and CJK text.

Tokens: lower-cased words; code identifiers are kept whole *and* split
(`get_user_by_id` -> get_user_by_id, get, user, by, id; `parseHTTPHeader` ->
parsehttpheader, parse, http, header); hyphenated ids keep their whole form
(`CWE-89` -> cwe-89, cwe, 89); Chinese/Japanese/Korean runs become character
bigrams (a lone character stays a unigram). The index is numpy arrays (CSR
postings), saved as .npz + JSON, never pickle.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN_RE = re.compile(rf"[{_CJK}]+|[A-Za-z0-9_]+(?:[-.][A-Za-z0-9_]+)*")
_CJK_RE = re.compile(rf"[{_CJK}]")
_CAMEL_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

STOPWORDS = frozenset(
    """a an and are as at be but by can do does for from how i if in into is it its me my of on or
    so than that the their them then there these they this to was what when where which who why will
    with you your we our should would could about use using used""".split()
)

K1 = 1.2
B = 0.75


def _stem(word: str) -> str:
    """A very light plural fold: 'injections' -> 'injection', keeps 'class', 'status'."""
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Index terms of `text` (see the module docstring)."""
    out: list[str] = []
    for m in _TOKEN_RE.finditer(text):
        tok = m.group(0)
        if _CJK_RE.match(tok):
            if len(tok) == 1:
                out.append(tok)
            else:
                out.extend(tok[i : i + 2] for i in range(len(tok) - 1))
            continue
        low = tok.lower()
        parts = [p for p in re.split(r"[-._]+", tok) if p]
        sub: list[str] = []
        for p in parts:
            sub.extend(s.lower() for s in _CAMEL_RE.findall(p))
        if len(sub) <= 1:
            if low not in STOPWORDS:
                out.append(_stem(low))
            continue
        out.append(low)
        out.extend(_stem(s) for s in sub if s not in STOPWORDS)
    return out


@dataclass
class LexicalHit:
    index: int
    score: float
    coverage: float
    """idf-weighted share of the query's terms that occur in the chunk (0..1)."""


class BM25Index:
    """An immutable BM25 index over `len(ids)` chunks."""

    def __init__(self, ids: list[str], vocab: dict[str, int], indptr, postings, tfs, doc_len) -> None:
        import numpy as np

        self.ids = ids
        self.vocab = vocab
        self.indptr = np.asarray(indptr, dtype=np.int64)
        self.postings = np.asarray(postings, dtype=np.int32)
        self.tfs = np.asarray(tfs, dtype=np.float32)
        self.doc_len = np.asarray(doc_len, dtype=np.float32)
        n = len(ids)
        self.avgdl = float(self.doc_len.mean()) if n else 0.0
        df = np.diff(self.indptr).astype(np.float64)
        self.idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, ids: Sequence[str], texts: Iterable[str]) -> "BM25Index":
        import numpy as np

        vocab: dict[str, int] = {}
        rows: list[list[tuple[int, int]]] = []  # per term: (doc, tf)
        doc_len: list[int] = []
        for d, text in enumerate(texts):
            counts: dict[str, int] = {}
            toks = tokenize(text)
            for t in toks:
                counts[t] = counts.get(t, 0) + 1
            doc_len.append(len(toks))
            for t, c in counts.items():
                tid = vocab.setdefault(t, len(vocab))
                if tid == len(rows):
                    rows.append([])
                rows[tid].append((d, c))
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(r) for r in rows])
        flat = [p for r in rows for p in r]
        postings = np.fromiter((p[0] for p in flat), dtype=np.int32, count=len(flat))
        tfs = np.fromiter((p[1] for p in flat), dtype=np.float32, count=len(flat))
        return cls(list(ids), vocab, indptr, postings, tfs, doc_len)

    def search(self, query: str, *, k: int) -> list[LexicalHit]:
        """The `k` best chunks for `query`, best first (only chunks sharing a term)."""
        import numpy as np

        n = len(self.ids)
        terms = [self.vocab[t] for t in dict.fromkeys(tokenize(query)) if t in self.vocab]
        q_all = [t for t in dict.fromkeys(tokenize(query))]
        if not n or not terms:
            return []
        scores = np.zeros(n, dtype=np.float32)
        covered = np.zeros(n, dtype=np.float32)
        norm = K1 * (1 - B + B * self.doc_len / max(self.avgdl, 1e-9))
        for tid in terms:
            lo, hi = self.indptr[tid], self.indptr[tid + 1]
            docs = self.postings[lo:hi]
            tf = self.tfs[lo:hi]
            scores[docs] += self.idf[tid] * tf * (K1 + 1) / (tf + norm[docs])
            covered[docs] += self.idf[tid]
        # Terms absent from the corpus still count in the denominator: a query about
        # "sourdough bread" that only matches "bread" is weakly covered.
        unseen_idf = math.log(1.0 + (n + 0.5) / 0.5)
        total_idf = float(self.idf[terms].sum()) + unseen_idf * (len(q_all) - len(terms))
        k = min(k, int((scores > 0).sum()))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [LexicalHit(int(i), float(scores[i]), float(covered[i] / total_idf)) for i in top]

    # -- persistence (no pickle) -------------------------------------------------
    def save(self, stem: Path, *, revision: str) -> None:
        import numpy as np

        from app.atomic import atomic_path, write_text

        with atomic_path(stem.with_suffix(".npz")) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, indptr=self.indptr, postings=self.postings, tfs=self.tfs, doc_len=self.doc_len,
                         revision=np.array(revision))  # both files carry the revision: a half-written pair is refused
        write_text(stem.with_suffix(".json"), json.dumps({"revision": revision, "ids": self.ids, "vocab": list(self.vocab)}))

    @classmethod
    def load(cls, stem: Path, *, revision: str) -> "BM25Index | None":
        """The saved index if it is for `revision`, else None."""
        import numpy as np

        try:
            meta = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
            if meta.get("revision") != revision:
                return None
            with np.load(stem.with_suffix(".npz"), allow_pickle=False) as z:
                if "revision" not in z.files or str(z["revision"]) != revision:
                    return None
                arrays = {k: z[k] for k in ("indptr", "postings", "tfs", "doc_len")}
        except (OSError, ValueError, KeyError):
            return None
        vocab = {t: i for i, t in enumerate(meta["vocab"])}
        return cls(meta["ids"], vocab, **arrays)
