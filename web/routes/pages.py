"""HTML pages: audience choice, the chat (works without JavaScript), fiche pages, feedback form;
GET /api/ask/stream streams an answer as server-sent events for the page's JavaScript."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.sse import EventSourceResponse, format_sse_event
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from assistant.conversation import Turn
from assistant.intake import MAX_QUESTION_CHARS, AskError
from assistant.reply import Answer
from web.deps import StateDep
from web.feedback import REASONS, Feedback
from web.render import Segmenter, grouped_sources, passage_link

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
AUDIENCES = ("famille", "professionnel")
MAX_PREVIOUS = 5


def _audience(value: str | None) -> str | None:
    return value if value in AUDIENCES else None


def answer_html(request: Request, answer: Answer, turn_id: str = "1") -> str:
    sources = [
        {"n": c.n, "section_id": c.section_id, "source": c.source, "start_line": c.start_line, "end_line": c.end_line}
        for c in answer.citations
    ]
    template = templates.get_template("_answer.html")
    return template.render(
        answer=answer,
        seg=Segmenter(answer),
        link=passage_link,
        turn_id=turn_id,
        sources=grouped_sources(answer),
        sources_json=json.dumps(sources, ensure_ascii=False),
    )


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    return templates.TemplateResponse(request, "index.html", {"audience": None})


EXAMPLES = {
    "famille": (
        "y a un groupe pour les parents vers Roanne ?",
        "c'est quoi une AED ?",
        "mon bébé a 3 mois, la PMI fait du massage bébé ?",
    ),
    "professionnel": (
        "Quelle différence entre une information préoccupante et un signalement ?",
        "Qui pilote la fiche action n°32 du schéma de l'Isère ?",
        "Quelles actions pour les jeunes majeurs dans la Loire ?",
    ),
}


@router.get("/chat", response_class=HTMLResponse)
async def chat(request: Request, state: StateDep, public: str | None = None) -> Response:
    audience = _audience(public)
    if audience is None:
        return RedirectResponse("/", status_code=303)
    covered: dict[str, list[str]] = {}
    for document in state.engine.retriever.documents.values():
        if document.is_reviewed() and document.period:
            covered.setdefault(document.departement_name(), []).append(document.period)
    context = _chat_context(
        audience,
        examples=EXAMPLES[audience],
        covered=[(place, ", ".join(sorted(set(periods)))) for place, periods in sorted(covered.items())],
    )
    return templates.TemplateResponse(request, "chat.html", context)


def _previous(values: list[str] | None) -> list[str]:
    """The last earlier questions (hidden fields sent back by the page), each within the question limit."""
    return [q[:MAX_QUESTION_CHARS] for q in (values or [])[-MAX_PREVIOUS:] if q.strip()]


def _chat_context(audience: str, **extra: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "audience": audience,
        "previous": [],
        "answer_html": "",
        "error": "",
        "draft": "",
        "notice": "",
        "max_chars": MAX_QUESTION_CHARS,
        "examples": (),
        "covered": [],
    }
    context.update(extra)
    return context


@router.post("/chat", response_class=HTMLResponse)
async def chat_post(
    request: Request,
    state: StateDep,
    question: Annotated[str, Form()] = "",
    audience: Annotated[str, Form()] = "famille",
    previous: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """The no-JavaScript path: the form posts here and the page comes back with the answer (or with the
    engine's French message, e.g. a question too long: the body size limit bounds what is read)."""
    chosen = _audience(audience) or "famille"
    previous = _previous(previous)
    history = [Turn("user", q) for q in previous]
    try:
        answer = await run_in_threadpool(state.engine.ask, question, chosen, history)
    except AskError as exc:
        context = _chat_context(chosen, error=str(exc), draft=question[:MAX_QUESTION_CHARS], previous=previous)
        return templates.TemplateResponse(request, "chat.html", context, status_code=400)
    kept = [*previous, question][-MAX_PREVIOUS:]

    html = Markup(answer_html(request, answer))
    return templates.TemplateResponse(request, "chat.html", _chat_context(chosen, answer_html=html, previous=kept))


@router.post("/api/ask/stream")
async def ask_stream(
    state: StateDep,
    request: Request,
    question: Annotated[str, Form()] = "",
    audience: Annotated[str, Form()] = "famille",
    previous: Annotated[list[str] | None, Form()] = None,
) -> EventSourceResponse:
    """Server-sent events for the page: "chunk" events with text as it is produced, then "done" with
    the answer rendered as an escaped HTML fragment (citation links, sources, feedback form); "error"
    with the engine's French message for a question it refuses to read (empty, too long). The question
    and the earlier ones travel in the POST body (the chat form's fields), never in a URL that proxies
    and browser histories keep."""
    chosen = _audience(audience) or "famille"
    history = [Turn("user", q) for q in _previous(previous)]

    def events() -> Iterator[bytes]:
        try:
            for piece in state.engine.events(question, chosen, history):
                if isinstance(piece, str):
                    if piece:  # the answer's body; its sources come with the final fragment
                        yield format_sse_event(event="chunk", data_str=json.dumps(piece, ensure_ascii=False))
                else:
                    payload = {"html": answer_html(request, piece), "question": piece.question}
                    yield format_sse_event(event="done", data_str=json.dumps(payload, ensure_ascii=False))
        except AskError as exc:
            yield format_sse_event(event="error", data_str=json.dumps({"detail": str(exc)}, ensure_ascii=False))

    return EventSourceResponse(events())


@router.post("/feedback", response_class=HTMLResponse)
async def feedback_form(
    request: Request,
    state: StateDep,
    useful: Annotated[str, Form()],
    question: Annotated[str, Form(max_length=MAX_QUESTION_CHARS)],
    audience: Annotated[str, Form()],
    answer: Annotated[str, Form(max_length=50_000)] = "",
    sources: Annotated[str, Form(max_length=50_000)] = "[]",
    reason: Annotated[str, Form()] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if useful not in ("oui", "non") or (reason and reason not in REASONS) or _audience(audience) is None:
        raise HTTPException(422, "Avis invalide : choisissez « utile » ou « pas utile ».")
    try:
        parsed = json.loads(sources)
    except json.JSONDecodeError:
        parsed = []
    entry = Feedback(
        useful == "oui",
        question,
        audience,
        answer,
        parsed if isinstance(parsed, list) else [],
        reason or None,
        comment or None,
    )
    await run_in_threadpool(state.feedback.add, entry)
    context = _chat_context(audience, notice="Merci, votre avis a été enregistré.")
    return templates.TemplateResponse(request, "chat.html", context, status_code=201)


@router.get("/sources/{section_id:path}", response_class=HTMLResponse)
async def source_page(request: Request, section_id: str, state: StateDep, l: str | None = None) -> Response:  # noqa: E741
    section = state.sections.get(section_id)
    if section is None:
        return templates.TemplateResponse(
            request,
            "error.html",
            {
                "audience": None,
                "title": "Fiche introuvable",
                "message": "Cette source n'existe pas (ou plus) dans le corpus.",
            },
            status_code=404,
        )
    start, end = _span(l)
    fields, first = [], True
    for fld in section.fields:
        lines = []
        for line in fld.lines:
            marked = start <= line.number <= end
            lines.append({"text": line.text, "marked": marked, "first": marked and first})
            first = first and not marked
        fields.append({"label": fld.label.rstrip(" :"), "lines": lines})
    siblings = [
        {"section_id": s.section_id, "title": s.display_title}
        for s in state.sections.values()
        if s.doc_id == section.doc_id
    ]
    source = {
        "section_id": section.section_id,
        "title": section.display_title,
        "document": state.documents.get(section.doc_id, ""),
        "page": section.page,
        "territory": section.territory,
        "public": section.public,
        "source": section.source,
        "start_line": section.start_line,
        "end_line": section.end_line,
        "unreviewed": section.doc_id in state.engine.retriever.unreviewed,
    }
    return templates.TemplateResponse(
        request, "source.html", {"audience": None, "source": source, "fields": fields, "siblings": siblings}
    )


def _span(value: str | None) -> tuple[int, int]:
    """ "12-18" -> (12, 18); anything else highlights nothing."""
    try:
        start, end = (int(part) for part in (value or "").split("-", 1))
    except ValueError:
        return (0, -1)
    return (start, end) if 0 < start <= end else (0, -1)
