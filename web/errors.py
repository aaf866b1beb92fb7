"""Errors translated to HTTP in one place, with French messages (JSON on every path of the API)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.answer import AskError
from web.storage import StorageUnavailable

FIELD_NAMES = {
    "question": "la question",
    "audience": "le public",
    "history": "l'historique",
    "messages": "les messages",
    "useful": "l'avis (utile ou non)",
    "reason": "la raison",
    "comment": "le commentaire",
    "answer": "la réponse",
}


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = next((FIELD_NAMES[str(p)] for p in error.get("loc", ()) if str(p) in FIELD_NAMES), "la requête")
        kind = error.get("type", "")
        if kind == "string_too_long":
            parts.append(f"{where} est trop longue ({error.get('ctx', {}).get('max_length')} caractères au plus)")
        elif kind in ("string_too_short", "too_short"):
            parts.append(f"{where} est vide")
        elif kind == "literal_error" and where == "le public":
            parts.append(f"{where} doit valoir « famille » ou « professionnel »")
        elif kind == "missing":
            parts.append(f"{where} est manquante")
        elif kind == "too_long":
            parts.append(f"{where} contient trop d'éléments")
        else:
            parts.append(f"{where} est invalide")
    return "Requête invalide : " + " ; ".join(dict.fromkeys(parts)) + "."


def wants_page(request: Request) -> bool:
    """A browser asking for a page (not the JSON or OpenAI-compatible API)."""
    api = request.url.path.startswith(("/api/", "/v1/", "/healthz"))
    return not api and "text/html" in request.headers.get("accept", "")


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_message(exc)}, status_code=422)

    @app.exception_handler(AskError)
    async def bad_question(_: Request, exc: AskError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(StorageUnavailable)
    async def storage_down(_: Request, exc: StorageUnavailable) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        generic = {
            404: "Page ou ressource introuvable.",
            405: "Méthode non autorisée.",
            413: "Requête trop volumineuse.",
        }
        ours = isinstance(exc.detail, str) and exc.detail not in {
            "Not Found",
            "Method Not Allowed",
            "Payload Too Large",
        }
        detail = exc.detail if ours else generic.get(exc.status_code, "Erreur.")
        if exc.status_code == 503 and wants_page(request):
            from web.routes.pages import templates

            context = {"audience": None, "title": "Service momentanément indisponible", "message": detail}
            return templates.TemplateResponse(request, "error.html", context, status_code=503, headers=exc.headers)
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "Erreur interne : la demande n'a pas pu être traitée."}, status_code=500)
