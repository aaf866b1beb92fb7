"""What `repere serve` gives uvicorn: HTTP protocols with a French body on the 400s that uvicorn sends itself
(a request its parser cannot read never reaches the app and its handlers), and a logging configuration that
shows worker restarts in French."""

from __future__ import annotations

import importlib.util
import logging
import re
from typing import Any

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


class SupervisorMessages(logging.Filter):
    """uvicorn's log in French for the operator: its warnings and errors as they are, plus the worker
    restarts (logged by uvicorn at INFO, hidden at the WARNING level we run at) translated; the rest of
    its INFO chatter is dropped."""

    RESTARTS = (
        (re.compile(r"Child process \[(\d+)\] died"), "Processus serveur {} arrêté : il est relancé."),
        (re.compile(r"Child process \[(\d+)\] failed to start"), "Processus serveur {} en échec au démarrage."),
    )

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        message = record.getMessage()
        for pattern, french in self.RESTARTS:
            found = pattern.search(message)
            if found:
                record.msg, record.args, record.levelno, record.levelname = (
                    french.format(found.group(1)),
                    (),
                    logging.WARNING,
                    "WARNING",
                )
                return True
        return False


LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"supervisor": {"()": "web.server.SupervisorMessages"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(message)s", "datefmt": "%H:%M:%S"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "plain",
            "level": "WARNING",  # libraries that set their own logger to DEBUG (bm25s) stay quiet
        },
        "uvicorn": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "plain",
            "filters": ["supervisor"],
        },
    },
    "loggers": {
        "uvicorn": {"handlers": ["uvicorn"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
