"""GET /docs: Swagger UI over the app's OpenAPI document, its files served by the app itself (the
swagger-ui-bundle package, at /docs-assets) and started by a script file, so that the page's
Content-Security-Policy (no CDN, no inline script) holds."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from web.routes.pages import templates

router = APIRouter()


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
async def docs(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "docs.html", {"openapi_url": request.app.openapi_url})
