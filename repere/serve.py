"""Wiring of the web app: settings -> the state it serves (index, engine, database, feedback, eval jobs)
-> `web.app.create_app`. `create_app` here is the factory the server runs (`repere serve`)."""

from __future__ import annotations

import dataclasses
import logging
from functools import partial

from fastapi import FastAPI

from repere.service import build_engine, build_retriever, live_index_name, load_retriever, review_document
from repere.settings import Settings, get_settings
from retrieval.pipeline import load_corpus
from web import app as web_app
from web.deps import AppState
from web.feedback import FeedbackStore
from web.storage import open_database
from web.trainers import EvalJobs

log = logging.getLogger("repere")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The web app over these settings (from the environment when none are given)."""
    settings = settings or get_settings()
    loading = web_app.Loading(
        build=partial(build_state, settings),
        reload=partial(reload_state, settings),
        live_name=partial(live_index_name, settings),
        review=partial(review_document, settings),
    )
    return web_app.create_app(settings, loading)


def build_state(settings: Settings) -> AppState:
    """Build (or reuse) the index and the engine, and load the sections for the source pages."""
    corpus = load_corpus(settings.data_dir)  # parsed once: for the index and for the source pages
    retriever, stats = build_retriever(settings, corpus=corpus, progress=_log_progress)
    sections = {s.section_id: s for s in corpus.sections}
    database = open_database(settings)  # feedback and eval jobs, shared by every worker
    engine = build_engine(settings, retriever)
    feedback = FeedbackStore(database, settings.feedback_retention_days)
    feedback.purge()  # the retention period, applied at start (then hourly, as feedback arrives)
    return AppState(
        settings,
        engine,
        sections,
        corpus.titles,
        feedback,
        EvalJobs(database),
        stats.collection,
    )


def _log_progress(done: int, total: int) -> None:
    """The index being built by this worker (the first one, when the corpus changed): its progress."""
    log.warning("Construction de l'index : %d/%d passages.", done, total)


def reload_state(settings: Settings, state: AppState) -> AppState:
    """The same state on the index the pointer designates now (built by another process)."""
    corpus = load_corpus(settings.data_dir)
    loaded = load_retriever(settings, corpus)
    if loaded is None:
        return state
    retriever, name = loaded
    return dataclasses.replace(
        state,
        engine=build_engine(settings, retriever),
        sections={s.section_id: s for s in corpus.sections},
        documents=corpus.titles,
        collection=name,
    )
