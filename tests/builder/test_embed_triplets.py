"""Triplet data: JSONL records, Markdown pairs, split by document (no models)."""

from __future__ import annotations

import json

import pytest

from app.errors import BastionError
from builder.retrieval_metrics import rank_metrics
from builder.triplets import (
    Triplet,
    TripletSet,
    mine_hard_negatives,
    pairs_from_markdown,
    read_triplets,
    shuffled_pairs,
    split_by_document,
)


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_reads_strings_and_lists(tmp_path):
    f = _write(tmp_path / "t.jsonl", [
        json.dumps({"query": "what is xss", "pos": "Cross-site scripting is ...", "neg": ["SQL injection is ..."]}),
        "",
        json.dumps({"query": "sqli", "positive": ["a", "b"], "negative": "c", "doc": "notes/sqli.md"}),
        json.dumps({"query": "ssrf", "pos": "server-side request forgery"}),
    ])
    got = read_triplets(f)
    assert [t.query for t in got] == ["what is xss", "sqli", "ssrf"]
    assert got[0].negatives == ("SQL injection is ...",)
    assert got[1].positives == ("a", "b") and got[1].negatives == ("c",) and got[1].doc == "notes/sqli.md"
    assert got[2].negatives == () and got[2].doc.startswith("pos:")


def test_malformed_records_named_by_line_and_field(tmp_path):
    f = _write(tmp_path / "bad.jsonl", [
        json.dumps({"query": "ok", "pos": "fine"}),
        json.dumps({"pos": "no query"}),                       # line 2: query missing
        "{not json",                                            # line 3
        json.dumps({"query": "q", "positive": []}),            # line 4: empty positive
        json.dumps({"query": "q", "pos": "p", "neg": [1, 2]}),  # line 5: bad negative
        json.dumps(["a", "list"]),                              # line 6
        json.dumps({"query": "", "pos": "p"}),                  # line 7
    ])
    with pytest.raises(BastionError) as ei:
        read_triplets(f)
    msg = str(ei.value)
    assert "6 malformed" in msg
    assert f"{f}:2: field 'query' is missing" in msg
    assert f"{f}:3: not valid JSON" in msg
    assert f"{f}:4: field 'positive'" in msg
    assert f"{f}:5: field 'neg'" in msg
    assert f"{f}:6: record is a list" in msg
    assert f"{f}:7: field 'query' must be a non-empty string" in msg
    assert ":1:" not in msg
    assert "Fix:" in msg


def test_missing_file_is_a_bastion_error(tmp_path):
    with pytest.raises(BastionError, match="not found"):
        read_triplets(tmp_path / "nope.jsonl")


MD_A = """# SQL Injection (CWE-89)

## How it arises
User input is concatenated into a SQL string, so the attacker changes the query's structure.

```python
# not a heading inside a fence
cur.execute("SELECT * FROM t WHERE id=" + uid)
```

## How to fix
Use parameterised queries with placeholders; never build SQL by string concatenation.

What about stored procedures?
They help only when they do not build dynamic SQL from their arguments internally.
"""

MD_B = """# Server-Side Request Forgery (CWE-918)

## How it arises
The server fetches a URL the user controls and reaches internal services or cloud metadata.
"""


def test_pairs_from_markdown_heading_paths_and_questions(tmp_path):
    a = tmp_path / "a.md"
    a.write_text(MD_A)
    b = tmp_path / "b.md"
    b.write_text(MD_B)
    ts = pairs_from_markdown([a, b])
    queries = [t.query for t in ts.triplets]
    assert "SQL Injection (CWE-89): How it arises" in queries
    assert "SQL Injection (CWE-89): How to fix" in queries
    assert "Server-Side Request Forgery (CWE-918): How it arises" in queries
    assert "What about stored procedures?" in queries
    assert not any("not a heading" in q for q in queries)
    qa = next(t for t in ts.triplets if t.query == "What about stored procedures?")
    assert qa.positives[0].startswith("They help only")
    arises = next(t for t in ts.triplets if t.query.endswith("(CWE-89): How it arises"))
    assert "cur.execute" in arises.positives[0]  # the code block stays in its section
    assert {t.doc for t in ts.triplets} == {a.as_posix(), b.as_posix()}


def test_split_shares_no_documents():
    trips = [Triplet(f"q{i}", (f"p{i}",), (), f"doc{i % 7}") for i in range(40)]
    train, held = split_by_document(trips, eval_fraction=0.3, seed=1)
    assert train and held and len(train) + len(held) == 40
    assert not {t.doc for t in train} & {t.doc for t in held}
    assert split_by_document(trips, eval_fraction=0.3, seed=1) == (train, held)  # deterministic


def test_split_needs_two_documents():
    with pytest.raises(BastionError, match="at least 2"):
        split_by_document([Triplet("q", ("p",), (), "one")] * 3)


def test_mining_takes_top_ranked_non_positive_from_other_documents():
    import numpy as np

    # Hand-made 2-d "embedder": the text names its angle.
    angles = {"q": 0.0, "pos": 0.05, "twin": 0.25, "near": 0.5, "far": 1.5, "sibling": 0.2}

    def embed(texts):
        return np.array([[np.cos(angles[t]), np.sin(angles[t])] for t in texts])

    data = TripletSet([Triplet("q", ("pos",), (), "d1")],
                      passages=[])
    from builder.triplets import Passage

    data.passages = [Passage("pos", "d1"), Passage("sibling", "d1"), Passage("near", "d2"), Passage("far", "d3"),
                     Passage("twin", "d4")]
    mined = mine_hard_negatives(data, embed, per_query=1)
    # not the positive, not the same document, not one scoring within the margin of the positive
    assert mined.triplets[0].negatives == ("near",)


def test_shuffled_pairs_never_keep_their_own_positive():
    trips = [Triplet(f"q{i}", (f"p{i}",), (), f"d{i}") for i in range(20)]
    bad = shuffled_pairs(trips, seed=3)
    assert all(b.positives != t.positives for b, t in zip(bad, trips))
    assert sorted(b.positives for b in bad) == sorted(t.positives for t in trips)


def test_rank_metrics_by_hand():
    m = rank_metrics([[3, 1, 2], [0, 5, 6]], [{1}, {9}])
    assert m["recall@1"] == 0.0 and m["recall@5"] == 0.5
    assert m["mrr@10"] == 0.25  # (1/2 + 0) / 2
    assert abs(m["ndcg@10"] - (1 / 1.5849625) / 2) < 1e-3


def test_reranker_gate_ships_only_a_reranker_that_helps():
    """The gate logic with hand-made scorers (no cross-encoder is available offline here)."""
    import numpy as np

    from builder.rerank import rerank_comparison

    corpus = [f"passage {i} about topic {i}" for i in range(12)]
    held = [Triplet(f"topic {i}", (corpus[i],), (), f"d{i}") for i in range(12)]
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(40, 8))

    def embed(texts):  # a poor dense retriever: random vectors per text
        v = np.array([vecs[hash(t) % 40] for t in texts])
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def oracle(query, passages):  # knows the answer
        return [1.0 if p.endswith(query) else 0.0 for p in passages]

    def contrarian(query, passages):  # pushes the answer to the bottom
        return [-1.0 if p.endswith(query) else 0.0 for p in passages]

    good = rerank_comparison(embed, oracle, held, corpus, candidates=12)
    assert good["chosen"] == "reranker" and good["reranked"]["mrr@10"] == 1.0
    bad = rerank_comparison(embed, contrarian, held, corpus, candidates=12)
    assert bad["chosen"] == "none" and "LEAVING IT OUT" in bad["verdict"]


def test_question_set_figures_rank_documents_by_their_best_passage(tmp_path):
    import numpy as np

    from app.errors import BastionError
    from builder.retrieval_metrics import evaluate_questions, read_questions
    from builder.triplets import Passage

    qf = tmp_path / "q.jsonl"
    qf.write_text('{"question": "alpha", "relevant": ["notes/a.md"]}\n{"question": "beta", "relevant": ["b.md", "zz.md"]}\n')
    qs = read_questions(qf)
    assert qs == [("alpha", {"a.md"}), ("beta", {"b.md", "zz.md"})]
    vec = {"alpha": [1, 0], "beta": [0, 1], "a1": [0.9, 0.1], "a2": [0.2, 0.8], "b1": [0.1, 0.9]}

    def embed(texts):
        v = np.array([vec[t] for t in texts], dtype=float)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    passages = [Passage("a1", "/x/a.md"), Passage("a2", "/x/a.md"), Passage("b1", "/x/b.md")]
    m = evaluate_questions(embed, qs, passages)
    # beta's zz.md is not in the corpus, so only b.md counts as relevant for it
    assert m["queries"] == 2 and m["mrr@10"] == 1.0 and m["recall@1"] == 1.0
    qf.write_text('{"question": "alpha"}\n')
    with pytest.raises(BastionError, match=r"q.jsonl:1"):
        read_questions(qf)
