"""The model's analysis answer, as a type: what the model layer constrains generation to.

One definition for everyone who touches the model's answer: `model_layer` sends the JSON schema
derived from these models as the generation grammar, the builder writes training targets that
validate against them, and the builder's eval scores answers with `parse_review` / `parse_solo`.

Two modes:
- review (static findings present): one required `FindingReview` per static finding, keyed
  F1..Fn, plus up to `max_extra` `ExtraFinding`s the model adds on its own;
- solo (model only): a verdict, a reason and up to `max_findings` `SoloFinding`s.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

ModelLabel = Literal["low", "medium", "high", "critical"]
CweId = Annotated[str, Field(pattern=r"^CWE-[1-9][0-9]{0,3}$")]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class FindingReview(_Answer):
    """The model's review of one static finding."""

    verdict: Literal["confirm", "dispute"]
    reason: str = Field(max_length=120)
    explanation: str = Field(max_length=200)
    fixed_lines: str = Field(max_length=240)
    """Replacement code for the flagged line(s); empty when the model proposes none."""


class ExtraFinding(_Answer):
    """A weakness the model adds that the static rules did not report."""

    line: int = Field(ge=1)
    cwe: CweId
    label: ModelLabel
    analysis: str = Field(max_length=200)


class SoloFinding(ExtraFinding):
    """A finding in model-only mode, with its replacement lines."""

    fixed_lines: str = Field(max_length=240)


class SoloAnswer(_Answer):
    """Model-only mode: is the code vulnerable, why, and where."""

    verdict: Literal["vulnerable", "safe"]
    reason: str = Field(max_length=200)
    findings: list[SoloFinding] = Field(max_length=3)


def finding_keys(n_findings: int) -> list[str]:
    return [f"F{i}" for i in range(1, n_findings + 1)]


def review_model(n_findings: int, *, max_extra: int = 1) -> type[_Answer]:
    """The answer type for `n_findings` static findings: F1..Fn (each a FindingReview) and `extra`."""
    fields: dict[str, Any] = {k: (FindingReview, ...) for k in finding_keys(n_findings)}
    fields["extra"] = (list[ExtraFinding], Field(max_length=max_extra))
    return create_model(f"ReviewAnswer{n_findings}", __base__=_Answer, **fields)


def solo_model(*, max_findings: int = 3) -> type[_Answer]:
    if max_findings == 3:
        return SoloAnswer
    return create_model(f"SoloAnswer{max_findings}", __base__=SoloAnswer,
                        findings=(list[SoloFinding], Field(max_length=max_findings)))


def grammar_schema(model: type[BaseModel]) -> dict:
    """The model's JSON schema, inlined and without titles: what llama.cpp turns into a grammar."""
    raw = model.model_json_schema()
    defs = raw.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: inline(v) for k, v in node.items() if k not in ("title", "description")}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return inline(raw)


def review_schema(n_findings: int, *, max_extra: int = 1) -> dict:
    """One required review per static finding (F1..Fn) plus up to `max_extra` model-only findings."""
    return grammar_schema(review_model(n_findings, max_extra=max_extra))


def solo_schema(*, max_findings: int = 3) -> dict:
    """Model-only mode: a verdict, a reason, and up to `max_findings` findings."""
    return grammar_schema(solo_model(max_findings=max_findings))


def parse_review(text: str | bytes | dict, n_findings: int, *, max_extra: int = 1) -> BaseModel:
    """A review answer (JSON text or an object) validated; raises pydantic's ValidationError."""
    model = review_model(n_findings, max_extra=max_extra)
    return model.model_validate(text) if isinstance(text, dict) else model.model_validate_json(text)


def parse_solo(text: str | bytes | dict, *, max_findings: int = 3) -> BaseModel:
    model = solo_model(max_findings=max_findings)
    return model.model_validate(text) if isinstance(text, dict) else model.model_validate_json(text)


class ModeScores(BaseModel):
    """Precision, recall and F1 of one analysis mode (vulnerable vs safe)."""

    precision: float = Field(ge=0, le=1)
    recall: float = Field(ge=0, le=1)
    f1: float = Field(ge=0, le=1)


class AnalysisEval(BaseModel):
    """Held-out analysis figures a bundle's manifest records under `metrics["analysis"]`.

    `app.analysis.policy.decide` reads them: the model layer runs by default only when `hybrid`
    beats `static` (same cases, same run) on a held-out split.
    """

    static: ModeScores
    hybrid: ModeScores
    cases: int = Field(ge=1)
    """Held-out cases both modes were scored on."""
    split: str = "test"
    """Which split the figures come from; only a held-out split counts."""
    dataset: str = ""
