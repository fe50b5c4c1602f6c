"""User settings: a validated pydantic-settings model.

Sources, strongest first: constructor arguments, `BASTION_*` environment
variables (nested with `__`, e.g. `BASTION_ENGINE__N_CTX=8192`), the TOML file
(`app.paths.config_file()`), defaults. Nothing is created at import time: call
`load_settings()`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from app import paths
from app.errors import ConfigError
from app.flags import parse_flag


# A bool setting read with `parse_flag` (pydantic's own bool also takes t/f/y/n and 0.0).
Flag = Annotated[bool, BeforeValidator(lambda v: parse_flag(v))]


def read_config_file(path: Path) -> dict[str, Any]:
    """The TOML settings file as a dict: read as bytes, UTF-8 (a BOM is fine), clear errors.

    A missing file is an empty dict.
    """
    import tomllib

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})",
                          hint=f"check the permissions of {path}") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}, line {line})",
            hint=f"save {path} as UTF-8 (or delete it to start from the defaults)",
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", hint=f"fix or delete {path}") from None


class _TomlFile(PydanticBaseSettingsSource):
    """The settings file as a settings source (read by `read_config_file`)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        self.data = read_config_file(path)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.data)


class _Section(BaseModel):
    # A typo in the settings file is an error, not a silently ignored key.
    model_config = ConfigDict(extra="forbid")


class SamplingSettings(_Section):
    """Sampling knobs for the chat model; an empty one keeps the bundle's preset (prompts.toml [sampling])."""

    temperature: float | None = Field(None, ge=0.0, le=2.0)
    """Sampling temperature (overrides the preset's and `engine.temperature`)."""
    top_k: int | None = Field(None, ge=0)
    """Sample among the k most likely tokens (0 = all)."""
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    """Nucleus sampling: the smallest token set with this much probability."""
    min_p: float | None = Field(None, ge=0.0, le=1.0)
    """Drop tokens less likely than this share of the most likely one."""
    repeat_penalty: float | None = Field(None, ge=0.0)
    """Penalty for repeating recent tokens (1.0 = none)."""
    presence_penalty: float | None = Field(None, ge=-2.0, le=2.0)
    """Penalty for any token already present in the answer."""
    frequency_penalty: float | None = Field(None, ge=-2.0, le=2.0)
    """Penalty growing with how often a token already appeared."""


class EngineSettings(_Section):
    """How the chat model runs."""

    kind: Literal["local", "remote"] = "local"
    """`local` runs the bundle's GGUF through llama.cpp; `remote` calls an OpenAI-compatible server."""
    n_ctx: int = Field(4096, ge=256)
    """Context window in tokens (capped by the model's trained context)."""
    n_threads: int | None = Field(None, ge=1)
    """CPU threads for generation; empty means llama.cpp's default (physical cores)."""
    n_gpu_layers: int = 0
    """Layers to offload to a GPU build of llama.cpp (-1 = all)."""
    temperature: float = Field(0.2, ge=0.0, le=2.0)
    """Sampling temperature; low keeps answers close to the sources."""
    max_tokens: int = Field(512, ge=1)
    """Longest answer, in tokens."""
    seed: int = 0
    """Sampling seed, for reproducible answers."""
    prompt_lookup: int = Field(10, ge=0, le=64)
    """Prompt-lookup decoding: up to this many tokens drafted per step from the sources and the
    conversation (0 = off). Used only with weights llama.cpp evaluates batch-exactly (Q4_0, Q4_1,
    Q5_0, Q5_1, Q8_0), where it never changes the text; K-quant models decode as before."""
    remote_url: str | None = None
    """Base URL of an OpenAI-compatible server (llama.cpp server, vLLM) for `kind = "remote"`."""
    remote_model: str = "default"
    """Model name sent to the remote server."""
    remote_api_key: str | None = None
    """API key for the remote server, if it needs one."""
    sampling: SamplingSettings = Field(default_factory=SamplingSettings)
    """Sampling overrides on top of the bundle's preset."""
    resident: Flag = False
    """Opt-in until its start is reliable under load (docs/closing-notes/issue-27.md). Keep the model loaded in a per-user engine process (a private Unix socket, never the network)
    that `ask`, `analyze`, the UI and `serve` share; off = every command loads the model itself."""
    resident_idle_s: int = Field(900, ge=1)
    """Seconds without a request after which the resident engine exits and frees its memory."""


class RetrievalSettings(_Section):
    """How knowledge is retrieved for chat."""

    k: int = Field(5, ge=1, le=50)
    """Sources put in front of the model per question."""
    min_score: float = 0.0
    """Relevance floor: chunks scoring below are never cited (0 = the retriever's own default)."""
    use_bundle_index: Flag = True
    """Search the bundle's own knowledge index."""
    knowledge_bases: list[str] = Field(default_factory=list)
    """User knowledge bases searched in chat (empty = all of them)."""
    chroma_url: str | None = None
    """A remote Chroma server (http://host:port) instead of the local index, for team mode."""
    max_file_mb: float | None = Field(None, gt=0)
    """Ingest skips files larger than this many MB (empty: 10 MB for text, 100 MB for PDF)."""
    context_tokens: int | None = Field(None, ge=0)
    """Token budget for the sources put in front of the model, each cut to what matches the question
    (empty: the bundle's prompts.toml [retrieval] context_tokens; 0: whole chunks)."""


class AnalysisSettings(_Section):
    """Secure-code analysis."""

    use_model: Flag = True
    """Ask the chat model to explain and fix static findings."""
    max_file_bytes: int = Field(2_000_000, ge=1)
    """Files larger than this are skipped with a message."""


class TrustSettings(_Section):
    """Which bundle signers are trusted (see app/bundle/signing.py)."""

    keys: list[str] = Field(default_factory=list)
    """Trusted signer public keys: `ed25519:<base64>` lines or paths of `.pub` files (plus BASTION_HOME/keys/trusted/*.pub)."""
    allow_unsigned: Flag = False
    """Load bundles that are unsigned or signed by an unknown key (a warning is logged); altered ones are always refused."""


class Settings(BaseSettings):
    """All of Bastion's settings."""

    model_config = SettingsConfigDict(
        env_prefix="BASTION_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    bundle: Path | None = None
    """Bundle name (under BASTION_HOME/bundles) or directory; empty means the starter bundle."""
    engine: EngineSettings = Field(default_factory=EngineSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    analysis: AnalysisSettings = Field(default_factory=AnalysisSettings)
    trust: TrustSettings = Field(default_factory=TrustSettings)
    keys: dict[str, str] = Field(default_factory=dict)
    """TUI key bindings to remap: action name -> key (e.g. `cancel = "escape"`)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFile(settings_cls, paths.config_file()))

    def bundle_path(self) -> Path:
        """The bundle to open: the configured one (a name under bundles/ or a path), else the starter bundle."""
        from app.bundle.names import bundle_dir

        return bundle_dir(self.bundle) if self.bundle else paths.starter_bundle_dir()


def load_settings(**overrides: object) -> Settings:
    """Load settings; a bad file or variable becomes a `ConfigError` naming it."""
    cfg = paths.config_file()
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(_problem(err) for err in exc.errors())
        raise ConfigError(
            f"invalid settings ({problems})",
            hint=f"edit {cfg} or the BASTION_* environment variable named above",
        ) from None


def _problem(err: dict) -> str:
    """One validation error, naming the environment variable when that is where the value came from."""
    loc = [str(p) for p in err["loc"]]
    env = "BASTION_" + "__".join(loc).upper()
    where = f" (from {env})" if any(k.upper() == env for k in os.environ) else ""
    return f"{'.'.join(loc)}: {err['msg']} (got {err.get('input')!r}){where}"


def save_settings(settings: Settings) -> Path:
    """Write settings to the TOML file atomically; returns its path."""
    import tomli_w

    from app.atomic import write_text

    data = settings.model_dump(mode="json", exclude_none=True)
    cfg = paths.config_file()
    write_text(cfg, tomli_w.dumps(data))
    return cfg
