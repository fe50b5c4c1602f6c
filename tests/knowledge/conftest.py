"""Fixtures for knowledge tests: the starter bundle's real embedder, small documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.bundle import read_manifest


@pytest.fixture(scope="session")
def kb_embedder(starter_bundle):
    """The starter bundle's MiniLM GGUF, loaded once (real llama.cpp embeddings)."""
    from app.llm.embedder import Embedder

    spec = read_manifest(starter_bundle).embedder
    emb = Embedder(starter_bundle / spec.path, fingerprint=spec.fingerprint, max_tokens=spec.max_tokens,
                   normalize=spec.normalize)
    emb.load()
    return emb


@pytest.fixture
def new_kb(tmp_path, kb_embedder):
    """A fresh on-disk knowledge base for the starter embedder."""
    from app.knowledge import KnowledgeBase

    kb = KnowledgeBase(tmp_path / "kb", name="testkb", fingerprint=kb_embedder.fingerprint, dim=384)
    yield kb
    kb.close()


DOCS = {
    "sqli.md": """# SQL injection

## How it arises
Building a query by concatenating request parameters into SQL text lets an attacker change the query.

## Fix
Use parameterized queries: cursor.execute("SELECT * FROM users WHERE id = %s", (user_id,)).
""",
    "xss.md": """# Cross-site scripting

Reflected XSS happens when a page echoes request input into HTML without escaping it.
Escape output with the template engine's autoescape and set a Content-Security-Policy header.
""",
    "deserialize.py": '''import pickle


def load_session(blob):
    """Never unpickle untrusted data: pickle.loads runs arbitrary code."""
    return pickle.loads(blob)


class SessionStore:
    def get(self, key):
        return self.items.get(key)
''',
    "zh-ssrf.md": """# 服务端请求伪造

服务端请求伪造（SSRF）指攻击者让服务器向内部地址发起请求，例如访问云元数据接口。修复方法是对目标地址做白名单校验，并禁止访问内网地址。
""",
}


def write_docs(root: Path, docs: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in (docs or DOCS).items():
        (root / name).write_text(text, encoding="utf-8")
    return root
