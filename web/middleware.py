"""Page safety at the edge: security headers (Content-Security-Policy: every asset from the app, no
inline script; no-store on the trainers' pages and exports), a request-size limit, a per-client rate limit
and the refusal of state-changing requests from another origin, with French messages; and the
recycling of kept-alive connections that spreads clients across the server processes."""

from __future__ import annotations

from collections import OrderedDict

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.ratelimit import RateLimiter
from web.security import cross_origin

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
MAX_BODY_BYTES = 256 * 1024
TOO_LARGE = "Requête trop volumineuse."
LIMITED_PATHS = ("/api/ask", "/chat", "/v1/chat/completions", "/api/feedback", "/feedback")
PRIVATE_PATHS = "/formateurs"  # feedback texts and exports: never kept by a browser or a proxy cache
CROSS_ORIGIN = "Requête refusée : elle vient d'une page qui n'est pas celle de Repère. Rechargez la page et réessayez."


class ConnectionRecycler:
    """Closes a kept-alive connection after `limit` requests (like nginx's `keepalive_requests`).

    The workers of `repere serve --workers N` share one listening socket and a connection stays with
    the worker that accepted it. Clients that connect at the same moment (a burst, a proxy's pool) may
    all land on one worker while another idles, for as long as they keep their connections. A client
    told `Connection: close` reconnects, and the new connection goes to whichever worker accepts it
    first, so a lopsided split does not last (measured in benchmarks/load.py: the busiest of two
    workers holds ~60 % of the connections on average instead of up to 100 %), at the cost of one
    connection every `limit` requests. Counted per worker and client address + port (one connection;
    behind a trusted proxy, per forwarded client address); bounded memory.
    """

    MAX_TRACKED = 4096

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._served: OrderedDict[tuple[str, int], int] = OrderedDict()

    def should_close(self, client: tuple[str, int] | None) -> bool:
        if not self.limit or client is None:
            return False
        key = (client[0], client[1])
        served = self._served.pop(key, 0) + 1
        if served >= self.limit:
            return True
        self._served[key] = served  # most recent last: connections gone quiet are dropped first
        if len(self._served) > self.MAX_TRACKED:
            self._served.popitem(last=False)
        return False


SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class Guard:
    """Pure ASGI middleware (no per-request task or response re-streaming, unlike `@app.middleware`):
    size limit (declared, then counted as the body arrives), rate limit, then the security headers on
    every response that does not set its own, and `Connection: close` when the connection's quota of
    requests is used."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, recycler: ConnectionRecycler) -> None:
        self.app = app
        self.limiter = limiter
        self.recycler = recycler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        close = self.recycler.should_close(scope.get("client"))
        private = scope["path"].startswith(PRIVATE_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if private:
                    headers["Cache-Control"] = "no-store"
                if close:
                    headers.setdefault("Connection", "close")
            await send(message)

        received = 0

        async def receive_limited() -> Message:
            """The body counted as it arrives: a chunked body declares no Content-Length."""
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    raise HTTPException(413, TOO_LARGE)  # FastAPI lets it through to the French error handler
            return message

        refusal = self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send_with_headers)
            return
        await self.app(scope, receive_limited, send_with_headers)

    def _refusal(self, scope: Scope) -> Response | None:
        length = Headers(scope=scope).get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return JSONResponse({"detail": TOO_LARGE}, status_code=413)
        if cross_origin(scope):
            return JSONResponse({"detail": CROSS_ORIGIN}, status_code=403)
        path: str = scope["path"]
        if (scope["method"] == "POST" or path.startswith("/api/ask")) and path.startswith(LIMITED_PATHS):
            client = scope["client"][0] if scope.get("client") else "inconnu"
            if not self.limiter.allow(client):
                return JSONResponse(
                    {"detail": "Trop de demandes : merci de patienter une minute avant de réessayer."},
                    status_code=429,
                    headers={"Retry-After": "60"},
                )
        return None


def install(app: FastAPI, limiter: RateLimiter, keepalive_requests: int) -> None:
    app.add_middleware(Guard, limiter=limiter, recycler=ConnectionRecycler(keepalive_requests))
