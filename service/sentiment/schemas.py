"""Request and response bodies of `POST /v1/sentiment` (also used by `cem sentiment`)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from service.sentiment.results import SentimentResult

MAX_BATCH = 100
MAX_TEXT_CHARS = 20_000
# BCP-47-ish: "vi", "zh-Hans-CN", "en_US"; only the primary subtag is used.
LanguageTag = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$", max_length=35)
]
ItemId = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("text must contain something other than whitespace")
    return text


class SentimentItem(BaseModel):
    """One text to score; `language` is a hint that wins over detection."""

    model_config = ConfigDict(extra="forbid")

    id: ItemId | None = Field(default=None, description="Echoed back; yours to choose.")
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    language: LanguageTag | None = Field(default=None, examples=["vi"])

    _text = field_validator("text")(_not_blank)


class SentimentRequest(BaseModel):
    """Either one text (`text`, `language`, `id`) or a batch (`items`), not both."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "Product great, delivery terrible", "language": "en"},
                {
                    "items": [
                        {"id": "t-1", "text": "không tệ chút nào"},
                        {"id": "t-2", "text": "一点也不差"},
                    ]
                },
            ]
        },
    )

    id: ItemId | None = None
    text: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT_CHARS)
    language: LanguageTag | None = None
    items: list[SentimentItem] | None = Field(default=None, min_length=1, max_length=MAX_BATCH)

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str | None) -> str | None:
        return None if value is None else _not_blank(value)

    @model_validator(mode="after")
    def _one_shape(self) -> Self:
        if (self.text is None) == (self.items is None):
            raise ValueError("give either `text` or `items` (a batch of up to 100), not both")
        if self.items is not None and (self.id or self.language):
            raise ValueError("`id` and `language` belong inside each item of a batch")
        return self

    def as_items(self) -> list[SentimentItem]:
        """The request as a list of items (one for a single text)."""
        if self.items is not None:
            return self.items
        assert self.text is not None  # guaranteed by _one_shape
        return [SentimentItem(id=self.id, text=self.text, language=self.language)]


class ScoredText(SentimentResult):
    """A result with the caller's id."""

    id: str | None = None


class SentimentResponse(BaseModel):
    """One result per item, in request order."""

    results: list[ScoredText]
