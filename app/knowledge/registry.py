"""Which knowledge bases exist, and opening the right ones for a bundle and settings.

User knowledge bases live under BASTION_HOME/knowledge/<name>/ (one chroma
directory each, one collection named like the directory), or on the team Chroma
server when `retrieval.chroma_url` is set. The bundle's own index is read-only:
chroma may write to its sqlite file when opening it, so the app opens a private
copy in the cache, keyed by the hashes the manifest records for the index files.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from app import paths
from app.errors import BastionError
from app.knowledge.client import close_client, make_client
from app.knowledge.store import KnowledgeBase, check_name, knowledge_dir

log = logging.getLogger(__name__)

BUNDLE_COLLECTION = "bundle"


@dataclass
class KnowledgeBaseInfo:
    name: str
    location: str
    chunks: int
    files: int
    embedder: str
    """Fingerprint of the embedder that built it."""
    error: str | None = None
    """Why it could not be read (a corrupt base is listed, skipped elsewhere, and removable)."""

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def list_knowledge_bases(*, url: str | None = None) -> list[KnowledgeBaseInfo]:
    """The user's knowledge bases, by name."""
    if url:
        client = make_client(Path("."), url=url)
        try:
            return sorted((_info(client.get_collection(c.name if hasattr(c, "name") else str(c), embedding_function=None), url)
                           for c in client.list_collections()), key=lambda i: i.name)
        finally:
            close_client(client)
    root = knowledge_dir()
    out = []
    for d in sorted(root.iterdir()) if root.is_dir() else []:
        if d.name.startswith(".") or not (d / "chroma.sqlite3").is_file():
            continue
        try:
            client = make_client(d)
        except Exception as exc:  # one corrupt base must not hide the others
            out.append(_broken(d, exc))
            continue
        try:
            for c in client.list_collections():
                name = c.name if hasattr(c, "name") else str(c)
                out.append(_info(client.get_collection(name, embedding_function=None), str(d)))
        except Exception as exc:
            out.append(_broken(d, exc))
        finally:
            close_client(client)
    return out


def _broken(d: Path, exc: BaseException) -> KnowledgeBaseInfo:
    reason = f"unreadable ({exc.__class__.__name__}: {str(exc)[:160]})"
    log.warning("knowledge base %s is %s; skipped (remove it with `bastion kb remove %s`)", d.name, reason, d.name)
    return KnowledgeBaseInfo(d.name, str(d), 0, 0, "?", error=reason)


def _info(col, location: str) -> KnowledgeBaseInfo:
    sources: set[str] = set()
    offset = 0
    while True:
        got = col.get(include=["metadatas"], limit=5000, offset=offset)
        if not got["ids"]:
            break
        sources.update(str(m.get("source")) for m in got["metadatas"])
        offset += len(got["ids"])
    meta = col.metadata or {}
    return KnowledgeBaseInfo(col.name, location, col.count(), len(sources), str(meta.get("embedder", "?")))


def remove_knowledge_base(name: str, *, url: str | None = None) -> None:
    """Delete a user knowledge base and its files; `BastionError` if there is none."""
    check_name(name)
    if url:
        client = make_client(Path("."), url=url)
        try:
            client.delete_collection(name)
        except Exception as exc:
            raise BastionError(f"cannot remove knowledge base {name!r} on {url}: {exc}", hint="see `bastion kb list`") from None
        finally:
            close_client(client)
        return
    path = knowledge_dir() / name
    if not path.is_dir():
        raise BastionError(f"no knowledge base named {name!r} in {knowledge_dir()}", hint="see `bastion kb list`")
    try:
        client = make_client(path)
    except Exception as exc:  # a corrupt base: removing its folder is all there is to do
        log.debug("opening %s to remove it: %s", path, exc)
    else:
        try:
            client.delete_collection(name)
        except Exception as exc:  # already gone, never created or corrupt: removing the folder is enough
            log.debug("delete_collection(%s): %s", name, exc)
        finally:
            close_client(client)
    trash = path.with_name(f".{name}.removing")
    shutil.rmtree(trash, ignore_errors=True)
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def bundle_index_copy(bundle) -> Path | None:
    """A private copy of the bundle's index in the cache (made once per index content)."""
    src = bundle.index_path
    if src is None or not src.is_dir():
        return None
    prefix = bundle.manifest.index.rstrip("/") + "/"
    comps = sorted((c.path, c.sha256) for c in bundle.manifest.components if c.path.startswith(prefix))
    if comps:
        key = hashlib.sha256(repr(comps).encode()).hexdigest()[:24]
    else:  # an unsealed bundle (builder tests): key by file sizes and times
        stamp = sorted((str(p.relative_to(src)), p.stat().st_size, p.stat().st_mtime_ns) for p in src.rglob("*") if p.is_file())
        key = hashlib.sha256(repr((str(src.resolve()), stamp)).encode()).hexdigest()[:24]
    dst = paths.cache_dir() / "bundle-index" / key
    if (dst / ".complete").is_file():
        return dst
    tmp = dst.with_name(f".{key}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp)
    (tmp / ".complete").write_text("ok\n")
    try:
        os.replace(tmp, dst)
    except OSError:  # another process finished the same copy first
        shutil.rmtree(tmp, ignore_errors=True)
    return dst


def open_bundle_index(bundle, *, fingerprint: str) -> KnowledgeBase | None:
    """The bundle's knowledge index (a cached copy), checked against the embedder."""
    path = bundle_index_copy(bundle)
    if path is None:
        return None
    return KnowledgeBase(path, name=BUNDLE_COLLECTION, fingerprint=fingerprint, create=False)


def open_knowledge(settings, bundle, embedder, *, names: list[str] | None = None,
                   use_bundle: bool | None = None) -> tuple[list[KnowledgeBase], list[str]]:
    """Open the bundle index and the user's knowledge bases for retrieval.

    `names` overrides `settings.retrieval.knowledge_bases` (empty = all). Returns
    the opened bases and warnings (e.g. a base built by another embedder, which is
    refused and left out). A name asked for explicitly that cannot be opened raises.
    """
    r = settings.retrieval
    fp = embedder.fingerprint
    kbs: list[KnowledgeBase] = []
    warnings: list[str] = []
    if (r.use_bundle_index if use_bundle is None else use_bundle) and bundle is not None:
        kb = open_bundle_index(bundle, fingerprint=fp)
        if kb is not None:
            kbs.append(kb)
    explicit = names if names is not None else r.knowledge_bases
    wanted = list(explicit) if explicit else list(dict.fromkeys(i.name for i in list_knowledge_bases(url=r.chroma_url)))
    for name in wanted:
        try:
            kbs.append(KnowledgeBase.open_user(name, fingerprint=fp, create=False, url=r.chroma_url))
        except Exception as exc:  # a corrupt base is reported and skipped; the others keep working
            if not isinstance(exc, BastionError):
                exc = BastionError(f"knowledge base {name!r} is unreadable ({exc.__class__.__name__}: {str(exc)[:160]})",
                                   hint=f"remove it with `bastion kb remove {name}` and ingest again")
            if explicit:
                for kb in kbs:
                    kb.close()
                raise exc from None
            warnings.append(f"knowledge base {name!r} left out: {exc}")
            log.warning("knowledge base %s left out: %s", name, exc)
    return kbs, warnings
