"""JSON API: POST /api/ask, GET /api/sources/{section_id}, GET /healthz."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from assistant.citations import display_source
from assistant.conversation import Turn
from assistant.reply import Answer
from corpus.documents import Document
from web.deps import StateDep
from web.errors import documented
from web.feedback import Feedback
from web.render import passage_link
from web.schemas import (
    AnalysisOut,
    AskRequest,
    AskResponse,
    BlockOut,
    CitationOut,
    FeedbackIn,
    FeedbackSaved,
    FieldOut,
    HealthOut,
    SourceOut,
)

router = APIRouter()


def citations_out(answer: Answer, documents: Mapping[str, Document], base_url: str) -> list[CitationOut]:
    """The answer's citations for a client: a link it can open, the document's period, no server path."""
    out = []
    for c in answer.citations:
        document = documents.get(c.section_id.split("/", 1)[0])
        out.append(
            CitationOut(
                n=c.n,
                section_id=c.section_id,
                document=c.document,
                fiche=c.fiche,
                page=c.page,
                territory=c.territory,
                source=display_source(c.source),
                start_line=c.start_line,
                end_line=c.end_line,
                quote=c.quote,
                reviewed=c.reviewed,
                url=base_url.rstrip("/") + passage_link(c),
                period=document.period if document else "",
            )
        )
    return out


def answer_out(answer: Answer, documents: Mapping[str, Document], base_url: str) -> AskResponse:
    return AskResponse(
        question=answer.question,
        audience=answer.audience,
        answer=answer.text,
        blocks=[BlockOut.model_validate(asdict(block)) for block in answer.blocks],
        citations=citations_out(answer, documents, base_url),
        refused=answer.refused,
        emergency=answer.emergency,
        reason=answer.reason,
        engine=answer.engine,
        analysis=analysis_out(answer),
    )


def analysis_out(answer: Answer) -> AnalysisOut | None:
    q = answer.analysis
    if q is None:
        return None
    return AnalysisOut(
        danger_level=q.danger.level.value,
        situation=q.danger.situation,
        asked=q.asked,
        departement=q.departement,
        places=[p.name for p in q.places],
        years=list(q.years),
    )


@router.post(
    "/api/ask",
    response_model=AskResponse,
    summary="Poser une question",
    responses=documented(400, 413, 422, 429, 503),
)
async def ask(body: AskRequest, state: StateDep, request: Request) -> AskResponse:
    """Answer from the corpus, with citations; refusal and emergency flags."""
    history = [Turn(m.role, m.content) for m in body.history]
    answer = await run_in_threadpool(state.engine.ask, body.question, body.audience, history)
    return answer_out(answer, state.engine.retriever.documents, str(request.base_url))


@router.get(
    "/api/sources/{section_id:path}",
    response_model=SourceOut,
    summary="Lire une fiche source",
    responses=documented(404, 422, 503),
)
async def source(section_id: str, state: StateDep) -> SourceOut:
    """A section (fiche) of the corpus: metadata, cleaned text by field with line spans, siblings."""
    section = state.sections.get(section_id)
    if section is None:
        raise HTTPException(404, f"Source inconnue : {section_id}")
    siblings = [s.section_id for s in state.sections.values() if s.doc_id == section.doc_id]
    return SourceOut(
        section_id=section.section_id,
        document=state.documents.get(section.doc_id, ""),
        kind=section.kind,
        number=section.number,
        title=section.display_title,
        page=section.page,
        territory=section.territory,
        public=section.public,
        source=section.source,
        start_line=section.start_line,
        end_line=section.end_line,
        fields=[
            FieldOut(label=f.label, text=f.text, start_line=f.lines[0].number, end_line=f.lines[-1].number)
            for f in section.fields
            if f.lines
        ],
        siblings=siblings,
    )


@router.post(
    "/api/feedback",
    response_model=FeedbackSaved,
    status_code=201,
    summary="Donner son avis sur une réponse",
    responses=documented(400, 413, 422, 429, 503),
)
async def feedback(body: FeedbackIn, state: StateDep) -> FeedbackSaved:
    """Store a useful / not useful judgement with its question, answer and sources."""
    entry = Feedback(
        body.useful, body.question, body.audience, body.answer, list(body.sources), body.reason, body.comment
    )
    ident = await run_in_threadpool(state.feedback.add, entry)
    return FeedbackSaved(id=ident, message="Merci, votre avis a été enregistré.")


@router.get("/healthz", response_model=HealthOut, summary="État du service", responses=documented(503))
async def healthz(state: StateDep) -> HealthOut:
    return HealthOut(
        status="ok", sections=len(state.sections), passages=len(state.engine.retriever), index=state.collection
    )
