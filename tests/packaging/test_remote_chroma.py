"""Team mode with a shared Chroma server: `chroma run` on 127.0.0.1, chosen by settings.retrieval.chroma_url."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow  # a real chroma server + real MiniLM embeddings


def _chroma_cli() -> str | None:
    here = Path(sys.executable).parent / "chroma"
    return str(here) if here.exists() else shutil.which("chroma")


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    cli = _chroma_cli()
    if cli is None:
        pytest.skip("the `chroma` CLI (from chromadb) is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([cli, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            pytest.fail(f"chroma run exited: {proc.stderr.read()[-1500:]}")
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("chroma run did not come up in 60 s")
        time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_remote_chroma_serves_retrieval(chroma_url, starter_bundle, tmp_path):
    from app.knowledge import KnowledgeBase, ingest, list_knowledge_bases
    from app.runtime import make_embedder, make_engine, open_bundle
    from app.serve.rag import make_rag
    from app.settings import load_settings

    doc = tmp_path / "team-runbook.md"
    doc.write_text("# Team runbook\n\n## Rotating the Zanzibar signing key\n\nThe Zanzibar signing key is rotated "
                   "every ninety days by the platform team using the keyctl rotate command.\n", encoding="utf-8")
    settings = load_settings(bundle=starter_bundle, retrieval={"chroma_url": chroma_url, "use_bundle_index": False})
    bundle = open_bundle(settings)
    emb = make_embedder(settings, bundle)
    with KnowledgeBase.open_user("team-notes", fingerprint=emb.fingerprint, url=chroma_url) as kb:
        report = ingest([doc], kb=kb, embedder=emb)
        assert report.chunks >= 1
    assert "team-notes" in [i.name for i in list_knowledge_bases(url=chroma_url)]

    rag = make_rag(settings, bundle, emb, engine=make_engine(settings, bundle))  # what `bastion serve` uses, per settings
    try:
        assert rag.enabled
        hits = rag.retrieve([{"role": "user", "content": "How often is the Zanzibar signing key rotated?"}])
        assert hits and hits[0].kb == "team-notes" and hits[0].source.endswith("team-runbook.md")
    finally:
        rag.close()


def test_unreachable_chroma_url_is_a_clear_error(starter_bundle):
    from app.errors import BastionError
    from app.knowledge import list_knowledge_bases

    with pytest.raises(BastionError, match="Chroma server"):
        list_knowledge_bases(url="http://127.0.0.1:9")
