"""Request bodies of the OpenAI-compatible API (only the fields Bastion acts on; others are ignored)."""

from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: Union[str, list[dict[str, Any]], None] = None

    def text(self) -> str:
        """The content as plain text (OpenAI clients may send a list of typed parts)."""
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type") in ("text", "input_text"))
        return self.content or ""

    def plain(self) -> dict:
        role = "system" if self.role == "developer" else self.role
        return {"role": role, "content": self.text()}


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # top_p, n, user, ... are accepted and ignored

    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    rag: bool = True
    """Bastion extension: answer from the bundle's knowledge with citations (default on)."""

    def limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    def schema(self) -> dict | None:
        """The JSON schema asked for by `response_format`, in OpenAI or llama.cpp server form."""
        rf = self.response_format or {}
        kind = rf.get("type")
        if kind == "json_schema":
            spec = rf.get("json_schema") or {}
            return spec.get("schema") or {"type": "object"}
        if kind == "json_object":
            return rf.get("schema") or {"type": "object"}
        return None


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str | None = None
    input: Union[str, list[str]]
    encoding_format: Literal["float", "base64"] = "float"

    def texts(self) -> list[str]:
        return [self.input] if isinstance(self.input, str) else list(self.input)
