"""/formateurs: log in and out, review feedback, turn an entry into an eval item by choosing one of the
passages its answer cited, export feedback and the trainers' eval file (the eval runs: trainer_evals.py).
Protected by the trainer token from the settings."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from filelock import Timeout

from assistant.citations import display_source
from corpus.documents import Document, load_manifest
from corpus.errors import IngestError
from evals.check import EMPTY_GOLD_KINDS, OPTIONAL_GOLD_KINDS
from evals.run import load_items
from retrieval.index import IndexUnavailable
from retrieval.pipeline import ingested_manifest
from web import labels
from web.deps import AppState, StateDep, get_state
from web.ratelimit import RateLimiter
from web.routes.pages import templates
from web.security import SESSION_COOKIE, SESSION_PATH, csv_cell, new_session, same_token, secure_cookie, valid_session
from web.trainers import NEEDS_PASSAGE, append_item, cited_passages, feedback_to_item, read_items

router = APIRouter(prefix="/formateurs", include_in_schema=False)
CLOSED = "L'espace formateurs est fermé : aucun jeton n'est configuré (REPERE_TRAINER_TOKEN)."
TOO_MANY_ATTEMPTS = "Trop de tentatives de connexion : réessayez dans un quart d'heure."
UNKNOWN_FEEDBACK = "Avis inconnu (supprimé, ou au-delà de la durée de conservation)."
REVIEW_FAILED = (
    "Le document n'a pas pu être marqué, ou l'index n'a pas pu être reconstruit : le dossier de données est en "
    "lecture seule ou plein, ou la base Chroma ne répond pas. Réessayez dans un moment ; la page des formateurs "
    "montre l'état enregistré."
)
EVAL_SET = Path(__file__).resolve().parents[2] / "evals" / "eval_set.jsonl"
TRAINER_SET = "evaluation_formateurs.jsonl"  # in the data folder
# What can be added from a feedback whose answer cited nothing: questions that need no expected passage.
NO_PASSAGE_KINDS = (*sorted(EMPTY_GOLD_KINDS), *sorted(OPTIONAL_GOLD_KINDS))
templates.env.filters.update(
    date_fr=labels.french_datetime,
    percent=labels.percent,
    kind_label=labels.kind,
    audience_label=labels.audience,
    reason_label=labels.feedback_reason,
    answer_reason_label=labels.answer_reason,
    source_label=display_source,
    first_upper=lambda text: text[:1].upper() + text[1:],
)


class TrainerAuthError(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message


def require_trainer(request: Request, state: Annotated[AppState, Depends(get_state)]) -> AppState:
    """A valid session cookie (signed, not expired) or the token itself as `Authorization: Bearer`."""
    token = state.settings.trainer_token
    if not token:
        raise TrainerAuthError(403, CLOSED)
    session = request.cookies.get(SESSION_COOKIE)
    if session and valid_session(session, token, state.settings.trainer_session_minutes * 60):
        return state
    bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if bearer and same_token(bearer, token):
        return state
    raise TrainerAuthError(401, "Jeton de formateur requis." if not session else "Session expirée : reconnectez-vous.")


TrainerDep = Annotated[AppState, Depends(require_trainer)]


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """A trainers' page: its header offers the trainers' space, the chat and logout."""
    return templates.TemplateResponse(
        request, name, {"audience": None, "trainer": True, **context}, status_code=status_code
    )


def trainer_set(state: AppState) -> Path:
    """The trainers' eval file: the items turned from feedback, appended one per line."""
    return state.settings.data_dir / TRAINER_SET


@router.get("/connexion", response_class=HTMLResponse)
async def login_page(request: Request, sortie: str = "") -> Response:
    context = {"audience": None, "error": "", "left": bool(sortie)}
    return templates.TemplateResponse(request, "trainers_login.html", context)


@router.post("/connexion", response_class=HTMLResponse)
async def login(request: Request, state: StateDep, token: Annotated[str, Form(max_length=500)]) -> Response:
    expected = state.settings.trainer_token
    if not expected:
        raise TrainerAuthError(403, CLOSED)
    limiter: RateLimiter = request.app.state.limiter
    client = request.client.host if request.client else "inconnu"
    if not limiter.allow("connexion/" + client, limiter.login):  # every attempt counts, right or wrong
        raise TrainerAuthError(429, TOO_MANY_ATTEMPTS)
    if not same_token(token, expected):
        return templates.TemplateResponse(
            request, "trainers_login.html", {"audience": None, "error": "Jeton incorrect."}, status_code=401
        )
    response = RedirectResponse("/formateurs", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        new_session(expected),
        max_age=state.settings.trainer_session_minutes * 60,
        path=SESSION_PATH,
        secure=secure_cookie(request.url.scheme, request.headers.get("host", "")),
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/deconnexion")
async def logout(request: Request) -> Response:
    """Ends the session in this browser (the cookie is deleted; a copy of it expires on its own)."""
    response = RedirectResponse("/formateurs/connexion?sortie=1", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE,
        path=SESSION_PATH,
        secure=secure_cookie(request.url.scheme, request.headers.get("host", "")),
        httponly=True,
        samesite="strict",
    )
    return response


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, state: TrainerDep, utile: str = "", raison: str = "") -> Response:
    useful = {"oui": True, "non": False}.get(utile)
    entries = await run_in_threadpool(state.feedback.list, useful, raison or None)
    return page(
        request,
        "trainers.html",
        {
            "entries": entries,
            "utile": utile,
            "raison": raison,
            "reasons": labels.FEEDBACK_REASONS,
            "jobs": list(reversed(await run_in_threadpool(state.jobs.recent))),  # newest first
            "project_count": len(load_items(EVAL_SET)),
            "trainer_count": len(await run_in_threadpool(read_items, trainer_set(state))),
            "documents": await run_in_threadpool(added_documents, state),
            "untrusted": state.engine.evidence.untrusted,
        },
    )


def added_documents(state: AppState) -> list[Document]:
    """The documents added with `repere ingest`, as their manifest lists them."""
    return load_manifest(ingested_manifest(state.settings.data_dir))


@router.post("/documents/{doc_id}", response_class=HTMLResponse)
async def review_document(
    request: Request, doc_id: str, state: TrainerDep, verifie: Annotated[str, Form(max_length=3)]
) -> Response:
    """Mark an added document reviewed (« oui ») or unreviewed again (« non »): the index is rebuilt on it
    and this worker serves the new one at once (the others load it at their next check)."""
    if verifie not in ("oui", "non"):
        raise HTTPException(400, "Choix inconnu : « oui » (vérifié) ou « non » (non vérifié).")
    loading = request.app.state.loading
    try:
        await run_in_threadpool(loading.review, doc_id, verifie == "oui")
    except IngestError as exc:
        raise HTTPException(404, str(exc)) from exc
    except (OSError, Timeout, IndexUnavailable) as exc:
        raise HTTPException(503, REVIEW_FAILED, headers={"Retry-After": "60"}) from exc
    request.app.state.repere = await run_in_threadpool(loading.reload, state)
    return RedirectResponse("/formateurs#documents", status_code=303)


@router.get("/avis.csv")
async def export_csv(state: TrainerDep) -> Response:
    buffer = io.StringIO()
    columns = ["id", "created_at", "useful", "reason", "comment", "audience", "question", "answer", "sources"]
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    for entry in await run_in_threadpool(state.feedback.list, None, None, 100_000):
        row = {**entry, "sources": json.dumps(entry["sources"], ensure_ascii=False)}
        writer.writerow({name: csv_cell(value) for name, value in row.items()})
    return PlainTextResponse(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="avis.csv"'},
    )


@router.get("/avis.jsonl")
async def export_jsonl(state: TrainerDep) -> Response:
    entries = await run_in_threadpool(state.feedback.list, None, None, 100_000)
    lines = [json.dumps(entry, ensure_ascii=False) for entry in entries]
    return PlainTextResponse(
        "\n".join(lines) + "\n",
        media_type="application/jsonl; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="avis.jsonl"'},
    )


@router.get("/jeu-formateurs.jsonl")
async def export_trainer_set(state: TrainerDep) -> Response:
    items = await run_in_threadpool(read_items, trainer_set(state))
    return PlainTextResponse(
        "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items),
        media_type="application/jsonl; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="evaluation_formateurs.jsonl"'},
    )


async def _feedback_page(
    request: Request, state: AppState, entry_id: int, status_code: int = 200, **context: str
) -> Response:
    entry = await run_in_threadpool(state.feedback.get, entry_id)
    if entry is None:
        raise HTTPException(404, UNKNOWN_FEEDBACK)
    passages = cited_passages(entry["sources"], state.sections)
    prefix = f"avis-{entry_id}"
    added = [
        item
        for item in await run_in_threadpool(read_items, trainer_set(state))
        if str(item.get("id")) == prefix or str(item.get("id")).startswith(prefix + "-")
    ]
    values = {"passage": "", "kind": "", "facts": "", "error": "", "added_id": "", **context}
    return page(
        request,
        "trainers_feedback.html",
        {
            "entry": entry,
            "passages": passages,
            "kinds": labels.KINDS if passages else {k: labels.KINDS[k] for k in NO_PASSAGE_KINDS},
            "added": added,
            "documents": state.documents,
            **values,
        },
        status_code=status_code,
    )


@router.get("/avis/{entry_id}", response_class=HTMLResponse)
async def feedback_page(request: Request, entry_id: int, state: TrainerDep, ajout: str = "") -> Response:
    """One feedback, with the passages its answer cited to choose the expected one from."""
    return await _feedback_page(request, state, entry_id, added_id=ajout)


@router.post("/avis/{entry_id}/evaluation", response_class=HTMLResponse)
async def feedback_to_eval(
    request: Request,
    entry_id: int,
    state: TrainerDep,
    kind: Annotated[str, Form(max_length=40)],
    passage: Annotated[str, Form(max_length=500)] = "",
    facts: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The feedback's question as an eval item whose gold is the chosen cited passage (its source and line
    span); a mistake comes back as the same page with a French message (400) and what was entered."""
    entry = await run_in_threadpool(state.feedback.get, entry_id)
    if entry is None:
        raise HTTPException(404, UNKNOWN_FEEDBACK)
    chosen = next((p for p in cited_passages(entry["sources"], state.sections) if p.key == passage), None)
    kept = {"passage": passage, "kind": kind, "facts": facts}
    try:
        if kind not in labels.KINDS:
            raise ValueError("Choisissez un type de question dans la liste.")
        if passage and chosen is None:
            raise ValueError(NEEDS_PASSAGE)
        item = feedback_to_item(entry, chosen, kind, [f.strip() for f in facts.split(";") if f.strip()])
    except ValueError as exc:
        return await _feedback_page(request, state, entry_id, status_code=400, error=str(exc), **kept)
    try:
        written = await run_in_threadpool(append_item, trainer_set(state), item)
    except (OSError, Timeout) as exc:  # a read-only or full data folder: said, never a 500
        raise HTTPException(
            503,
            "Le jeu d'évaluation des formateurs n'a pas pu être enregistré : le dossier de données est en lecture "
            "seule ou plein. Rien n'a été ajouté.",
            headers={"Retry-After": "60"},
        ) from exc
    return RedirectResponse(f"/formateurs/avis/{entry_id}?ajout={written['id']}", status_code=303)


def trainer_errors(app: FastAPI) -> None:
    @app.exception_handler(TrainerAuthError)
    async def denied(request: Request, exc: TrainerAuthError) -> Response:
        headers = {"Retry-After": "900"} if exc.status == 429 else None
        if "text/html" in request.headers.get("accept", ""):
            context = {"audience": None, "error": exc.message}
            return templates.TemplateResponse(
                request, "trainers_login.html", context, status_code=exc.status, headers=headers
            )
        return Response(
            json.dumps({"detail": exc.message}, ensure_ascii=False),
            status_code=exc.status,
            media_type="application/json",
            headers=headers,
        )
