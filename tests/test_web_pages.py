"""HTML pages over real HTTP, without JavaScript: audience choice, asking, citations, fiche pages,
feedback, escaping, security headers, SSE stream; the rate limiter in-process."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from repere.serve import create_app
from repere.settings import Settings
from web.middleware import ConnectionRecycler
from web.ratelimit import RateLimiter


def test_home_offers_both_audiences(server: str) -> None:
    page = httpx.get(server)
    assert page.status_code == 200 and '<html lang="fr">' in page.text
    assert 'href="/chat?public=famille"' in page.text and 'href="/chat?public=professionnel"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    back = httpx.get(f"{server}/chat", follow_redirects=True)  # no audience yet: back to the choice
    assert back.status_code == 200 and str(back.url) == f"{server}/"


def test_asking_without_javascript(server: str) -> None:
    page = httpx.post(
        f"{server}/chat", data={"question": "horaires de la Clef des Petits ?", "audience": "famille"}, timeout=30
    )
    assert page.status_code == 200
    links = re.findall(r'href="(/sources/[^"]+)"', page.text)
    assert links and all("#passage" in link for link in links)
    assert 'class="lead"' in page.text and 'class="card"' in page.text and 'name="previous"' in page.text
    assert '<li class="contact">Contact : ' in page.text  # the card's contact line, with its label
    assert "je suis un professionnel" in page.text  # the audience can be switched at any time


def test_answer_text_is_escaped(server: str) -> None:
    page = httpx.post(
        f"{server}/chat",
        data={"question": "<script>alert(1)</script> accueil de jour ?", "audience": "famille"},
        timeout=30,
    )
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_bad_question_in_the_form(server: str) -> None:
    page = httpx.post(f"{server}/chat", data={"question": "   ", "audience": "famille"})
    assert page.status_code == 400 and "La question est vide." in page.text


def test_fiche_page_highlights_the_passage(server: str) -> None:
    page = httpx.get(f"{server}/sources/oned-la-clef/fiche?l=23-33")
    assert page.status_code == 200
    marked = re.findall(r"<mark[^>]*>(.*?)</mark>", page.text, flags=re.S)
    assert marked and any("04.74.33.37.18" in m for m in marked)
    assert page.text.count('id="passage"') == 1
    missing = httpx.get(f"{server}/sources/nulle/part")
    assert missing.status_code == 404 and "Fiche introuvable" in missing.text


def test_feedback_form_is_stored(server: str, server_folder: Path) -> None:
    form = {
        "useful": "non",
        "question": "horaires ?",
        "audience": "famille",
        "answer": "…",
        "sources": json.dumps([{"n": 1, "section_id": "oned-la-clef/fiche"}]),
        "reason": "information_manquante",
        "comment": "il manque les horaires d'été",
    }
    page = httpx.post(f"{server}/feedback", data=form)
    assert page.status_code == 201 and "Merci, votre avis a été enregistré." in page.text
    assert httpx.post(f"{server}/feedback", data={**form, "useful": "peut-être"}).status_code == 422
    with sqlite3.connect(server_folder / "feedback.sqlite3") as db:
        rows = db.execute(
            "SELECT useful, reason, comment, question FROM feedback WHERE comment LIKE '%été%'"
        ).fetchall()
    assert rows == [(0, "information_manquante", "il manque les horaires d'été", "horaires ?")]


def test_sse_stream(server: str) -> None:
    form = {"question": "un LAEP c'est quoi ?", "previous": ["un groupe de parents à Roanne ?"]}
    # The question travels in the body: a GET with it in the URL (proxy logs, history) is refused.
    assert httpx.get(f"{server}/api/ask/stream", params={"question": "un LAEP ?"}, timeout=30).status_code == 405
    with httpx.stream("POST", f"{server}/api/ask/stream", data=form, timeout=30) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        body = "".join(r.iter_text())
    events = re.findall(r"event: (\w+)", body)
    assert events[0] == "chunk" and events[-1] == "done" and events.count("done") == 1
    done = json.loads(body.rsplit("event: done\ndata: ", 1)[1].strip())
    assert '<article class="turn"' in done["html"] and "/sources/" in done["html"]


def test_rate_limiter_counts_per_client() -> None:
    limiter = RateLimiter(2)
    assert limiter.allow("a") and limiter.allow("a") and not limiter.allow("a")
    assert limiter.allow("b")


def test_connection_recycler_counts_per_connection_with_bounded_memory() -> None:
    recycler = ConnectionRecycler(limit=3)
    a, b = ("10.0.0.1", 5000), ("10.0.0.1", 5001)
    assert [recycler.should_close(a) for _ in range(3)] == [False, False, True]
    assert [recycler.should_close(b), recycler.should_close(a)] == [False, False]  # b is another connection
    assert not any(ConnectionRecycler(limit=0).should_close(a) for _ in range(10))  # 0: never
    assert not recycler.should_close(None)
    for port in range(2 * ConnectionRecycler.MAX_TRACKED):
        recycler.should_close(("10.0.0.2", port))
    assert len(recycler._served) == ConnectionRecycler.MAX_TRACKED


def test_rate_limit_and_size_limit_in_the_app(tmp_path: Path, data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, rate_limit_per_minute=2)
    with TestClient(create_app(settings)) as client:
        codes = [client.post("/api/ask", json={"question": "accueil de jour"}).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert "patienter" in client.post("/api/ask", json={"question": "x"}).json()["detail"]
        big = client.post("/api/feedback", content=b"x" * 300_000, headers={"content-type": "application/json"})
        assert big.status_code == 413 and big.json()["detail"] == "Requête trop volumineuse."


def test_chat_page_weight_and_no_external_request(server: str) -> None:
    """The chat page with all its assets stays under 100 KB, every asset served by the app itself."""
    page = httpx.get(f"{server}/chat", params={"public": "famille"}, timeout=30)
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    assert assets and not re.search(r'(?:href|src)="(?:https?:)?//', page.text)
    total = len(page.content) + sum(len(httpx.get(f"{server}{a}", timeout=30).content) for a in set(assets))
    assert total < 100_000, total
