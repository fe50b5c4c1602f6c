"""Embedder fine-tuning on real all-MiniLM-L6-v2: training moves it, the gate is honest, parity is checked."""

from __future__ import annotations

import pytest

from app.errors import BastionError
from builder import embed as E
from builder.stages.embed.stage import default_corpus, markdown_files, select_embedder
from builder.profiles import load_profile
from builder.sources import minilm_dir
from builder.triplets import mine_hard_negatives, pairs_from_markdown, shuffled_pairs, split_by_document

pytestmark = pytest.mark.slow

MAX_TOKENS = 64


@pytest.fixture(scope="module")
def cfg():
    return load_profile("smollm2-135m").embed.model_copy(update={"max_tokens": MAX_TOKENS, "batch_size": 8})


@pytest.fixture(scope="module")
def base(cfg):
    return E.load_model(minilm_dir(), max_tokens=cfg.max_tokens)


@pytest.fixture(scope="module")
def data(base):
    """~50 training triplets mined from the starter notes, and a held-out split of other notes."""
    ts = pairs_from_markdown(markdown_files(default_corpus()))
    train, held = split_by_document(ts.triplets, eval_fraction=0.25, seed=7)
    train = train[:50]
    from builder.triplets import TripletSet

    mined = mine_hard_negatives(TripletSet(train, ts.passages), E.embed_fn(base))
    corpus = ts.corpus()
    return mined.triplets, held[:30], corpus


def test_training_on_50_triplets_changes_embeddings_and_wins(cfg, base, data, tmp_path):
    import numpy as np

    train, held, corpus = data
    assert 40 <= len(train) <= 50 and all(t.negatives for t in train)
    before = E.embed_fn(base)(list(E.PROBES))
    sel = select_embedder(minilm_dir(), train, held, corpus, cfg, workdir=tmp_path, max_steps=4, base=base)
    assert sel.train["steps"] == 4 and len(sel.train["losses"]) == 4
    assert sel.train["loss"] == "MultipleNegativesRankingLoss"
    tuned = E.load_model(minilm_dir(), max_tokens=MAX_TOKENS) if sel.chosen == "base" else sel.model
    after = E.embed_fn(tuned)(list(E.PROBES))
    assert np.abs(after - before).max() > 1e-3
    # On real pairs the tuned model wins on held-out documents, and the gate ships it.
    assert sel.tuned_metrics["mrr@10"] > sel.base_metrics["mrr@10"], (sel.base_metrics, sel.tuned_metrics)
    assert sel.chosen == "tuned" and (sel.model_dir / "modules.json").is_file()
    # The base model object was not trained in place.
    assert np.allclose(E.embed_fn(base)(list(E.PROBES)), before, atol=1e-6)


def test_gate_keeps_base_when_training_data_is_useless(cfg, base, data, tmp_path):
    train, held, corpus = data
    useless = shuffled_pairs(train, seed=1)
    hot = cfg.model_copy(update={"learning_rate": 1e-4})
    sel = select_embedder(minilm_dir(), useless, held, corpus, hot, workdir=tmp_path, max_steps=6, base=base)
    assert sel.tuned_metrics["mrr@10"] < sel.base_metrics["mrr@10"], (sel.base_metrics, sel.tuned_metrics)
    assert sel.chosen == "base" and sel.model is base and sel.model_dir == minilm_dir()
    assert "KEEPING THE BASE MODEL" in sel.gate["verdict"]
    assert not (tmp_path / "model-tuned").exists()


def test_gate_logic():
    assert E.gate({"mrr@10": 0.5}, {"mrr@10": 0.6})["chosen"] == "tuned"
    assert E.gate({"mrr@10": 0.5}, {"mrr@10": 0.5})["chosen"] == "base"  # a tie is not a win
    assert E.gate({"mrr@10": 0.5}, {"mrr@10": 0.52}, min_gain=0.05)["chosen"] == "base"


@pytest.fixture(scope="module")
def base_gguf(tmp_path_factory):
    return E.export_gguf(minilm_dir(), tmp_path_factory.mktemp("gguf") / "embedder.gguf")


def test_parity_passes_for_the_exported_model(base, base_gguf):
    rep = E.check_parity(base, base_gguf, max_tokens=MAX_TOKENS)
    assert rep["min_cosine"] >= 0.999 and 3 <= rep["probes"] <= len(E.PROBES)


def test_parity_fails_loudly_on_a_mismatched_gguf(base_gguf):
    import torch

    model = E.load_model(minilm_dir(), max_tokens=MAX_TOKENS)
    torch.manual_seed(0)
    with torch.no_grad():  # a deliberately different model: perturb the first attention layer
        layer = model[0].auto_model.encoder.layer[0].attention
        for p in layer.parameters():
            p.add_(0.2 * torch.randn_like(p))
    with pytest.raises(BastionError) as ei:
        E.check_parity(model, base_gguf, max_tokens=MAX_TOKENS)
    msg = str(ei.value)
    assert "parity failed" in msg and "< 0.999" in msg and "embedder.gguf" in msg and "Fix:" in msg
