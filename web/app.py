"""The FastAPI application: settings -> index and answer engine loaded at start-up -> routes.

A watcher task keeps the loaded index current: it retries while the index cannot be loaded (Chroma
server unreachable: requests get a 503 meanwhile) and loads a new index when a re-index switches the
pointer, swapping it in only once it is fully loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib.resources
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from assistant.settings import Settings, get_settings
from web import errors, middleware
from web.deps import AppState
from web.feedback import FeedbackStore
from web.ratelimit import RateLimiter
from web.routes import api, docs, openai, pages, trainer_evals, trainers
from web.storage import open_database
from web.trainers import EvalJobs

log = logging.getLogger("repere")


def build_state(settings: Settings) -> AppState:
    """Build (or reuse) the index and the engine, and load the sections for the source pages."""
    from assistant.service import build_engine, build_retriever
    from retrieval.pipeline import load_corpus

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


def reload_state(state: AppState) -> AppState:
    """The same state on the index the pointer designates now (built by another process)."""
    from assistant.service import build_engine, load_retriever
    from retrieval.pipeline import load_corpus

    corpus = load_corpus(state.settings.data_dir)
    loaded = load_retriever(state.settings, corpus)
    if loaded is None:
        return state
    retriever, name = loaded
    return dataclasses.replace(
        state,
        engine=build_engine(state.settings, retriever),
        sections={s.section_id: s for s in corpus.sections},
        documents=corpus.titles,
        collection=name,
    )


async def watch_index(app: FastAPI, settings: Settings) -> None:
    """Load the index when it becomes reachable; reload it when the live collection changes."""
    from assistant.service import live_index_name

    failing = False
    while True:
        await asyncio.sleep(settings.index_check_seconds)
        try:
            state: AppState | None = app.state.repere
            if state is None:
                app.state.repere = await asyncio.to_thread(build_state, settings)
                log.warning("Index chargé (%s) : le service répond de nouveau.", app.state.repere.collection)
            else:
                name = await asyncio.to_thread(live_index_name, settings)
                if name and name != state.collection:
                    app.state.repere = await asyncio.to_thread(reload_state, state)
                    log.warning("Nouvel index en service : %s", app.state.repere.collection)
            failing = False
        except Exception as exc:  # keep serving (or answering 503) and try again later
            if not failing:
                serving = "les réponses continuent sur l'index chargé" if app.state.repere else "réponses 503"
                log.error(
                    "Index injoignable (%s) : %s, nouvel essai toutes les %g s.",
                    exc,
                    serving,
                    settings.index_check_seconds,
                )
            failing = True


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started = time.perf_counter()
        try:
            app.state.repere = await asyncio.to_thread(build_state, settings)
            log.warning(
                "Processus serveur prêt : index %s chargé en %.1f s.",
                app.state.repere.collection,
                time.perf_counter() - started,
            )
        except Exception as exc:  # no crash loop: serve 503 until the index can be loaded
            from retrieval.index import IndexUnavailable

            what = f"base Chroma injoignable ({settings.chroma_url})" if isinstance(exc, IndexUnavailable) else exc
            log.error(
                "Erreur : index indisponible au démarrage, %s : le service répond 503 et réessaie toutes les %g s.",
                what,
                settings.index_check_seconds,
            )
            app.state.repere = None
        watcher = asyncio.create_task(watch_index(app, settings))
        yield
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        if app.state.repere is not None:
            app.state.repere.feedback.database.dispose()

    app = FastAPI(
        title="Repère",
        description="Assistant pour la protection de l'enfance, fondé sur les schémas et fiches action départementaux.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # /docs is served from the app's own files (web/routes/docs.py): the CSP allows no CDN
        redoc_url=None,
    )
    errors.install(app)
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_storage or "memory://")
    middleware.install(app, app.state.limiter, settings.keepalive_requests)
    app.mount("/static", StaticFiles(directory=Path(__file__).resolve().parent / "static"), name="static")
    swagger = importlib.resources.files("swagger_ui") / "static"  # Swagger UI's own files (swagger-ui-py)
    app.mount("/docs-assets", StaticFiles(directory=str(swagger)), name="docs-assets")
    app.include_router(api.router)
    app.include_router(openai.router)
    app.include_router(pages.router)
    app.include_router(trainers.router)
    app.include_router(trainer_evals.router)
    app.include_router(docs.router)
    trainers.trainer_errors(app)
    return app
