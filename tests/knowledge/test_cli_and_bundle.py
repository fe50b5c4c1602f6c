"""`bastion ingest/search/kb` and `bastion ask` with RAG, and the starter bundle's index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.bundle import load_bundle, verify_bundle
from app.errors import BastionError
from tests.knowledge.conftest import write_docs

pytestmark = pytest.mark.slow


def invoke(*args):
    from app.cli.main import cli

    return CliRunner().invoke(cli, [str(a) for a in args])


def test_cli_ingest_search_list_remove(tmp_path, starter_bundle):
    docs = write_docs(tmp_path / "docs")
    (docs / "junk.bin").write_bytes(b"\x00\x01")
    res = invoke("ingest", docs, "--kb", "mydocs", "--bundle", starter_bundle, "--json")
    assert res.exit_code == 0, res.output
    rep = json.loads(res.output)
    assert len(rep["added"]) == 4 and rep["skipped"][0]["reason"].startswith("unsupported file type")
    res = invoke("ingest", docs, "--kb", "mydocs", "--bundle", starter_bundle)
    assert res.exit_code == 0 and "0 added" in res.output and "4 unchanged" in res.output, res.output

    res = invoke("search", "parameterized queries SQL", "--kb", "mydocs", "--bundle", starter_bundle, "--json", "-k", "2")
    hits = json.loads(res.output)["hits"]
    assert hits[0]["source"].endswith("sqli.md") and hits[0]["lines"] and len(hits) <= 2
    res = invoke("search", "parameterized queries SQL", "--bundle", starter_bundle)  # bundle index + all KBs
    assert res.exit_code == 0 and "[1]" in res.output and "cos " in res.output

    listed = json.loads(invoke("kb", "list", "--json").output)
    assert [(k["name"], k["files"]) for k in listed] == [("mydocs", 4)]
    assert invoke("kb", "remove", "mydocs", "--yes").exit_code == 0
    assert json.loads(invoke("kb", "list", "--json").output) == []
    res = invoke("search", "x", "--kb", "mydocs", "--bundle", starter_bundle)
    assert isinstance(res.exception, BastionError) and "no knowledge base named 'mydocs'" in str(res.exception)


def test_starter_index_is_read_only_and_searchable_offline(starter_bundle, tmp_path):
    b = load_bundle(starter_bundle)
    assert b.manifest.index == "index" and b.manifest.metrics["index.chunks"] > 50
    assert any(c.kind == "index" for c in b.manifest.components)
    env = dict(os.environ, BASTION_OFFLINE="1")
    out = subprocess.run([str(Path(sys.executable).parent / "bastion"), "search", "--json", "--bundle", str(starter_bundle),
                          "How do I stop SQL injection?"], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    hits = json.loads(out.stdout)["hits"]
    assert hits and "sql-injection" in hits[0]["source"] and hits[0]["kb"] == "bundle"
    assert verify_bundle(starter_bundle, full=True) == []  # opening the index wrote nothing into the bundle


def test_bundle_index_with_another_embedder_is_refused(starter_bundle):
    from app.knowledge import open_bundle_index

    with pytest.raises(BastionError, match="cannot be compared"):
        open_bundle_index(load_bundle(starter_bundle), fingerprint="f" * 64)


def test_ask_uses_bundle_index_and_user_kbs(tmp_path, starter_bundle):
    from app.ask import run_ask
    from app.knowledge import KnowledgeBase, ingest
    from app.settings import load_settings

    settings = load_settings(bundle=starter_bundle, engine={"max_tokens": 24, "temperature": 0.0, "n_ctx": 2048})
    m = load_bundle(starter_bundle).manifest
    from app.runtime import make_embedder

    emb = make_embedder(settings, load_bundle(starter_bundle))
    with KnowledgeBase.open_user("mine", fingerprint=m.embedder.fingerprint) as kb:
        ingest([write_docs(tmp_path / "docs")], kb=kb, embedder=emb)
    out = run_ask("How does server-side request forgery reach cloud metadata, and how do I block internal addresses?",
                  settings=settings).as_json()
    kbs = {s["kb"] for s in out["retrieved"]}
    assert out["answer"] and out["retrieved"] and out["source_lines"]
    assert kbs <= {"bundle", "mine"} and "bundle" in kbs
    assert all({"path", "heading", "lines", "score"} <= set(s) for s in out["retrieved"])
    assert all({k: v for k, v in s.items() if k not in ("spans", "sentences")} in out["retrieved"] for s in out["sources"])
    assert all(s["spans"] for s in out["sources"])  # every citation comes with the passage that supports it
    plain = run_ask("Say hello.", settings=settings, use_knowledge=False).as_json()
    assert plain["retrieved"] == [] and plain["sources"] == [] and plain["answer"]
