"""Chat models already on this machine: the Ollama store, the Hugging Face cache, LM Studio's and
GPT4All's model folders. First run offers to make a bundle from one before building the starter.

Only the GGUF header is read while listing (`check_gguf`: cheap, and hostile files are refused
before llama.cpp sees them); embedding-only architectures are left out. The speed shown is measured
(`measure_speed`: the bundle smoke test in a child process), never guessed from the file size.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from app.bundle.hf_cache import hub_dir
from app.bundle.ollama_store import find_model, list_models, models_dir

EMBEDDING_ARCHS = {"bert", "nomic-bert", "jina-bert-v2", "t5encoder", "xlm-roberta", "modern-bert", "neo-bert"}
"""Architectures that cannot chat: never offered as a bundle's LLM."""


@dataclass(frozen=True)
class LocalModel:
    """One chat GGUF found on the machine, and how `bastion bundle create` imports it."""

    kind: str
    """ollama | huggingface | lmstudio | gpt4all"""
    name: str
    gguf: Path
    size_bytes: int
    architecture: str
    create_args: tuple[str, ...]
    """Arguments after `bastion bundle create NAME`."""

    def label(self) -> str:
        return f"{self.name} ({self.kind}, {self.architecture}, {self.size_bytes / 1e9:.2f} GB)"

    def bundle_name(self) -> str:
        stem = "".join(c if c.isalnum() or c in "._-" else "-" for c in self.name.rsplit("/", 1)[-1])
        return (stem.strip("-._") or "local")[:48]


def lmstudio_dirs() -> list[Path]:
    """LM Studio's model folders: `LMSTUDIO_MODELS`, ~/.lmstudio/models, ~/.cache/lm-studio/models."""
    env = os.environ.get("LMSTUDIO_MODELS")
    home = Path.home()
    return ([Path(env).expanduser()] if env else []) + [home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"]


def gpt4all_dirs() -> list[Path]:
    """GPT4All's default download folders (Linux, macOS, Windows)."""
    home = Path.home()
    out = [home / ".local" / "share" / "nomic.ai" / "GPT4All", home / "Library" / "Application Support" / "nomic.ai" / "GPT4All"]
    if os.environ.get("LOCALAPPDATA"):
        out.append(Path(os.environ["LOCALAPPDATA"]) / "nomic.ai" / "GPT4All")
    return out


def _chat_arch(path: Path) -> str | None:
    """The GGUF's architecture when it is a readable chat model, else None."""
    from app.llm.gguf_check import check_gguf

    try:
        info = check_gguf(path)
    except Exception:  # a damaged or hostile file is simply not offered
        return None
    arch = info.architecture or "?"
    return None if arch in EMBEDDING_ARCHS else arch


def _folder_models(kind: str, roots: list[Path], seen: set[Path]) -> list[LocalModel]:
    out = []
    for root in roots:
        if not root.is_dir():
            continue
        for p in sorted(root.rglob("*.gguf")):
            real = p.resolve()
            if not p.is_file() or real in seen or "mmproj" in p.name.lower():
                continue
            arch = _chat_arch(p)
            if arch is None:
                continue
            seen.add(real)
            rel = p.relative_to(root).with_suffix("").as_posix()
            out.append(LocalModel(kind, rel, p, p.stat().st_size, arch, ("--llm", str(p))))
    return out


def discover_models() -> list[LocalModel]:
    """Every chat GGUF in the known places, biggest store first; each listed once (by real path)."""
    seen: set[Path] = set()
    found: list[LocalModel] = []
    oroot = models_dir()
    for ref in list_models(oroot):
        try:
            m = find_model(ref, root=oroot, verify=False)  # the digest is checked by `bundle create`
        except Exception:
            continue
        arch = _chat_arch(m.gguf)
        if arch is None or m.gguf.resolve() in seen:
            continue
        seen.add(m.gguf.resolve())
        found.append(LocalModel("ollama", m.name, m.gguf, m.gguf.stat().st_size, arch,
                                ("--from-ollama", ref, "--ollama-dir", str(oroot))))
    hub = hub_dir()
    if hub.is_dir():
        for repo_dir in sorted(hub.glob("models--*")):
            repo = repo_dir.name[len("models--"):].replace("--", "/", 1)
            for p in sorted(repo_dir.glob("snapshots/*/**/*.gguf")):
                real = p.resolve()
                if real in seen or not real.is_file() or "mmproj" in p.name.lower():
                    continue
                arch = _chat_arch(p)
                if arch is None:
                    continue
                seen.add(real)
                found.append(LocalModel("huggingface", f"{repo}/{p.name}", p, real.stat().st_size, arch,
                                        ("--from-hf", repo, "--hf-file", p.name)))
    found += _folder_models("lmstudio", lmstudio_dirs(), seen)
    found += _folder_models("gpt4all", gpt4all_dirs(), seen)
    return found


@dataclass(frozen=True)
class Speed:
    tokens_per_s: float
    ttft_s: float
    load_s: float


def measure_speed(model: LocalModel, *, max_tokens: int = 24) -> Speed:
    """Generation speed of the model on this machine (the bundle smoke test, in a child process)."""
    from app.bundle.smoke import smoke_test

    d = smoke_test(model.gguf, n_ctx=512, stop=[], max_tokens=max_tokens)
    return Speed(float(d["tokens_per_s"]), float(d["ttft_s"]), float(d["load_s"]))


def create_command(model: LocalModel, name: str | None = None) -> list[str]:
    """`bastion bundle create` for this model, as the first-run screen runs it."""
    return [sys.executable, "-m", "app", "bundle", "create", name or model.bundle_name(), *model.create_args, "--use"]
