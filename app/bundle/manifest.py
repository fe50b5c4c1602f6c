"""The bundle manifest: the contract between the builder and the app."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"


def confined(path: str) -> str:
    """A manifest path must stay inside the bundle: relative, forward slashes, no `..`."""
    parts = path.split("/")
    if (not path or path.startswith("/") or "\\" in path or "\x00" in path or (len(path) > 1 and path[1] == ":")
            or ".." in parts or all(p in ("", ".") for p in parts)):
        raise ValueError(f"path {path!r} is not a plain relative path inside the bundle")
    return path


BundlePath = Annotated[str, AfterValidator(confined)]
"""A path relative to the bundle directory that cannot leave it."""

ComponentKind = Literal["llm", "embedder", "reranker", "index", "prompts", "eval", "other"]


class Component(BaseModel):
    """One file of the bundle, with the hash the app checks before trusting it."""

    path: BundlePath
    """Path relative to the bundle directory, with forward slashes."""
    kind: ComponentKind
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class ChatSpec(BaseModel):
    """How to talk to the chat model."""

    template: str | None = None
    """Jinja chat template; empty means use the template stored in the GGUF."""
    stop: list[str] = Field(default_factory=list)
    """Extra stop strings beyond the model's end-of-turn token."""


class EmbedderSpec(BaseModel):
    """The embedding model, which the knowledge index was built with."""

    path: BundlePath = "embedder.gguf"
    dim: int = Field(gt=0)
    fingerprint: str
    """sha256 of the embedder GGUF; an index records it and the app refuses a mismatch."""
    max_tokens: int = 512
    """Longest input the embedder accepts, in its own tokens."""
    pooling: str = "mean"
    normalize: bool = True
    base_model: str | None = None


class Manifest(BaseModel):
    """manifest.json at the root of a bundle."""

    format_version: int
    name: str
    profile: str
    created: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    description: str = ""
    llm: BundlePath = "llm.gguf"
    """Path of the chat model GGUF."""
    chat: ChatSpec = Field(default_factory=ChatSpec)
    context_length: int = Field(2048, gt=0)
    """The chat model's usable context, in tokens."""
    embedder: EmbedderSpec | None = None
    index: BundlePath | None = None
    """Directory of the knowledge index, if the bundle has one."""
    reranker: BundlePath | None = None
    prompts: BundlePath | None = None
    components: list[Component] = Field(default_factory=list)
    tools: dict[str, str] = Field(default_factory=dict)
    """Versions of the tools that made the bundle (llama-cpp-python, transformers, ...)."""
    metrics: dict[str, Any] = Field(default_factory=dict)
    """Evaluation figures recorded by the builder."""

    def component(self, path: str) -> Component | None:
        return next((c for c in self.components if c.path == path), None)
