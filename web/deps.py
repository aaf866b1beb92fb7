"""Dependencies of the routes: the settings and the objects built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from assistant.answer import AnswerEngine
from corpus.model import Section
from web.config import WebSettings
from web.feedback import FeedbackStore
from web.trainers import EvalJobs


@dataclass
class AppState:
    settings: WebSettings
    engine: AnswerEngine
    sections: dict[str, Section]
    documents: dict[str, str]  # doc_id -> title
    feedback: FeedbackStore
    jobs: EvalJobs
    collection: str  # the index collection the engine was loaded from


UNAVAILABLE = (
    "Le service est momentanément indisponible : la base documentaire ne répond pas. "
    "Merci de réessayer dans quelques instants. En cas de danger pour un enfant : 119 (gratuit, 24 h/24) ; "
    "danger immédiat : 17 ou 112."
)


def get_state(request: Request) -> AppState:
    """The loaded state, or a 503 while the index cannot be loaded (e.g. Chroma server unreachable)."""
    state: AppState | None = request.app.state.repere
    if state is None:
        raise HTTPException(503, UNAVAILABLE, headers={"Retry-After": "10"})
    return state


StateDep = Annotated[AppState, Depends(get_state)]
