"""The one place a Chroma client is made: local on disk, or a remote server (team mode)."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlparse

from app.errors import BastionError

log = logging.getLogger(__name__)


def make_client(path: Path, *, url: str | None = None):
    """A `chromadb.PersistentClient` at `path`, or a `chromadb.HttpClient` for `url`.

    Telemetry is always off (the app never talks to the network on its own).
    `url` is `settings.retrieval.chroma_url`, e.g. ``http://10.0.0.5:8000``.
    """
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False, allow_reset=False)
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise BastionError(f"retrieval.chroma_url {url!r} is not an http(s) URL",
                               hint="set it like http://host:8000, or empty it to use the local index")
        port = parsed.port or (443 if parsed.scheme == "https" else 8000)
        try:
            return chromadb.HttpClient(host=parsed.hostname, port=port, ssl=parsed.scheme == "https",
                                       settings=settings)
        except Exception as exc:  # connection refused, bad server
            raise BastionError(f"cannot reach the Chroma server at {url}: {exc}",
                               hint="start the server, or empty retrieval.chroma_url to use the local index") from None
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(path), settings=settings)
    except Exception as exc:  # a damaged sqlite file, a newer chroma format
        raise BastionError(f"cannot open the knowledge index at {path}: {exc}",
                           hint="re-create it (`bastion kb remove NAME` then ingest again)") from None


def close_client(client) -> None:
    """Release a client (chroma reference-counts systems per path); safe to call twice."""
    close = getattr(client, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception as exc:  # already closed, or a remote server gone away
        log.debug("closing chroma client: %s", exc)
