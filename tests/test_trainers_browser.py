"""The trainers' flow in a real headless Chromium (Debian's, driven by Playwright) against `repere serve`, at
360 px and at desktop width: log in, run the eval, open a failing question (its expected facts marked in
the answer), turn a feedback into an eval item by choosing a cited passage, log out. Screenshots of the run
page and of the question page go to test-artifacts/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from evals.answers import normalize

from .conftest import ARTIFACTS, CHROMIUM, READY_CAP_SECONDS, TRAINER_TOKEN

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (.ci/run installs it)"
)
WAIT_MS = READY_CAP_SECONDS * 1000  # wait on the page being ready, however busy the machine is
CODES = ("local_support", "out_of_scope", "pas_comprehensible", "kind:", "audience:", "hit@", "fact_recall")


def judged_answer(server: str, comment: str) -> tuple[int, set[tuple[str, int, int]]]:
    """A family's question answered by the server, and a « not useful » feedback on it carrying the answer's
    citations as the chat page sends them: the feedback's id and the cited spans."""
    answer = httpx.post(
        f"{server}/api/ask", json={"question": "massage bébé PMI Firminy ?", "audience": "famille"}, timeout=None
    ).json()
    keys = ("n", "section_id", "source", "start_line", "end_line")
    sources = [{key: c[key] for key in keys} for c in answer["citations"]]
    assert sources, answer
    feedback = {
        "useful": False,
        "question": answer["question"],
        "audience": "famille",
        "answer": answer["answer"],
        "sources": sources,
        "reason": "information_manquante",
        "comment": comment,
    }
    posted = httpx.post(f"{server}/api/feedback", json=feedback, timeout=None)
    assert posted.status_code == 201, posted.text
    return int(posted.json()["id"]), {(s["source"], s["start_line"], s["end_line"]) for s in sources}


def no_horizontal_scrolling(page: object, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert scroll <= width + 1, f"the page scrolls sideways at {width} px ({scroll} px wide)"


@pytest.mark.parametrize(("width", "height", "name"), [(360, 780, "telephone"), (1280, 900, "bureau")])
def test_trainers_flow(browser: object, server: str, server_folder: Path, width: int, height: int, name: str) -> None:
    comment = f"passage à ajouter ({name})"
    entry, cited = judged_answer(server, comment)
    context = browser.new_context(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("request", lambda request: None if request.url.startswith(server) else outside.append(request.url))
    try:
        # log in
        page.goto(f"{server}/formateurs")
        page.get_by_label("Jeton de formateur").fill(TRAINER_TOKEN)
        page.get_by_role("button", name="Entrer").click()
        page.get_by_role("heading", name="Évaluer le moteur").wait_for()
        nav = page.get_by_role("navigation", name="Espace formateurs")
        assert nav.get_by_role("link", name="Aller au chat").get_attribute("href") == "/"

        # run the eval (the project's set): the page reloads itself until the run ends
        page.get_by_label(re.compile("Jeu d'évaluation du projet")).check()
        page.get_by_role("button", name="Lancer l'évaluation").click()
        page.get_by_text(re.compile(r"\d+/\d+ questions — terminée")).wait_for()
        page.locator("table.figures").first.wait_for()
        figures = page.locator("table.figures").first
        assert figures.locator("th[scope=row]", has_text="Ressource locale").count() == 1
        assert figures.locator("th[scope=row]", has_text="Hors du champ des sources").count() == 1
        body = page.locator("main").inner_text()
        assert not [code for code in CODES if code in body], body[:2000]
        assert re.search(r"Évaluation du \d{1,2}(er)? \w+ 20\d\d à \d{1,2} h \d\d", body)
        no_horizontal_scrolling(page, width)
        page.screenshot(path=str(ARTIFACTS / f"formateurs-evaluation-{name}.png"))

        # open a failing question whose answer holds some of its expected facts
        failing = page.locator('ol.failing li:not([data-found="0"])').first
        question = failing.locator("a").inner_text()
        failing.locator("a").click()
        page.locator("div.answer-text").wait_for()
        assert question in page.locator("p.question").inner_text()
        assert "En échec" in page.locator("div.verdict").inner_text()
        found = [
            re.sub(r"^« (.*) » — .*$", r"\1", text.strip())
            for text in page.locator("ul.facts li").all_inner_texts()
            if text.strip().endswith("retrouvé dans la réponse")
        ]
        marks = page.locator("div.answer-text mark")
        assert found and marks.count() >= len(found) and marks.first.is_visible()
        assert {normalize(m) for m in marks.all_inner_texts()} == {normalize(f) for f in found}
        no_horizontal_scrolling(page, width)
        page.screenshot(path=str(ARTIFACTS / f"formateurs-question-{name}.png"))

        # turn the feedback into an eval item by choosing one of the passages its answer cited
        nav.get_by_role("link", name="Espace formateurs").click()
        article = page.locator("article.feedback-entry", has_text=comment)
        article.get_by_role("link", name="Transformer en question d'évaluation").click()
        choice = page.locator("div.passage").first
        radio = choice.get_by_role("radio")
        radio.check()
        chosen = (
            radio.get_attribute("data-source"),
            radio.get_attribute("data-start"),
            radio.get_attribute("data-end"),
        )
        source, start, end = str(chosen[0]), int(str(chosen[1])), int(str(chosen[2]))
        assert (source, start, end) in cited
        line = max(choice.locator("blockquote").inner_text().splitlines(), key=len)
        fact = " ".join(line.split()[1:5])  # a few words of the passage, as a trainer copies them
        page.get_by_label("Type de question").select_option(label="ressource locale")
        page.get_by_label(re.compile("Faits attendus")).fill(fact)
        page.get_by_role("button", name="Ajouter au jeu d'évaluation des formateurs").click()
        status = page.get_by_role("status")
        status.wait_for()
        assert f"avis-{entry}" in status.inner_text() and f"lignes {start} à {end}" in status.inner_text()
        written = [
            json.loads(line) for line in (server_folder / "evaluation_formateurs.jsonl").read_text().splitlines()
        ]
        item = next(i for i in written if i["id"] == f"avis-{entry}")
        assert item["gold"] == [{"source": source, "start_line": start, "end_line": end}]
        assert item["answer_facts"] == [fact] and item["kind"] == "local_support"
        no_horizontal_scrolling(page, width)

        # log out: the session is gone, the trainers' pages ask for the token again
        page.get_by_role("button", name="Se déconnecter").click()
        page.get_by_text("Vous êtes déconnecté·e.").wait_for()
        assert not [c for c in context.cookies() if c["name"] == "repere_formateur"]
        page.goto(f"{server}/formateurs")
        page.get_by_text("Jeton de formateur requis.").wait_for()
        assert page.get_by_label("Jeton de formateur").is_visible()
    finally:
        context.close()
    assert not [e for e in errors if "401" not in e], errors
    assert not outside, outside
