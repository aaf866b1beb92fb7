"""The FastAPI application: routes, middleware and errors over a state (index, engine, database) that
the wiring (`repere/serve.py`) knows how to load.

A watcher task keeps the loaded index current: it retries while the index cannot be loaded (Chroma
server unreachable: requests get a 503 meanwhile) and loads a new index when a re-index switches the
pointer, swapping it in only once it is fully loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.resources
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from corpus.documents import Document
from retrieval.index import IndexStats
from web import errors, middleware
from web.config import WebSettings
from web.deps import AppState
from web.ratelimit import RateLimiter
from web.routes import api, docs, openai, pages, trainer_evals, trainers

log = logging.getLogger("repere")


@dataclass(frozen=True)
class Loading:
    """How the app gets its state, given by the wiring (`repere/serve.py`)."""

    build: Callable[[], AppState]  # index, engine, database: at start, and again after a failure
    reload: Callable[[AppState], AppState]  # the same state on the index the pointer designates now
    live_name: Callable[[], str | None]  # the collection the pointer designates
    review: Callable[[str, bool], tuple[Document, IndexStats]]  # mark an added document reviewed or not


async def watch_index(app: FastAPI, settings: WebSettings, loading: Loading) -> None:
    """Load the index when it becomes reachable; reload it when the live collection changes."""
    failing = False
    while True:
        await asyncio.sleep(settings.index_check_seconds)
        try:
            state: AppState | None = app.state.repere
            if state is None:
                app.state.repere = await asyncio.to_thread(loading.build)
                log.warning("Index chargé (%s) : le service répond de nouveau.", app.state.repere.collection)
            else:
                name = await asyncio.to_thread(loading.live_name)
                if name and name != state.collection:
                    app.state.repere = await asyncio.to_thread(loading.reload, state)
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


def create_app(settings: WebSettings, loading: Loading) -> FastAPI:
    """The app over the settings it reads; its state is loaded at start-up by `loading` (see
    `repere.serve.create_app`, the factory the server runs)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started = time.perf_counter()
        try:
            app.state.repere = await asyncio.to_thread(loading.build)
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
        watcher = asyncio.create_task(watch_index(app, settings, loading))
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
    app.state.loading = loading  # the trainers' pages mark added documents reviewed through it
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
