"""Every 4xx in French, including the ones the framework writes itself: uvicorn's parser errors (before the
app), Starlette's form errors, and bare framework errors (static files) that carry an English reason phrase.
Against a real `repere serve` over HTTP."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import httpx
import pytest

from .conftest import TRAINER_TOKEN

ENGLISH = ("Invalid", "Missing", "Too many", "exceeded", "Not Found", "Method Not Allowed", "error parsing", "Bad")


def raw(server: str, request: bytes) -> tuple[int, str]:
    """Send bytes as they are (no client library would send a broken request) and read the reply."""
    url = urlsplit(server)
    with socket.create_connection((url.hostname or "", url.port or 80), timeout=60) as sock:
        sock.sendall(request)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8")


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
        b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
    ids=["not-http", "line-too-long", "broken-header", "broken-framing"],
)
def test_uvicorns_own_400_is_french(server: str, request_bytes: bytes) -> None:
    status, body = raw(server, request_bytes)
    assert status == 400 and "Requête HTTP illisible" in body and "Invalid" not in body
    assert httpx.get(f"{server}/healthz").status_code == 200


def multipart(fields: int, boundary: str = "b0undary") -> bytes:
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n' for i in range(fields)]
    return ("".join(parts) + f"--{boundary}--\r\n").encode()


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("multipart/form-data", b"--x\r\n", "sans délimiteur"),
        ("multipart/form-data; boundary=b0undary", multipart(1001), "Trop de champs"),
        ("multipart/form-data; boundary=b0undary", b"--b0undary\r\nContent-Disposition: form-data\r\n\r\nx\r\n", "nom"),
    ],
    ids=["no-boundary", "too-many-fields", "nameless-field"],
)
def test_starlettes_form_errors_are_french(server: str, content_type: str, body: bytes, expected: str) -> None:
    for path in ("/feedback", "/chat", "/formateurs/evaluation"):
        headers = {"content-type": content_type, "authorization": f"Bearer {TRAINER_TOKEN}"}
        response = httpx.post(f"{server}{path}", content=body, headers=headers, timeout=60)
        assert response.status_code == 400, (path, response.text)
        detail = response.json()["detail"]
        assert expected in detail and not any(word in detail for word in ENGLISH), detail


def test_bare_framework_errors_are_french(server: str) -> None:
    missing = httpx.get(f"{server}/static/absent.css")
    assert missing.status_code == 404 and missing.json()["detail"] == "Page ou ressource introuvable."
    wrong = httpx.request("DELETE", f"{server}/static/app.css")
    assert wrong.status_code == 405 and wrong.json()["detail"] == "Méthode non autorisée."
