"""POST /v1/chat/completions compatible with the OpenAI protocol, so existing chat clients can use
Repère; the audience is chosen by the model name (repere-famille, repere-professionnel)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

from fastapi import APIRouter, HTTPException
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, format_sse_event

from assistant.conversation import Turn
from assistant.intake import has_text
from web.deps import StateDep
from web.errors import documented
from web.schemas import AnswerMessage, ChatChoice, ChatCompletion, ChatCompletionRequest, ChatUsage, ModelList, ModelOut

router = APIRouter()
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
async def chat_completions(body: ChatCompletionRequest, state: StateDep) -> ChatCompletion | EventSourceResponse:
    audience = _audience(body.model)
    question, history = _conversation(body)
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if not body.stream:
        answer = await run_in_threadpool(state.engine.ask, question, audience, history)
        return ChatCompletion(
            id=ident,
            object="chat.completion",
            created=created,
            model=body.model,
            choices=[
                ChatChoice(index=0, message=AnswerMessage(role="assistant", content=answer.text), finish_reason="stop")
            ],
            usage=ChatUsage(prompt_tokens=0, completion_tokens=0, total_tokens=0),
        )

    def chunk(delta: dict[str, str], finish: str | None = None) -> bytes:
        payload = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": body.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return format_sse_event(data_str=json.dumps(payload, ensure_ascii=False))

    def events() -> Iterator[bytes]:  # a sync generator: Starlette runs it in a thread, off the event loop
        yield chunk({"role": "assistant", "content": ""})
        for piece in state.engine.stream(question, audience, history):
            for line in piece.splitlines(keepends=True):
                yield chunk({"content": line})
        yield chunk({}, "stop")
        yield format_sse_event(data_str="[DONE]")

    return EventSourceResponse(events())
