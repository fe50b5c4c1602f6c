"""`builder build` input routing and stage selection (no models)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import BastionError
from builder.build import parse_stages, split_inputs
from builder.stages import stage_names
from builder.stages.index.stage import document_files

DATA = Path(__file__).resolve().parent / "data"
SAMPLES = Path(__file__).resolve().parents[2] / "builder" / "sample_data"


def test_triplets_go_to_the_embedder_only_and_documents_to_the_index_too():
    inp = split_inputs([str(SAMPLES / "security"), f"general={SAMPLES / 'general'}", str(DATA / "e2e_triplets.jsonl"),
                        str(DATA / "e2e_corpus"), "hf:some/dataset"], starter_notes=False)
    assert inp.triplets == [DATA / "e2e_triplets.jsonl"]
    assert str(DATA / "e2e_triplets.jsonl") not in inp.llm
    assert inp.llm == [str(SAMPLES / "security"), f"general={SAMPLES / 'general'}", str(DATA / "e2e_corpus"), "hf:some/dataset"]
    assert inp.corpus == [SAMPLES / "security", SAMPLES / "general", DATA / "e2e_corpus"]


def test_starter_notes_are_indexed_by_default():
    inp = split_inputs([str(DATA / "e2e_corpus")])
    assert inp.corpus[0].name == "notes" and inp.corpus[-1] == DATA / "e2e_corpus"


def test_missing_input_is_named():
    with pytest.raises(BastionError, match="nope.md"):
        split_inputs(["nope.md"])


def test_only_documents_are_indexed_with_short_relative_names():
    files = document_files([SAMPLES / "security", DATA / "e2e_corpus", SAMPLES / "corpus" / "secure_coding_notes.md"])
    names = [rel for _, rel in files]
    assert "e2e_corpus/xxe.md" in names and "docs/secure_coding_notes.md" in names
    assert not any(n.endswith((".jsonl", ".json", ".csv")) for n in names)  # instruction data is not knowledge


def test_stage_selection_keeps_pipeline_order():
    assert parse_stages(None) == list(stage_names())
    assert parse_stages("bundle, embed,index") == ["embed", "index", "bundle"]
    with pytest.raises(BastionError, match="unknown stage"):
        parse_stages("embed,deploy")
