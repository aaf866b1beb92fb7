"""Optional LLM answers: numbered passages -> a LangChain chat model -> an answer whose [n] markers
and contact details are checked against the passages. Only this module calls a model.

The model is configured by settings: "openai:<model>" for any OpenAI-compatible endpoint (vLLM,
llama.cpp server, Albert, Mistral…) or "ollama:<model>". Timeouts are bounded and retries off, so a
slow or broken endpoint falls back to the extractive answer quickly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import SecretStr

from assistant.citations import Citation, markers, repair_markers, strip_unverified_contacts
from prompts.render import Profile, render


class LLMError(RuntimeError):
    """The chat model failed or answered something unusable (no valid citation)."""


def make_chat_model(
    spec: str, base_url: str | None = None, api_key: str | None = None, timeout: float = 20.0
) -> BaseChatModel:
    """Chat model from a settings string such as "openai:mistral-small" or "ollama:llama3.1"."""
    kind, _, model = spec.partition(":")
    if kind == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=model,
            base_url=base_url,
            api_key=SecretStr(api_key or "non-utilisee"),
            timeout=timeout,
            max_retries=0,
            temperature=0,
        )
    if kind == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(model=model, base_url=base_url, temperature=0, client_kwargs={"timeout": timeout})
    raise ValueError(f"Modèle de langue inconnu : {spec!r} (attendu : openai:<modèle> ou ollama:<modèle>).")


def messages_for(question: str, profile: Profile, passages: Sequence[Citation]) -> list[BaseMessage]:
    return [
        SystemMessage(render("llm_system.j2", profile=profile)),
        HumanMessage(render("llm_user.j2", question=question, passages=list(passages))),
    ]


def stream_lines(model: BaseChatModel, question: str, profile: Profile, passages: Sequence[Citation]) -> Iterator[str]:
    """Model output streamed line by line, each line checked (markers, contacts) before it is sent.

    Raises LLMError if the stream fails before any line was produced."""
    valid = [p.n for p in passages]
    quotes = {p.n: p.quote for p in passages}
    buffer, produced = "", False

    def checked(line: str) -> str:
        line = repair_markers(line, valid)
        return strip_unverified_contacts(line, [quotes[n] for n in markers(line)])

    try:
        for chunk in model.stream(messages_for(question, profile, passages)):
            buffer += chunk.content if isinstance(chunk.content, str) else str(chunk.content)
            while "\n" in buffer:
                line, buffer = buffer.split("\n", 1)
                produced = True
                yield checked(line) + "\n"
    except Exception as exc:
        if not produced:
            raise LLMError(f"{type(exc).__name__}: {exc}") from exc
        yield "\n(La suite de la réponse n'a pas pu être produite.)\n"
        return
    if buffer:
        yield checked(buffer)
