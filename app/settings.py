"""User settings: a validated pydantic-settings model.

Sources, strongest first: constructor arguments, `BASTION_*` environment
variables (nested with `__`, e.g. `BASTION_ENGINE__N_CTX=8192`), the TOML file
(`app.paths.config_file()`), defaults. Nothing is created at import time: call
`load_settings()`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from app import paths
from app.errors import ConfigError


class _Section(BaseModel):
    # A typo in the settings file is an error, not a silently ignored key.
    model_config = ConfigDict(extra="forbid")


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
    remote_url: str | None = None
    """Base URL of an OpenAI-compatible server (llama.cpp server, vLLM) for `kind = "remote"`."""
    remote_model: str = "default"
    """Model name sent to the remote server."""
    remote_api_key: str | None = None
    """API key for the remote server, if it needs one."""


class RetrievalSettings(_Section):
    """How knowledge is retrieved for chat."""

    k: int = Field(5, ge=1, le=50)
    """Sources put in front of the model per question."""
    min_score: float = 0.0
    """Relevance floor: chunks scoring below are never cited (0 = the retriever's own default)."""
    use_bundle_index: bool = True
    """Search the bundle's own knowledge index."""
    knowledge_bases: list[str] = Field(default_factory=list)
    """User knowledge bases searched in chat (empty = all of them)."""
    chroma_url: str | None = None
    """A remote Chroma server (http://host:port) instead of the local index, for team mode."""


class AnalysisSettings(_Section):
    """Secure-code analysis."""

    use_model: bool = True
    """Ask the chat model to explain and fix static findings."""
    max_file_bytes: int = Field(2_000_000, ge=1)
    """Files larger than this are skipped with a message."""


class Settings(BaseSettings):
    """All of Bastion's settings."""

    model_config = SettingsConfigDict(
        env_prefix="BASTION_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    bundle: Path | None = None
    """Bundle directory; empty means the starter bundle under BASTION_HOME."""
    engine: EngineSettings = Field(default_factory=EngineSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    analysis: AnalysisSettings = Field(default_factory=AnalysisSettings)
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
        toml = TomlConfigSettingsSource(settings_cls, toml_file=paths.config_file())
        return (init_settings, env_settings, toml)

    def bundle_path(self) -> Path:
        """The bundle to open: the configured one, else the starter bundle."""
        return Path(self.bundle).expanduser() if self.bundle else paths.starter_bundle_dir()


def load_settings(**overrides: object) -> Settings:
    """Load settings; a bad file or variable becomes a `ConfigError` naming it."""
    cfg = paths.config_file()
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']} (got {err.get('input')!r})"
            for err in exc.errors()
        )
        raise ConfigError(
            f"invalid settings ({problems})",
            hint=f"edit {cfg} or the BASTION_* environment variable named above",
        ) from None
    except Exception as exc:  # tomllib.TOMLDecodeError and friends
        if exc.__class__.__name__ == "TOMLDecodeError":
            raise ConfigError(
                f"{cfg}: not valid TOML ({exc})", hint=f"fix or delete {cfg}"
            ) from None
        raise


def save_settings(settings: Settings) -> Path:
    """Write settings to the TOML file atomically; returns its path."""
    import tomli_w

    from app.atomic import write_text

    data = settings.model_dump(mode="json", exclude_none=True)
    cfg = paths.config_file()
    write_text(cfg, tomli_w.dumps(data))
    return cfg
