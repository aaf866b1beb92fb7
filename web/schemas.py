"""HTTP bodies (pydantic at the boundary): the Repère JSON API and the OpenAI chat-completions subset."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from assistant.intake import MAX_QUESTION_CHARS, READABLE_PATTERN

Audience = Literal["famille", "professionnel"]
# What the answer engine accepts as a question: 1 to MAX_QUESTION_CHARS characters, one of them readable
# (not whitespace, a control character or a bidi override). The engine checks it (400 « La question est
# vide. »); the pattern documents it in the spec, so a request the spec calls valid is never refused.
NOT_BLANK: JsonDict = {"pattern": READABLE_PATTERN}


class Message(BaseModel):
    model_config = ConfigDict(strict=True)

    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, json_schema_extra=NOT_BLANK)
    audience: Audience = "famille"
    history: list[Message] = Field(default_factory=list, max_length=20)


class CitationOut(BaseModel):
    n: int
    section_id: str
    document: str
    fiche: str
    page: int | None
    territory: str | None
    source: str = Field(description="The source file: its corpus path, or « ajouts/<file> » for an added document.")
    start_line: int
    end_line: int
    quote: str
    reviewed: bool = Field(True, description="False for a document added with `repere ingest` and not reviewed yet.")
    url: str = Field("", description="The source page with the passage highlighted.")
    period: str = Field("", description="Period of the document (« 2017-2021 »).")


class AnalysisOut(BaseModel):
    """What the question analysis found."""

    danger_level: Literal["none", "concern", "immediate"]
    situation: str | None = Field(None, description="Situation of a child in danger recognised, if any.")
    asked: str = Field(description="What is asked: definition, contact, hours_address, cost_amount, …, general.")
    departement: str | None
    places: list[str]
    years: list[int]


class CitedOut(BaseModel):
    """A sentence of the answer and the [n] of the passages that hold it."""

    text: str
    n: list[int]
    note: str = Field("", description="« coordonnées de 2009, à vérifier » for contact details of an old document.")
    label: str = Field("", description="A card's contact line: « Contact » or « Horaires » (opening hours only).")


class CardOut(BaseModel):
    """A fiche of the answer: where, when, whether it still runs, its sentences and contacts."""

    title: str
    document: str = Field(description="Département and period of the document (« Loire, 2017-2021 »).")
    territory: str
    public: str
    status: str = Field(description="The action's follow-up as the source says it (« Action terminée »), or empty.")
    ended: bool
    lines: list[CitedOut]
    contacts: list[CitedOut]
    section_id: str
    steps: bool = Field(False, description="The lines are the steps of a procedure, in order.")
    age_note: str = Field(
        "",
        description="The public's ages leave out the child's the question tells (« ne vise pas un enfant de 10 ans »).",
    )


class BlockOut(BaseModel):
    """A part of the answer, in order: emergency, lead, cards, steps, contacts, notice or refusal."""

    kind: Literal["emergency", "lead", "cards", "steps", "contacts", "notice", "refusal"]
    text: str = Field(
        "", description="Prose (emergency numbers, notice, refusal, a model's answer), [n] markers inline."
    )
    title: str = ""
    items: list[CitedOut] = []
    cards: list[CardOut] = []


class AskResponse(BaseModel):
    question: str
    audience: Audience
    answer: str
    blocks: list[BlockOut] = Field(default_factory=list, description="The answer's parts, for a client to render.")
    citations: list[CitationOut]
    refused: bool
    emergency: bool
    reason: str
    engine: str
    analysis: AnalysisOut | None = None


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


class UserMessage(BaseModel):
    """A user turn: a question, so within the question limit."""

    model_config = ConfigDict(strict=True)

    role: Literal["user"]
    content: str = Field(max_length=MAX_QUESTION_CHARS)


class OtherMessage(BaseModel):
    """Any other turn (assistant, system, tool, developer): read as history or ignored."""

    model_config = ConfigDict(strict=True)

    role: Literal["system", "assistant", "tool", "developer"]
    content: str | None = Field(default=None, max_length=50_000)


ChatMessage = Annotated[UserMessage | OtherMessage, Field(discriminator="role")]
# The question is the last user message, which must exist and not be blank (checked by the route: 400).
HAS_QUESTION: JsonDict = {
    "contains": {
        "type": "object",
        "properties": {"role": {"const": "user"}, "content": {"type": "string", **NOT_BLANK}},
        "required": ["role", "content"],
    }
}


class ChatCompletionRequest(BaseModel):
    """The subset of the OpenAI chat-completions request that Repère reads (other fields are ignored)."""

    model_config = ConfigDict(strict=True)

    model: str = "repere-famille"
    messages: list[ChatMessage] = Field(min_length=1, max_length=50, json_schema_extra=HAS_QUESTION)
    stream: bool = False


class AnswerMessage(BaseModel):
    role: Literal["assistant"]
    content: str


class ChatChoice(BaseModel):
    index: int
    message: AnswerMessage
    finish_reason: Literal["stop"]


class ChatUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """The non-streamed chat-completions answer (the streamed one is `chat.completion.chunk` events)."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChatChoice]
    usage: ChatUsage
    sources: list[CitationOut] = Field(
        default_factory=list, description="Repère: the passages the answer cites (its [n]), beside the text."
    )


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

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


class ErrorOut(BaseModel):
    """Every error of the API: a French message in `detail`."""

    detail: str


class HealthOut(BaseModel):
    status: Literal["ok"]
    sections: int
    passages: int
    index: str  # the index collection in service (changes after a re-index)


class ModelOut(BaseModel):
    id: str
    object: Literal["model"]
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelOut]
