"""Trainers' pages in-process (TestClient over the real app and index): token, feedback review,
exports, feedback -> eval item, eval runs with progress and results."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from assistant.settings import Settings
from evals.check import check_file
from web.app import create_app
from web.storage import Database, database_url, eval_jobs
from web.trainers import STALE_AFTER

from .conftest import TRAINER_TOKEN


@pytest.fixture(scope="module")
def client(data_dir: Path) -> Iterator[TestClient]:
    # https: the session cookie is `Secure`, so a client keeps sending it over TLS only
    with TestClient(create_app(Settings(data_dir=data_dir, trainer_token=TRAINER_TOKEN)), "https://testserver") as c:
        yield c


def test_closed_without_a_configured_token(data_dir: Path) -> None:
    with TestClient(create_app(Settings(data_dir=data_dir))) as c:
        response = c.get("/formateurs")
        assert response.status_code == 403 and "fermé" in response.json()["detail"]
        assert c.get("/formateurs", headers={"accept": "text/html"}).status_code == 403


def test_placeholder_tokens_are_refused() -> None:
    with pytest.raises(ValueError, match="12 caractères"):
        Settings(trainer_token="changeme")


def test_token_required(client: TestClient) -> None:
    assert client.get("/formateurs").status_code == 401
    assert client.get("/formateurs", headers={"authorization": "Bearer mauvais-jeton-123"}).status_code == 401
    wrong = client.post("/formateurs/connexion", data={"token": "mauvais-jeton-123"})
    assert wrong.status_code == 401 and "Jeton incorrect" in wrong.text


def test_review_export_and_turn_feedback_into_an_eval_item(client: TestClient, data_dir: Path) -> None:
    answer = client.post("/api/ask", json={"question": "massage bébé PMI Firminy ?", "audience": "famille"}).json()
    sources = [{"n": c["n"], "section_id": c["section_id"]} for c in answer["citations"]]
    client.post(
        "/api/feedback",
        json={
            "useful": False,
            "question": answer["question"],
            "audience": "famille",
            "answer": answer["answer"],
            "sources": sources,
            "reason": "mauvaise_source",
            "comment": "pas la bonne fiche",
        },
    )
    login = client.post("/formateurs/connexion", data={"token": TRAINER_TOKEN}, follow_redirects=False)
    assert login.status_code == 303 and login.cookies.get("repere_formateur")
    page = client.get("/formateurs?utile=non&raison=mauvaise_source")
    assert page.status_code == 200 and "pas la bonne fiche" in page.text
    assert "pas la bonne fiche" not in client.get("/formateurs?utile=oui").text
    csv_text = client.get("/formateurs/avis.csv").text
    assert csv_text.startswith("id,created_at,useful") and "pas la bonne fiche" in csv_text
    rows = [json.loads(line) for line in client.get("/formateurs/avis.jsonl").text.splitlines()]
    entry = next(r for r in rows if r["comment"] == "pas la bonne fiche")
    added = client.post(
        f"/formateurs/avis/{entry['id']}/evaluation",
        data={"section_id": "loire-fiches-2017/fiche-24", "kind": "local_support", "facts": "massage"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    trainer_set = data_dir / "evaluation_formateurs.jsonl"
    item = json.loads(trainer_set.read_text().splitlines()[-1])
    assert item["question"] == answer["question"] and item["gold"][0]["source"].endswith(
        "loire_fiches_actions_2017_2021.txt"
    )
    bad = client.post(f"/formateurs/avis/{entry['id']}/evaluation", data={"section_id": "nulle/part", "kind": "fact"})
    assert bad.status_code == 400


def test_eval_run_with_an_uploaded_file(client: TestClient, tmp_path: Path) -> None:
    client.post("/formateurs/connexion", data={"token": TRAINER_TOKEN})
    lines = (Path(__file__).resolve().parent.parent / "evals" / "eval_set.jsonl").read_text().splitlines()[:3]
    upload = client.post(
        "/formateurs/evaluation", files={"fichier": ("mini.jsonl", "\n".join(lines).encode())}, follow_redirects=False
    )
    assert upload.status_code == 303
    job_url = upload.headers["location"]
    for _ in range(300):
        page = client.get(job_url)
        if "questions — terminée" in page.text:
            break
        time.sleep(0.1)
    assert "3/3 questions — terminée" in page.text and "Questions, échecs d'abord" in page.text
    assert page.text.count('<article class="turn">') == 3
    broken = client.post("/formateurs/evaluation", files={"fichier": ("x.jsonl", b'{"id": "x"}\n')})
    assert broken.status_code == 400 and "Fichier d'évaluation invalide" in broken.json()["detail"]
    assert check_file(Path(__file__).resolve().parent.parent / "evals" / "eval_set.jsonl") == []


def test_an_eval_job_whose_worker_died_is_shown_interrupted(client: TestClient, data_dir: Path) -> None:
    """A job that wrote no progress for STALE_AFTER (its worker was killed) is not « en cours » forever."""
    client.post("/formateurs/connexion", data={"token": TRAINER_TOKEN})
    database = Database(database_url(Settings(data_dir=data_dir)))
    stale = datetime.now(UTC) - STALE_AFTER - timedelta(seconds=5)
    try:
        with database.begin() as connection:
            for ident, heartbeat in (("orphelin", stale), ("vivant", datetime.now(UTC))):
                at = heartbeat.isoformat()
                values = {"total": 3, "done": 1, "finished": False, "error": "", "items": []}
                connection.execute(insert(eval_jobs).values(id=ident, created_at=at, updated_at=at, **values))
    finally:
        database.dispose()
    orphan = client.get("/formateurs/evaluation/orphelin")
    assert "1/3 questions — interrompue" in orphan.text and "Relancez-la" in orphan.text
    assert 'http-equiv="refresh"' not in orphan.text  # the page stops reloading
    alive = client.get("/formateurs/evaluation/vivant")
    assert "1/3 questions — en cours" in alive.text and 'http-equiv="refresh"' in alive.text
    dashboard = client.get("/formateurs").text
    assert "Évaluation orphelin</a> — 1/3 (interrompue)" in dashboard and "Évaluation vivant</a> — 1/3<" in dashboard
