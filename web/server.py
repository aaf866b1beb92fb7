"""uvicorn's HTTP protocols with a French body on the 400s that uvicorn sends itself: a request its parser
cannot read (a request line or header too long, broken framing) never reaches the app and its handlers."""

from __future__ import annotations

import importlib.util

import h11
from uvicorn.protocols.http import h11_impl

BAD_REQUEST = "Requête HTTP illisible : le serveur n'a pas pu la lire (adresse ou en-têtes trop longs, ou mal formés)."


class FrenchH11Protocol(h11_impl.H11Protocol):
    def send_400_response(self, msg: str) -> None:
        body = BAD_REQUEST.encode("utf-8")
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            output = self.conn.send(event)
            if output:
                self.transport.write(output)
        self.transport.close()


if importlib.util.find_spec("httptools") is not None:
    from uvicorn.protocols.http import httptools_impl

    class FrenchHttpToolsProtocol(httptools_impl.HttpToolsProtocol):
        def send_400_response(self, msg: str) -> None:
            body = BAD_REQUEST.encode("utf-8")
            content = [httptools_impl.STATUS_LINE[400]]
            for name, value in self.server_state.default_headers:
                content.extend([name, b": ", value, b"\r\n"])
            content.extend(
                [
                    b"content-type: text/plain; charset=utf-8\r\n",
                    b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                    b"connection: close\r\n",
                    b"\r\n",
                    body,
                ]
            )
            self.transport.write(b"".join(content))
            self.transport.close()


def http_protocol() -> str:
    """What `uvicorn.run(http=...)` imports in every worker: httptools when installed (uvicorn's "auto")."""
    if importlib.util.find_spec("httptools") is not None:
        return "web.server:FrenchHttpToolsProtocol"
    return "web.server:FrenchH11Protocol"
