"""Dependencies of the routes: the settings and the objects built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from assistant.answer import AnswerEngine
from assistant.settings import Settings
from corpus.model import Section
from web.feedback import FeedbackStore
from web.trainers import EvalJobs


@dataclass
class AppState:
    settings: Settings
    engine: AnswerEngine
    sections: dict[str, Section]
    documents: dict[str, str]  # doc_id -> title
    feedback: FeedbackStore
    jobs: EvalJobs


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.repere
    return state


StateDep = Annotated[AppState, Depends(get_state)]
