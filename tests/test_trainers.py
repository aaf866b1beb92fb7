"""Trainers' pages in-process (TestClient over the real app, index and SQLite): token, feedback review in
French, feedback -> eval item by choosing a cited passage, eval runs with figures per kind and failing
questions with their expected facts marked, two runs compared."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from corpus.model import Section
from evals.answers import normalize
from evals.check import check_file, check_item
from repere.serve import create_app
from repere.settings import Settings
from web.labels import percent
from web.review import figures, verdicts
from web.storage import Database, database_url, eval_jobs
from web.trainers import NEEDS_FACTS, NEEDS_PASSAGE, STALE_AFTER, EvalJob, cited_passages

from .conftest import READY_CAP_SECONDS, ROOT, TRAINER_TOKEN, copy_index
from .html import Element, parse

EVAL_SET = ROOT / "evals" / "eval_set.jsonl"
CODES = ("local_support", "out_of_scope", "pas_comprehensible", "mauvaise_source", "kind:", "audience:", "hit@")
FRENCH_DATE = re.compile(
    r"\b\d{1,2}(?:er)? (?:janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|"
    r"novembre|décembre) 20\d\d à \d{1,2} h \d\d\b"
)
ISO_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:")


@pytest.fixture(scope="module")
def settings(built: object, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The session's index (copied), with a database and a trainers' file of this module's own."""
    own = copy_index(data_dir, tmp_path_factory.mktemp("formateurs"))
    return Settings(data_dir=own, trainer_token=TRAINER_TOKEN)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    # https: the session cookie is `Secure`, so a client keeps sending it over TLS only
    with TestClient(create_app(settings), "https://testserver") as c:
        assert c.post("/formateurs/connexion", data={"token": TRAINER_TOKEN}).status_code == 200
        yield c


def ask_and_judge(client: TestClient, question: str, audience: str, comment: str, sources: Any = None) -> int:
    """A real answer, and a feedback on it carrying its citations as the chat page sends them."""
    answer = client.post("/api/ask", json={"question": question, "audience": audience}).json()
    if sources is None:
        keys = ("n", "section_id", "source", "start_line", "end_line")
        sources = [{key: c[key] for key in keys} for c in answer["citations"]]
    posted = client.post(
        "/api/feedback",
        json={
            "useful": False,
            "question": answer["question"],
            "audience": audience,
            "answer": answer["answer"],
            "sources": sources,
            "reason": "pas_comprehensible",
            "comment": comment,
        },
    )
    assert posted.status_code == 201, posted.text
    return int(posted.json()["id"])


def finished(client: TestClient, url: str) -> Element:
    """The run's page once it says the run ended (waits on the run, not on a short deadline)."""
    deadline = time.monotonic() + READY_CAP_SECONDS
    while time.monotonic() < deadline:
        text = client.get(url).text
        if re.search(r"questions — (terminée|interrompue)", text):
            return parse(text)
        time.sleep(0.2)
    raise AssertionError(f"the run {url} did not end")


def run(client: TestClient, **form: Any) -> tuple[str, Element]:
    started = client.post("/formateurs/evaluation", follow_redirects=False, **form)
    assert started.status_code == 303, started.text
    url = started.headers["location"]
    return url.rsplit("/", 1)[1], finished(client, url)


def job(client: TestClient, job_id: str) -> EvalJob:
    found = client.app.state.repere.jobs.get(job_id)  # type: ignore[attr-defined]
    assert found is not None and found.complete
    return found  # type: ignore[no-any-return]


def trainer_items(settings: Settings) -> list[dict[str, Any]]:
    path = settings.data_dir / "evaluation_formateurs.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_closed_without_a_configured_token(data_dir: Path) -> None:
    with TestClient(create_app(Settings(data_dir=data_dir))) as c:
        response = c.get("/formateurs")
        assert response.status_code == 403 and "fermé" in response.json()["detail"]
        assert c.get("/formateurs", headers={"accept": "text/html"}).status_code == 403


def test_placeholder_tokens_are_refused() -> None:
    with pytest.raises(ValueError, match="12 caractères"):
        Settings(trainer_token="changeme")


def test_token_required(data_dir: Path) -> None:
    with TestClient(create_app(Settings(data_dir=data_dir, trainer_token=TRAINER_TOKEN)), "https://testserver") as c:
        assert c.get("/formateurs").status_code == 401
        assert c.get("/formateurs", headers={"authorization": "Bearer mauvais-jeton-123"}).status_code == 401
        wrong = c.post("/formateurs/connexion", data={"token": "mauvais-jeton-123"})
        assert wrong.status_code == 401 and "Jeton incorrect" in wrong.text


def test_feedback_review_in_french_words_and_exports(client: TestClient) -> None:
    ask_and_judge(client, "massage bébé PMI Firminy ?", "famille", "pas la bonne fiche")
    page = parse(client.get("/formateurs?utile=non&raison=pas_comprehensible").text)
    words = page.find("main").words
    assert "pas la bonne fiche" in words and "pas compréhensible" in words and "— famille —" in words
    assert FRENCH_DATE.search(words) and not ISO_DATE.search(words)
    assert not [code for code in CODES if code in words], words
    reasons = [o.words for o in page.find("select", id="raison").find_all("option")]
    assert reasons == ["toutes", "mauvaise source", "information manquante", "pas compréhensible", "autre"]
    header = page.find("nav", cls="trainer-nav")
    assert header.find("a", href="/").words == "Aller au chat"
    assert header.find("form", action="/formateurs/deconnexion").find("button").words == "Se déconnecter"
    assert "pas la bonne fiche" not in client.get("/formateurs?utile=oui").text
    csv_text = client.get("/formateurs/avis.csv").text
    assert csv_text.startswith("id,created_at,useful") and "pas la bonne fiche" in csv_text
    rows = [json.loads(line) for line in client.get("/formateurs/avis.jsonl").text.splitlines()]
    assert any(r["comment"] == "pas la bonne fiche" for r in rows)


def test_a_feedback_becomes_an_eval_item_by_choosing_a_cited_passage(client: TestClient, settings: Settings) -> None:
    entry = ask_and_judge(client, "massage bébé PMI Firminy ?", "famille", "à ajouter au jeu")
    page = parse(client.get(f"/formateurs/avis/{entry}").text)
    assert not page.find_all("input", name="section_id") and not page.find_all("datalist")  # no id to type
    choices = page.find_all("div", cls="passage")
    assert choices, "the answer's cited passages are offered"
    chosen = choices[-1]
    radio = chosen.find("input", type="radio", name="passage")
    source, start, end = radio.attrs["data-source"], int(radio.attrs["data-start"]), int(radio.attrs["data-end"])
    assert f"lignes {start} à {end}" in chosen.words
    line = max(chosen.find("blockquote").text.splitlines(), key=len)
    fact = " ".join(line.split()[1:5])  # words of the passage (not its bullet), as a trainer would copy them
    kinds = {o.attrs["value"]: o.words for o in page.find("select", id="kind").find_all("option")}
    assert kinds["local_support"] == "ressource locale" and kinds["out_of_scope"] == "hors du champ des sources"

    form = {"passage": radio.attrs["value"], "kind": "local_support", "facts": f"{fact} ; "}
    added = client.post(f"/formateurs/avis/{entry}/evaluation", data=form, follow_redirects=False)
    assert added.status_code == 303 and added.headers["location"].endswith(f"?ajout=avis-{entry}")
    item = trainer_items(settings)[-1]
    assert item["gold"] == [{"source": source, "start_line": start, "end_line": end}]  # the chosen passage
    feedback = next(r for r in client.get("/formateurs/avis.jsonl").text.splitlines() if f'"id": {entry},' in r)
    cited = {(s["source"], s["start_line"], s["end_line"]) for s in json.loads(feedback)["sources"]}
    assert (source, start, end) in cited  # …one the answer cited
    assert (item["id"], item["kind"], item["answer_facts"]) == (f"avis-{entry}", "local_support", [fact])
    assert item["audience"] == "famille" and item["question"] == "massage bébé PMI Firminy ?"
    assert check_item(item) == []
    confirmed = parse(client.get(added.headers["location"]).text).find("p", role="status").words
    assert f"avis-{entry}" in confirmed and f"lignes {start} à {end}" in confirmed and source in confirmed

    again = client.post(f"/formateurs/avis/{entry}/evaluation", data=form, follow_redirects=False)
    assert again.headers["location"].endswith(f"?ajout=avis-{entry}-2")  # never a duplicate id
    listed = parse(client.get(f"/formateurs/avis/{entry}").text).find("main").words
    assert f"avis-{entry} — ressource locale" in listed and f"avis-{entry}-2 — ressource locale" in listed
    assert check_file(settings.data_dir / "evaluation_formateurs.jsonl") == []

    dashboard = parse(client.get("/formateurs").text)
    assert "Jeu des formateurs (2 questions" in dashboard.find("form", action="/formateurs/evaluation").words
    downloaded = client.get("/formateurs/jeu-formateurs.jsonl").text.splitlines()
    assert [json.loads(line)["id"] for line in downloaded] == [f"avis-{entry}", f"avis-{entry}-2"]
    _, page = run(client, data={"jeu": "formateurs"})
    assert "2/2 questions — terminée" in page.words and "Jeu des formateurs" in page.words


def test_bad_choices_get_a_french_400_and_nothing_is_written(client: TestClient, settings: Settings) -> None:
    entry = ask_and_judge(client, "massage bébé PMI Firminy ?", "famille", "essais ratés")
    radio = parse(client.get(f"/formateurs/avis/{entry}").text).find("input", name="passage")
    before = len(trainer_items(settings))
    attempts = [
        ({"passage": "loire-fiches-2017/fiche-24:1-2", "kind": "fact", "facts": "x"}, NEEDS_PASSAGE),
        ({"passage": "", "kind": "fact", "facts": "massage"}, NEEDS_PASSAGE),
        ({"passage": radio.attrs["value"], "kind": "fact", "facts": ""}, NEEDS_FACTS),
        ({"passage": radio.attrs["value"], "kind": "fact", "facts": "licorne bleue"}, "« licorne bleue »"),
        ({"passage": radio.attrs["value"], "kind": "n_importe", "facts": "x"}, "Choisissez un type de question"),
    ]
    for form, message in attempts:
        response = client.post(f"/formateurs/avis/{entry}/evaluation", data=form)
        assert response.status_code == 400, (form, response.text)
        page = parse(response.text)
        assert message in page.find("p", role="alert").words, form
        assert page.find("input", id="facts").attrs.get("value") == form["facts"]  # what was typed is kept
    assert len(trainer_items(settings)) == before
    unknown = client.post("/formateurs/avis/999999/evaluation", data={"kind": "fact"})
    assert unknown.status_code == 404 and "Avis inconnu" in unknown.json()["detail"]


def test_forged_sources_in_a_feedback_are_never_offered(client: TestClient, settings: Settings) -> None:
    """A feedback's sources come from the browser: a path of the server or a span outside its section is
    not a passage to choose; such a feedback can still give a question the corpus must refuse."""
    forged = [
        {"n": 1, "section_id": "nulle/part", "source": "/etc/passwd", "start_line": 1, "end_line": 1},
        {"n": 2, "section_id": "loire-fiches-2017/fiche-24", "start_line": 1, "end_line": 99999},
        {"n": 3, "source": "corpus/sources/loire_fiches_actions_2017_2021.txt", "start_line": 0, "end_line": 2},
    ]
    entry = ask_and_judge(client, "comment contester une amende de stationnement ?", "famille", "forgé", forged)
    page = parse(client.get(f"/formateurs/avis/{entry}").text)
    assert not page.find_all("input", name="passage") and "ne citait aucun passage" in page.find("main").words
    assert {o.attrs["value"] for o in page.find("select", id="kind").find_all("option")} == {
        "out_of_scope",
        "injection",
        "danger",
    }
    refused = client.post(f"/formateurs/avis/{entry}/evaluation", data={"passage": "nulle/part:1-1", "kind": "fact"})
    assert refused.status_code == 400 and "/etc/passwd" not in json.dumps(trainer_items(settings))
    added = client.post(f"/formateurs/avis/{entry}/evaluation", data={"kind": "out_of_scope"}, follow_redirects=False)
    assert added.status_code == 303
    assert trainer_items(settings)[-1] == {
        "id": f"avis-{entry}",
        "audience": "famille",
        "question": "comment contester une amende de stationnement ?",
        "gold": [],
        "answer_facts": [],
        "kind": "out_of_scope",
    }


def test_an_eval_run_shows_figures_per_kind_and_failing_questions(client: TestClient) -> None:
    job_id, page = run(client, data={"jeu": "projet"})
    words = page.find("main").words
    assert "237/237 questions — terminée" in words and FRENCH_DATE.search(words) and not ISO_DATE.search(words)
    assert not [code for code in CODES if code in words], words
    tables = {t.find("caption").words: t for t in page.find_all("table", cls="figures")}
    assert list(tables) == ["Par type de question", "Par public"]
    row_names = [th.words for th in tables["Par type de question"].find_all("th", scope="row")]
    assert row_names[0] == "Ensemble" and {"Ressource locale", "Démarche", "Hors du champ des sources"} <= set(
        row_names
    )
    assert [th.words for th in tables["Par public"].find_all("th", scope="row")] == ["Famille", "Professionnel·le"]

    stored = job(client, job_id)
    rows = verdicts(stored.items, stored.results)
    shown = {f.group: f for f in figures(rows)}
    # the figures are `repere eval`'s: hit@5 and fact recall as evals/metrics.py and evals/answers.py give them
    for group in ("overall", "kind:local_support", "audience:famille"):
        assert shown[group].hit5 == pytest.approx(stored.retrieval[group]["hit@5"])
        assert shown[group].facts == pytest.approx(stored.answers[group]["fact_recall"])
    overall = [td.words for td in tables["Par type de question"].find("tbody").find("tr").find_all("td")]
    assert overall[:2] == ["237", str(sum(r.ok for r in rows))]
    assert " ".join(percent(stored.retrieval["overall"]["hit@5"]).split()) in overall
    assert f"{sum(r.ok for r in rows)} questions réussies sur 237" in words

    failing = page.find("ol", cls="failing").find_all("li")
    assert len(failing) == sum(not r.ok for r in rows) > 0
    partly = next(li for li in failing if int(li.attrs["data-found"]) >= 1)  # some facts found, not all
    question = parse(client.get(partly.find("a").attrs["href"]).text)
    facts = question.find("ul", cls="facts").find_all("li")
    found = [
        re.sub(r"^« (.*) » — .*$", r"\1", li.words) for li in facts if li.words.endswith("retrouvé dans la réponse")
    ]
    assert found and len(found) < len(facts)
    marks = [normalize(mark.text) for mark in question.find("div", cls="answer-text").find_all("mark")]
    assert {normalize(fact) for fact in found} == set(marks)  # every fact found is marked, nothing else is
    assert "En échec" in question.find("div", cls="verdict").words
    sources = [a.attrs["href"] for a in question.find("main").find_all("a") if "?l=" in a.attrs.get("href", "")]
    assert sources and re.fullmatch(r"/sources/[^?]+\?l=\d+-\d+#passage", sources[0])
    missing = client.get(f"/formateurs/evaluation/{job_id}/question/99999")
    assert missing.status_code == 404 and "Question inconnue" in missing.json()["detail"]


def test_two_runs_compared_side_by_side(client: TestClient) -> None:
    lines = [json.loads(line) for line in EVAL_SET.read_text().splitlines()[:12]]
    first, _ = run(client, files={"fichier": ("avant.jsonl", "\n".join(map(json.dumps, lines)).encode())})
    before = verdicts(job(client, first).items, job(client, first).results)
    passing = next(row for row in before if row.ok)  # one that passed, made to fail: now said out of scope
    changed = {**passing.item, "kind": "out_of_scope", "gold": [], "answer_facts": []}
    lines = [changed if line["id"] == passing.item["id"] else line for line in lines]
    second, _ = run(client, files={"fichier": ("après.jsonl", "\n".join(map(json.dumps, lines)).encode())})

    page = parse(client.get(f"/formateurs/comparaison?avant={first}&apres={second}").text)
    passed = sum(row.ok for row in before)
    heads = page.find("div", cls="runs-side").words
    assert f"{passed} réussies sur 12" in heads and f"{passed - 1} réussies sur 12" in heads
    assert "fichier « avant.jsonl »" in heads and "fichier « après.jsonl »" in heads
    overall = [td.words for td in page.find("table", cls="compare-figures").find("tbody").find("tr").find_all("td")]
    assert overall[:2] == [f"{passed}/12", f"{passed - 1}/12"]  # both runs' figures, side by side
    listed = [li for li in page.find("ol", cls="changes").find_all("li") if li.find_all("p", cls="question")]
    assert len(listed) == 1 and passing.item["question"] in listed[0].words  # only the question that changed
    assert "Avant : réussie" in listed[0].words
    assert "Après : en échec — question hors du champ des sources non refusée" in listed[0].words
    same = parse(client.get(f"/formateurs/comparaison?avant={first}&apres={first}").text)
    assert "Aucune question n'a changé de résultat." in same.find("main").words
    assert client.get(f"/formateurs/comparaison?avant={first}&apres=inconnue").status_code == 404
    broken = client.post("/formateurs/evaluation", files={"fichier": ("x.jsonl", b'{"id": "x"}\n')})
    assert broken.status_code == 400 and "Fichier d'évaluation invalide" in broken.json()["detail"]


def test_an_eval_job_whose_worker_died_is_shown_interrupted(client: TestClient, settings: Settings) -> None:
    """A job that wrote no progress for STALE_AFTER (its worker was killed) is not « en cours » forever."""
    database = Database(database_url(settings))
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
    listed = parse(client.get("/formateurs").text).find("ul", cls="runs").find_all("li")
    runs = {li.find("a").attrs["href"]: li.words for li in listed}
    assert runs["/formateurs/evaluation/orphelin"].endswith("1/3 questions (interrompue)")
    assert runs["/formateurs/evaluation/vivant"].endswith("1/3 questions (en cours)")
    unfinished = client.get("/formateurs/comparaison?avant=vivant&apres=orphelin")
    assert unfinished.status_code == 400 and "pas terminée" in unfinished.json()["detail"]


def test_the_project_eval_set_is_sound() -> None:
    assert check_file(EVAL_SET) == []


def test_cited_passages_are_checked_against_the_corpus(sections: list[Section]) -> None:
    """A feedback's sources as the chat sends them, as an API client may (a section id alone), and forged:
    only spans inside a section of the corpus are offered, once each."""
    by_id = {s.section_id: s for s in sections}
    fiche = next(s for s in sections if sum(len(f.lines) for f in s.fields) > 3)
    numbers = [line.number for f in fiche.fields for line in f.lines]
    inside = {"n": 1, "source": fiche.source, "start_line": numbers[1], "end_line": numbers[2]}
    found = cited_passages(
        [
            inside,
            {**inside, "n": 2},  # the same passage cited twice
            {"n": 3, "section_id": fiche.section_id},  # a section alone stands for all of it
            {"n": 4, "section_id": fiche.section_id, "start_line": fiche.start_line, "end_line": fiche.end_line + 1},
            {"n": 5, "source": fiche.source, "start_line": True, "end_line": 2},
            {"n": 6, "source": "../../etc/passwd", "start_line": 1, "end_line": 1},
            "pas un objet",
        ],
        by_id,
    )
    spans = [(p.n, p.section.section_id, p.start_line, p.end_line) for p in found]
    assert spans == [
        (1, fiche.section_id, numbers[1], numbers[2]),
        (3, fiche.section_id, fiche.start_line, fiche.end_line),
    ]
    assert found[0].lines and all(line.strip() for line in found[0].lines)
