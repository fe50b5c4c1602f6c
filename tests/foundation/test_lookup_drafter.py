"""The prompt-lookup drafter: what it drafts, from where, and how it sizes drafts (no model needed)."""

from __future__ import annotations

import numpy as np

from app.llm.lookup import source_lookup_class


def ids(*xs: int) -> np.ndarray:
    return np.array(xs, dtype=np.intc)


def test_drafts_what_followed_the_most_recent_earlier_match():
    d = source_lookup_class()(10, start=4)
    #            0  1  2  3  4  5   6  7  8  9  10 11 12  13 14 15
    seq = ids(5, 6, 7, 8, 9, 10, 5, 6, 7, 1, 2, 3, 4, 5, 6, 7)
    # the tail 5 6 7 occurred at 0 and at 6; the most recent (6) was followed by 1 2 3 4
    assert d(seq).tolist() == [1, 2, 3, 4]


def test_no_draft_without_a_long_enough_match():
    d = source_lookup_class()(10, min_ngram=3)
    assert d(ids(1, 2, 3, 4, 5, 9, 4, 5)).size == 0  # only a 2-gram repeats
    assert d(ids(7)).size == 0


def test_prefers_the_longest_ngram():
    d = source_lookup_class()(10, start=2)
    # tail 2 3 4 5: the 3-gram 3 4 5 last occurred at 9 (followed by 0 0), the 4-gram 2 3 4 5 at 0 (followed by 6 7)
    seq = ids(2, 3, 4, 5, 6, 7, 1, 1, 9, 3, 4, 5, 0, 0, 2, 3, 4, 5)
    assert d(seq).tolist() == [6, 7]


def test_draft_size_follows_what_was_kept():
    d = source_lookup_class()(8, start=2)
    base = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 1, 2, 3]
    assert d(ids(*base)).tolist() == [4, 5]                   # k = 2
    base += [4, 5, 6]                                          # both kept, then the model chose 6
    assert d(ids(*base)).tolist() == [7, 8, 9, 10]            # all kept: k doubles to 4
    base += [99]                                               # none kept: the model chose 99
    assert d(ids(*base)).size == 0                             # ... 6 99 has no earlier match
    assert d.k == 1 and d.kept == 2 and d.drafted == 6         # none kept: one past what was kept
    assert d(ids(1, 2, 3, 4, 1, 2, 3)).tolist() == [4, 1]      # a shorter sequence: a new generation, k back to start
