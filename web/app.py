"""The FastAPI application: settings -> index and answer engine built at start-up -> routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from assistant.settings import Settings, get_settings
from web import errors, middleware
from web.deps import AppState
from web.feedback import FeedbackStore
from web.routes import api, openai, pages, trainers
from web.storage import open_database
from web.trainers import EvalJobs


def build_state(settings: Settings) -> AppState:
    """Build (or reuse) the index and the engine, and load the sections for the source pages."""
    from assistant.service import build_engine, build_retriever
    from retrieval.pipeline import load_corpus

    retriever, _ = build_retriever(settings)
    corpus = load_corpus(settings.data_dir)
    sections = {s.section_id: s for s in corpus.sections}
    database = open_database(settings)  # feedback and eval jobs, shared by every worker
    engine = build_engine(settings, retriever)
    return AppState(settings, engine, sections, corpus.titles, FeedbackStore(database), EvalJobs(database))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = build_state(settings)
        app.state.repere = state
        yield
        state.feedback.database.dispose()

    app = FastAPI(
        title="Repère",
        description="Assistant pour la protection de l'enfance, fondé sur les schémas et fiches action départementaux.",
        version="0.1.0",
        lifespan=lifespan,
    )
    errors.install(app)
    middleware.install(app, settings.rate_limit_per_minute)
    app.mount("/static", StaticFiles(directory=Path(__file__).resolve().parent / "static"), name="static")
    app.include_router(api.router)
    app.include_router(openai.router)
    app.include_router(pages.router)
    app.include_router(trainers.router)
    trainers.trainer_errors(app)
    return app
