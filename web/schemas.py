"""HTTP bodies (pydantic at the boundary): the Repère JSON API and the OpenAI chat-completions subset."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.answer import MAX_QUESTION_CHARS

Audience = Literal["famille", "professionnel"]


class Message(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    audience: Audience = "famille"
    history: list[Message] = Field(default_factory=list, max_length=20)


class CitationOut(BaseModel):
    n: int
    section_id: str
    document: str
    fiche: str
    page: int | None
    territory: str | None
    source: str
    start_line: int
    end_line: int
    quote: str


class AskResponse(BaseModel):
    question: str
    audience: Audience
    answer: str
    citations: list[CitationOut]
    refused: bool
    emergency: bool
    reason: str
    engine: str


class FieldOut(BaseModel):
    label: str
    text: str
    start_line: int
    end_line: int


class SourceOut(BaseModel):
    section_id: str
    document: str
    kind: str
    number: str | None
    title: str
    page: int | None
    territory: str | None
    public: str | None
    source: str
    start_line: int
    end_line: int
    fields: list[FieldOut]
    siblings: list[str]  # other sections of the same document, in order


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | None = None


class ChatCompletionRequest(BaseModel):
    """The subset of the OpenAI chat-completions request that Repère reads (other fields are ignored)."""

    model: str = "repere-famille"
    messages: list[ChatMessage] = Field(min_length=1, max_length=50)
    stream: bool = False


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    useful: bool
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    audience: Audience
    answer: str = Field(max_length=50_000)
    sources: list[dict[str, object]] = Field(default_factory=list, max_length=50)
    reason: Literal["mauvaise_source", "information_manquante", "pas_comprehensible", "autre"] | None = None
    comment: str | None = Field(default=None, max_length=2000)


class FeedbackSaved(BaseModel):
    id: int
    message: str
