"""/formateurs: run the eval set (or an uploaded file) with progress and results, review feedback,
turn an entry into an eval item, export feedback. Protected by the trainer token from the settings."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from evals.check import KINDS as KIND_NAMES
from evals.run import load_items
from web.deps import AppState, StateDep, get_state
from web.ratelimit import RateLimiter
from web.routes.pages import templates
from web.security import SESSION_COOKIE, SESSION_PATH, csv_cell, new_session, same_token, secure_cookie, valid_session
from web.trainers import append_item, feedback_to_item, parse_eval_file

router = APIRouter(prefix="/formateurs", include_in_schema=False)
CLOSED = "L'espace formateurs est fermé : aucun jeton n'est configuré (REPERE_TRAINER_TOKEN)."
TOO_MANY_ATTEMPTS = "Trop de tentatives de connexion : réessayez dans un quart d'heure."
KINDS = tuple(sorted(KIND_NAMES))
EVAL_SET = Path(__file__).resolve().parents[2] / "evals" / "eval_set.jsonl"


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


@router.get("/connexion", response_class=HTMLResponse)
async def login_page(request: Request) -> Response:
    return templates.TemplateResponse(request, "trainers_login.html", {"audience": None, "error": ""})


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
    response = RedirectResponse("/formateurs/connexion", status_code=303)
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
    return templates.TemplateResponse(
        request,
        "trainers.html",
        {
            "audience": None,
            "entries": entries,
            "utile": utile,
            "raison": raison,
            "kinds": KINDS,
            "message": "",
            "jobs": await run_in_threadpool(state.jobs.recent),
        },
    )


@router.post("/evaluation", response_class=HTMLResponse)
async def start_eval(state: TrainerDep, fichier: Annotated[UploadFile | None, File()] = None) -> Response:
    if fichier is not None and fichier.filename:
        try:
            known = {section.source for section in state.sections.values()}
            items = parse_eval_file((await fichier.read()).decode("utf-8"), known)
        except (UnicodeDecodeError, ValueError) as exc:
            raise HTTPException(
                400, str(exc) if isinstance(exc, ValueError) else "Fichier illisible (UTF-8 attendu)."
            ) from exc
    else:
        items = load_items(EVAL_SET)
    job = await run_in_threadpool(state.jobs.start, state.engine, items)
    return RedirectResponse(f"/formateurs/evaluation/{job.id}", status_code=303)


@router.get("/evaluation/{job_id}", response_class=HTMLResponse)
async def eval_page(request: Request, job_id: str, state: TrainerDep) -> Response:
    job = await run_in_threadpool(state.jobs.get, job_id)
    if job is None:
        raise HTTPException(404, "Évaluation inconnue.")
    return templates.TemplateResponse(
        request,
        "trainers_eval.html",
        {
            "audience": None,
            "job": job,
            "rows": job.rows() if job.finished and not job.error else [],
        },
    )


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


@router.post("/avis/{entry_id}/evaluation", response_class=HTMLResponse)
async def feedback_to_eval(
    request: Request,
    entry_id: int,
    state: TrainerDep,
    section_id: Annotated[str, Form()],
    kind: Annotated[str, Form()],
    facts: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    entry = await run_in_threadpool(state.feedback.get, entry_id)
    section = state.sections.get(section_id)
    if entry is None or section is None or kind not in KINDS:
        raise HTTPException(400, "Avis, fiche attendue ou type de question inconnu.")
    try:
        item = feedback_to_item(entry, section, kind, [f.strip() for f in facts.split(";") if f.strip()])
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    try:
        await run_in_threadpool(append_item, state.settings.data_dir / "evaluation_formateurs.jsonl", item)
    except OSError as exc:  # a read-only or full data folder: said, never a 500
        raise HTTPException(
            503,
            "Le jeu d'évaluation des formateurs n'a pas pu être enregistré : le dossier de données est en lecture "
            "seule ou plein. Rien n'a été ajouté.",
            headers={"Retry-After": "60"},
        ) from exc
    return RedirectResponse("/formateurs?ajout=ok", status_code=303)


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
