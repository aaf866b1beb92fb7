"""POST /v1/chat/completions compatible with the OpenAI protocol, so existing chat clients can use
Repère; the audience is chosen by the model name (repere-famille, repere-professionnel)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, format_sse_event

from assistant.conversation import Turn
from assistant.intake import has_text
from assistant.reply import Answer
from prompts.render import render
from retrieval.chunk import token_count
from web.deps import StateDep
from web.errors import documented
from web.routes.api import citations_out
from web.schemas import (
    AnswerMessage,
    ChatChoice,
    ChatCompletion,
    ChatCompletionRequest,
    ChatUsage,
    CitationOut,
    ModelList,
    ModelOut,
)

router = APIRouter()


def _sources_text(answer: Answer) -> str:
    return "\n\n" + render("sources.j2", citations=answer.citations) if answer.citations else ""


MODELS = {"repere-famille": "famille", "repere-professionnel": "professionnel", "repere": "famille"}


def _audience(model: str) -> str:
    if model not in MODELS:
        raise HTTPException(404, f"Modèle inconnu : {model!r} (modèles : {', '.join(sorted(MODELS))}).")
    return MODELS[model]


def _conversation(body: ChatCompletionRequest) -> tuple[str, list[Turn]]:
    """The question is the last non-blank user message; the user and assistant turns before it are the
    history (system, tool and developer messages, and anything after the question, are not read)."""
    turns = [
        Turn(m.role, m.content or "")
        for m in body.messages
        if m.role in ("user", "assistant") and has_text(m.content or "")
    ]
    last = max((i for i, turn in enumerate(turns) if turn.role == "user"), default=None)
    if last is None:
        raise HTTPException(400, "La conversation ne contient aucune question de l'utilisateur.")
    return turns[last].text, turns[:last]


@router.get("/v1/models", response_model=ModelList, summary="Modèles (publics) disponibles")
async def models() -> ModelList:
    return ModelList(object="list", data=[ModelOut(id=m, object="model", owned_by="repere") for m in MODELS])


STREAMED = {
    "description": "La réponse : un objet `chat.completion`, ou des événements `chat.completion.chunk` si `stream`.",
    "model": ChatCompletion,
    "content": {
        "text/event-stream": {  # OpenAPI 3.1: the schema of one event
            "schema": {
                "type": "object",
                "properties": {
                    "event": {"const": "message"},
                    "data": {
                        "type": "string",
                        "description": "Un objet JSON `chat.completion.chunk`, puis `[DONE]`.",
                    },
                },
                "required": ["data"],
            }
        }
    },
}


@router.post(
    "/v1/chat/completions",
    summary="Compatible OpenAI chat completions",
    response_model=None,
    responses={200: STREAMED, **documented(400, 404, 413, 422, 429, 503)},
)
async def chat_completions(
    body: ChatCompletionRequest, state: StateDep, request: Request
) -> ChatCompletion | EventSourceResponse:
    audience = _audience(body.model)
    question, history = _conversation(body)
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    documents, base_url = state.engine.retriever.documents, str(request.base_url)
    if not body.stream:
        answer = await run_in_threadpool(state.engine.ask, question, audience, history)
        prompt = token_count("\n".join([*(turn.text for turn in history), question]))
        completion = token_count(answer.text)
        return ChatCompletion(
            id=ident,
            object="chat.completion",
            created=created,
            model=body.model,
            choices=[
                ChatChoice(index=0, message=AnswerMessage(role="assistant", content=answer.text), finish_reason="stop")
            ],
            usage=ChatUsage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion),
            sources=citations_out(answer, documents, base_url),
        )

    def chunk(delta: dict[str, str], finish: str | None = None, sources: list[CitationOut] | None = None) -> bytes:
        payload: dict[str, object] = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": body.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if sources is not None:  # Repère: the cited passages, with the last chunk
            payload["sources"] = [s.model_dump() for s in sources]
        return format_sse_event(data_str=json.dumps(payload, ensure_ascii=False))

    def events() -> Iterator[bytes]:  # a sync generator: Starlette runs it in a thread, off the event loop
        yield chunk({"role": "assistant", "content": ""})
        for piece in state.engine.events(question, audience, history):
            text = piece if isinstance(piece, str) else _sources_text(piece)
            for line in text.splitlines(keepends=True):
                yield chunk({"content": line})
            if not isinstance(piece, str):
                yield chunk({}, "stop", citations_out(piece, documents, base_url))
        yield format_sse_event(data_str="[DONE]")

    return EventSourceResponse(events())
