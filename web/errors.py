"""Errors translated to HTTP in one place, with French messages (JSON on every path of the API)."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.intake import AskError
from web.middleware import TOO_LARGE
from web.schemas import ErrorOut
from web.storage import StorageUnavailable

# Field -> (name, feminine, plural), for messages that agree with the name.
FIELD_NAMES = {
    "question": ("la question", True, False),
    "audience": ("le public", False, False),
    "history": ("l'historique", False, False),
    "messages": ("les messages", False, True),
    "model": ("le modèle", False, False),
    "stream": ("l'option stream", True, False),
    "useful": ("l'avis (utile ou non)", False, False),
    "reason": ("la raison", True, False),
    "comment": ("le commentaire", False, False),
    "answer": ("la réponse", True, False),
    "sources": ("les sources", True, True),
}
BODY = ("le corps de la requête", False, False)


# Adjective -> its feminine form (the plural adds an s to either).
FEMININE = {"trop long": "trop longue", "manquant": "manquante", "vide": "vide", "invalide": "invalide"}


def _agree(word: str, feminine: bool, plural: bool) -> str:
    """'manquant' -> 'manquante', 'trop longs'…, agreeing with the field's name."""
    word = FEMININE[word] if feminine else word
    return word + "s" if plural else word


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        name, feminine, plural = next(
            (FIELD_NAMES[str(p)] for p in error.get("loc", ()) if str(p) in FIELD_NAMES), BODY
        )
        verb = "sont" if plural else "est"
        kind = error.get("type", "")
        if kind == "json_invalid":
            parts.append("le corps de la requête n'est pas un JSON valide")
        elif kind == "string_unicode":  # a lone UTF-16 surrogate (JSON allows "\ud800", Unicode does not)
            parts.append(f"{name} {'contiennent' if plural else 'contient'} un caractère invalide")
        elif kind == "string_too_long":
            limit = error.get("ctx", {}).get("max_length")
            parts.append(f"{name} {verb} {_agree('trop long', feminine, plural)} ({limit} caractères au plus)")
        elif kind in ("string_too_short", "too_short"):
            parts.append(f"{name} {verb} {_agree('vide', feminine, plural)}")
        elif kind == "literal_error" and name == "le public":
            parts.append(f"{name} doit valoir « famille » ou « professionnel »")
        elif kind == "missing":
            parts.append(f"{name} {verb} {_agree('manquant', feminine, plural)}")
        elif kind == "too_long":
            parts.append(f"{name} {'contiennent' if plural else 'contient'} trop d'éléments")
        else:
            parts.append(f"{name} {verb} {_agree('invalide', feminine, plural)}")
    return "Requête invalide : " + " ; ".join(dict.fromkeys(parts)) + "."


def wants_page(request: Request) -> bool:
    """A browser asking for a page (not the JSON or OpenAI-compatible API)."""
    api = request.url.path.startswith(("/api/", "/v1/", "/healthz"))
    return not api and "text/html" in request.headers.get("accept", "")


def unavailable(request: Request, message: str, headers: Mapping[str, str] | None) -> Response:
    """A 503 (index or database down): an HTML page for a browser, JSON for the API."""
    if wants_page(request):
        from web.routes.pages import templates

        context = {"audience": None, "title": "Service momentanément indisponible", "message": message}
        return templates.TemplateResponse(request, "error.html", context, status_code=503, headers=headers)
    return JSONResponse({"detail": message}, status_code=503, headers=headers)


# Starlette's and FastAPI's own messages (forms, bodies), in French.
FRAMEWORK_MESSAGES = (
    ("There was an error parsing the body", "Requête illisible : le corps doit être du JSON en UTF-8."),
    ("Missing boundary in multipart", "Formulaire illisible : envoi multipart sans délimiteur (boundary)."),
    ("Invalid multipart data", "Formulaire illisible : données multipart mal formées."),
    ('header field "name" must be provided', "Formulaire illisible : un champ n'a pas de nom."),
    ("Too many files", "Trop de fichiers dans le formulaire."),
    ("Too many fields", "Trop de champs dans le formulaire."),
    ("exceeded maximum size", "Un champ ou un fichier du formulaire est trop volumineux."),
)
# A framework error raised with no message of its own carries the English reason phrase.
STATUS_MESSAGES = {
    400: "Requête illisible.",
    401: "Authentification requise.",
    403: "Accès refusé.",
    404: "Page ou ressource introuvable.",
    405: "Méthode non autorisée.",
    406: "Format de réponse non disponible.",
    413: TOO_LARGE,
    415: "Type de contenu non pris en charge.",
    429: "Trop de demandes : merci de patienter une minute avant de réessayer.",
}


def french_detail(status: int, detail: object) -> str:
    """The message of an HTTP error in French: ours as raised, the framework's translated."""
    if isinstance(detail, str):
        for english, french in FRAMEWORK_MESSAGES:
            if english in detail:
                return french
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        if detail != phrase:
            return detail
    return STATUS_MESSAGES.get(status, "Requête refusée." if 400 <= status < 500 else "Erreur.")


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_message(exc)}, status_code=422)

    @app.exception_handler(AskError)
    async def bad_question(_: Request, exc: AskError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(StorageUnavailable)
    async def storage_down(request: Request, exc: StorageUnavailable) -> Response:
        return unavailable(request, str(exc), {"Retry-After": "5"})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = french_detail(exc.status_code, exc.detail)
        if exc.status_code == 503:
            return unavailable(request, detail, exc.headers)
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "Erreur interne : la demande n'a pas pu être traitée."}, status_code=500)


ERROR_DESCRIPTIONS = {
    400: "Corps illisible (pas du JSON en UTF-8), question vide ou conversation sans question.",
    401: "Jeton de formateur requis.",
    403: "Espace formateurs fermé.",
    404: "Ressource ou modèle introuvable.",
    413: "Requête trop volumineuse (256 Kio au plus).",
    422: "Requête invalide (champ manquant, trop long, valeur inconnue).",
    429: "Trop de demandes : réessayer après une minute (en-tête Retry-After).",
    503: "Service momentanément indisponible (base documentaire ou base de données injoignable ; en-tête Retry-After).",
}


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for a route: the error codes it can answer, each with the French `detail` body,
    so that the spec tells what the API really sends (never FastAPI's default validation schema)."""
    return {code: {"model": ErrorOut, "description": ERROR_DESCRIPTIONS[code]} for code in codes}
