"""Page safety at the edge: security headers (Content-Security-Policy: every asset from the app, no
inline script), a request-size limit and a per-client rate limit, with French messages."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
MAX_BODY_BYTES = 256 * 1024
LIMITED_PATHS = ("/api/ask", "/chat", "/v1/chat/completions", "/api/feedback", "/feedback")


class RateLimiter:
    """At most `limit` requests per `window` seconds per client address (sliding window)."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, client: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        hits = self._hits[client]
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True


def install(app: FastAPI, rate_limit: int) -> None:
    limiter = RateLimiter(rate_limit)

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return JSONResponse({"detail": "Requête trop volumineuse."}, status_code=413)
        if request.method == "POST" or request.url.path.startswith("/api/ask"):
            if request.url.path.startswith(LIMITED_PATHS):
                client = request.client.host if request.client else "inconnu"
                if not limiter.allow(client):
                    return JSONResponse(
                        {"detail": "Trop de demandes : merci de patienter une minute avant de réessayer."},
                        status_code=429,
                        headers={"Retry-After": "60"},
                    )
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
