"""The attacks of issue 13 as tests, on the real app (TestClient over the real index and SQLite) and on a real
`repere serve` with two workers: eval uploads that probe server files, non-ASCII tokens, login guessing, the
session cookie, cross-origin posts, SQL parameters in the log, CSV formulas, caching of trainer pages, and
the rate limit (across workers, X-Forwarded-For)."""

from __future__ import annotations

import csv
import io
import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from repere.serve import create_app
from repere.settings import Settings
from web.ratelimit import RateLimiter, SQLiteStorage
from web.security import SESSION_COOKIE, new_session, valid_session

from .conftest import ROOT, TRAINER_TOKEN, running_server, wait_ready

GOOD_LINE = (ROOT / "evals" / "eval_set.jsonl").read_text(encoding="utf-8").splitlines()[0]
FEEDBACK = {"useful": True, "question": "q", "audience": "famille", "answer": "r", "sources": []}


def trainer_client(data_dir: Path, **settings: object) -> TestClient:
    app = create_app(Settings(data_dir=data_dir, trainer_token=TRAINER_TOKEN, **settings))  # type: ignore[arg-type]
    return TestClient(app, "https://testserver")


@pytest.fixture(scope="module")
def client(data_dir: Path) -> Iterator[TestClient]:
    with trainer_client(data_dir) as c:
        assert c.post("/formateurs/connexion", data={"token": TRAINER_TOKEN}).status_code == 200
        yield c


def upload(client: TestClient, *items: dict[str, object]) -> httpx.Response:
    body = "\n".join(json.dumps(item) for item in items).encode()
    return client.post("/formateurs/evaluation", files={"fichier": ("x.jsonl", body)}, follow_redirects=False)


def probe(source: str, fact: str) -> dict[str, object]:
    return {
        "id": "sonde",
        "audience": "famille",
        "question": "q ?",
        "kind": "fact",
        "gold": [{"source": source, "start_line": 1, "end_line": 1}],
        "answer_facts": [fact],
    }


@pytest.mark.parametrize(
    "source", ["/proc/self/environ", "../../../../../../proc/self/environ", "/etc/passwd", "pyproject.toml"]
)
def test_an_eval_upload_cannot_read_a_file_outside_the_corpus(client: TestClient, source: str) -> None:
    """Before: the checker read `ROOT / source`, and « fact found » (303) vs « not found » (400) told the
    uploader whether a secret was in the file. Now every path outside the corpus is refused alike."""
    for fact in ("PATH=", "root:x:0:0", "[project]", "absent-de-partout"):
        refused = upload(client, probe(source, fact))
        assert refused.status_code == 400, refused.text
        detail = refused.json()["detail"]
        assert "chemin non autorisé" in detail or "source inconnue" in detail
        assert fact not in detail


def test_malformed_eval_files_get_a_french_400(client: TestClient) -> None:
    source = "corpus/sources/loire_fiches_actions_2017_2021.txt"
    broken: list[object] = [
        [1, 2],
        "texte",
        {**probe(source, "x"), "gold": "pas une liste"},
        {**probe(source, "x"), "gold": [{"source": source, "start_line": "un", "end_line": 2}]},
        {**probe(source, "x"), "gold": ["chaîne"]},
        {**probe(source, "x"), "answer_facts": [{"a": 1}]},
        {**probe(source, "x"), "kind": "inconnu"},
    ]
    for item in broken:
        body = json.dumps(item).encode()
        response = client.post("/formateurs/evaluation", files={"fichier": ("x.jsonl", body)})
        assert response.status_code == 400, (item, response.text)
        detail = response.json()["detail"]
        assert detail.startswith("Fichier d'évaluation invalide : ligne 1 : ")
        assert not any(word in detail for word in ("missing", "unknown", "must be", "Traceback"))
    assert upload(client, json.loads(GOOD_LINE)).status_code == 303  # a sound file still runs


@pytest.mark.parametrize("where", ["header", "cookie", "form"])
def test_a_non_ascii_token_is_refused_not_a_500(data_dir: Path, where: str) -> None:
    with trainer_client(data_dir) as c:
        if where == "header":
            response = c.get("/formateurs", headers={"authorization": "Bearer jéton-formateurs-é".encode()})
        elif where == "cookie":
            response = c.get("/formateurs", headers={"cookie": f"{SESSION_COOKIE}=jéton-é".encode()})
        else:
            response = c.post("/formateurs/connexion", data={"token": "jéton-de-test-formateurs"})
        assert response.status_code == 401 and "Jeton" in response.text or "Session" in response.text


def test_login_is_throttled(data_dir: Path) -> None:
    with trainer_client(data_dir) as c:
        codes = [c.post("/formateurs/connexion", data={"token": f"essai-{i:08d}"}).status_code for i in range(10)]
        assert codes == [401] * 10
        blocked = c.post("/formateurs/connexion", data={"token": TRAINER_TOKEN})  # even the right token now
        assert blocked.status_code == 429 and blocked.headers["retry-after"] == "900"
        assert "Trop de tentatives" in blocked.json()["detail"]


def test_the_session_cookie_is_signed_expiring_and_ends_at_logout(data_dir: Path) -> None:
    with trainer_client(data_dir) as c:
        login = c.post("/formateurs/connexion", data={"token": TRAINER_TOKEN}, follow_redirects=False)
        set_cookie = login.headers["set-cookie"]
        value = login.cookies[SESSION_COOKIE]
        assert TRAINER_TOKEN not in set_cookie and TRAINER_TOKEN not in value
        for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Max-Age=28800", "Path=/formateurs"):
            assert attribute.lower() in set_cookie.lower()
        assert c.get("/formateurs").status_code == 200
        logout = c.post("/formateurs/deconnexion", follow_redirects=False)
        assert logout.status_code == 303 and 'repere_formateur=""' in logout.headers["set-cookie"]
        assert c.get("/formateurs").status_code == 401
    with trainer_client(data_dir) as c:  # the raw token as a cookie (the old scheme) and a forged cookie
        for forged in (TRAINER_TOKEN, value[:-2] + "xx", new_session("un-autre-jeton-secret")):
            c.cookies.set(SESSION_COOKIE, forged, domain="testserver", path="/formateurs")
            assert c.get("/formateurs").status_code == 401
            c.cookies.clear()
    signed = new_session(TRAINER_TOKEN)
    assert valid_session(signed, TRAINER_TOKEN, 60)
    time.sleep(1.1)
    assert not valid_session(signed, TRAINER_TOKEN, 0)  # expired


def test_plain_http_to_this_machine_keeps_a_usable_cookie(data_dir: Path) -> None:
    """`make run` on http://127.0.0.1: no `Secure` there (the browser would drop it); anywhere else, Secure."""
    app = create_app(Settings(data_dir=data_dir, trainer_token=TRAINER_TOKEN))
    with TestClient(app, "http://127.0.0.1:8000") as local:
        cookie = local.post("/formateurs/connexion", data={"token": TRAINER_TOKEN}, follow_redirects=False)
        assert "secure" not in cookie.headers["set-cookie"].lower()
    with TestClient(app, "http://repere.example.fr") as remote:
        cookie = remote.post("/formateurs/connexion", data={"token": TRAINER_TOKEN}, follow_redirects=False)
        assert "secure" in cookie.headers["set-cookie"].lower()


def test_posts_from_another_origin_are_refused(client: TestClient) -> None:
    form = {"useful": "oui", "question": "q", "audience": "famille"}
    other_origins = [
        {"origin": "https://autre.testserver"},  # same site, other origin
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"sec-fetch-site": "same-site"},
        {"referer": "https://evil.example/page"},
    ]
    for headers in other_origins:
        assert client.post("/feedback", data=form, headers=headers).status_code == 403
        assert client.post("/api/feedback", json=FEEDBACK, headers=headers).status_code == 403
        entry = client.post("/formateurs/avis/1/evaluation", data={"section_id": "x", "kind": "fact"}, headers=headers)
        assert entry.status_code == 403 and "Requête refusée" in entry.json()["detail"]
        assert client.post("/formateurs/deconnexion", headers=headers).status_code == 403
    same = {"origin": "https://testserver", "sec-fetch-site": "same-origin"}
    assert client.post("/feedback", data=form, headers=same).status_code == 201
    assert client.post("/api/feedback", json=FEEDBACK).status_code == 201  # an API client sends no Origin


def test_sql_parameters_never_reach_the_log(tmp_path: Path, data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A database error while storing feedback: the log says what failed, never the question or comment."""
    database = tmp_path / "avis.sqlite3"
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{database}")
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        with sqlite3.connect(database) as connection:
            connection.execute("DROP TABLE feedback")
        secret = {**FEEDBACK, "question": "Ma fille Léa Dupont 12 ans", "comment": "adresse 3 rue X"}
        with caplog.at_level(logging.DEBUG):
            response = c.post("/api/feedback", json=secret)
        assert response.status_code == 503
    assert "feedback" in caplog.text  # the failure is logged…
    for private in ("Léa Dupont", "3 rue X", "parameters"):
        assert private not in caplog.text  # …without its parameters


def test_csv_export_cells_are_not_formulas(client: TestClient) -> None:
    payload = {**FEEDBACK, "question": '=HYPERLINK("http://x")', "comment": "+33 1 23", "answer": "@SUM(A1)"}
    assert client.post("/api/feedback", json=payload).status_code == 201
    rows = list(csv.DictReader(io.StringIO(client.get("/formateurs/avis.csv").text)))
    row = next(r for r in rows if "HYPERLINK" in r["question"])
    assert row["question"].startswith("'=") and row["comment"] == "'+33 1 23" and row["answer"] == "'@SUM(A1)"


def test_trainer_pages_and_exports_are_not_cached(client: TestClient) -> None:
    for path in ("/formateurs", "/formateurs/avis.csv", "/formateurs/avis.jsonl", "/formateurs/connexion"):
        assert client.get(path).headers["cache-control"] == "no-store", path


def test_a_wildcard_proxy_is_refused() -> None:
    for value in ("*", "10.0.0.1,*"):
        with pytest.raises(ValueError, match="ne peut pas valoir"):
            Settings(forwarded_allow_ips=value)


def test_the_sqlite_counters_are_shared_and_pruned(tmp_path: Path) -> None:
    """Two limiters on one file are two workers of one machine: a client is counted once across them."""
    uri = f"repere-sqlite://{tmp_path / 'compteurs.sqlite3'}"
    first, second = RateLimiter(3, uri), RateLimiter(3, uri)
    assert [first.allow("a"), second.allow("a"), first.allow("a"), second.allow("a")] == [True, True, True, False]
    storage = first.storage
    assert isinstance(storage, SQLiteStorage)
    for i in range(SQLiteStorage.PRUNE_EVERY):
        storage.incr(f"vieux-{i}", expiry=0)  # expired at once
    assert storage.rows() < SQLiteStorage.PRUNE_EVERY


def test_the_rate_limit_holds_across_workers_and_forwarded_addresses(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Two workers, 5 questions a minute: a client that spreads its requests over both workers and forges a new
    X-Forwarded-For each time (from 127.0.0.1, trusted before by default) still gets 429 after 5."""
    folder = tmp_path_factory.mktemp("limite")
    env = {"REPERE_RATE_LIMIT_PER_MINUTE": "5", "REPERE_KEEPALIVE_REQUESTS": "1"}
    with running_server(folder, env, ["--workers", "2"]) as (base, _):
        wait_ready(base, folder / "server.log")
        codes = []
        for i in range(10):
            with httpx.Client(timeout=60) as fresh:  # a new connection each time: both workers answer
                response = fresh.post(
                    f"{base}/api/ask", json={"question": "accueil de jour"}, headers={"x-forwarded-for": f"10.9.8.{i}"}
                )
                codes.append(response.status_code)
        assert codes.count(200) == 5 and codes[5:] == [429] * 5, codes
