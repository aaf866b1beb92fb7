"""The real app over real HTTP: `repere serve` in a subprocess on a free loopback port, a real
index in a temp folder; the JSON API with httpx and /v1 with the official `openai` client."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai
import pytest


def test_healthz_and_openapi(server: str) -> None:
    health = httpx.get(f"{server}/healthz").json()
    assert health["status"] == "ok" and health["sections"] == 196 and health["passages"] > 1000
    spec = httpx.get(f"{server}/openapi.json").json()
    assert {"/api/ask", "/api/sources/{section_id}", "/v1/chat/completions", "/healthz"} <= set(spec["paths"])
    assert httpx.get(f"{server}/docs").status_code == 200


def test_ask_returns_a_cited_answer(server: str) -> None:
    response = httpx.post(
        f"{server}/api/ask", json={"question": "horaires de la Clef des Petits ?", "audience": "famille"}, timeout=30
    )
    assert response.status_code == 200
    body = response.json()
    assert not body["refused"] and body["citations"] and "[1]" in body["answer"]
    citation = body["citations"][0]
    assert citation["source"].startswith("corpus/sources/") and citation["start_line"] <= citation["end_line"]
    source = httpx.get(f"{server}/api/sources/{citation['section_id']}").json()
    assert source["start_line"] <= citation["start_line"] <= citation["end_line"] <= source["end_line"]
    assert source["fields"] and citation["section_id"] in source["siblings"]
    # The answer's parts, for a client to render: the lead first, then cards with place, period, status.
    kinds = [block["kind"] for block in body["blocks"]]
    assert kinds[0] == "lead" and "cards" in kinds
    card = next(block for block in body["blocks"] if block["kind"] == "cards")["cards"][0]
    assert "Clef" in card["title"] and card["document"] == "Isère, 2003-2009"
    # whom to contact, dated: the old fiche's contact person, labelled for a client to show
    assert [c["label"] for c in card["contacts"]] == ["Contact"] and "RABILLOUD" in card["contacts"][0]["text"]
    assert body["answer"].count("coordonnées de 2009, à vérifier") == 1  # on the first line with a detail
    # A link a client can open (the passage highlighted on the source page) and the document's period.
    assert citation["url"].startswith(server) and "/sources/" in citation["url"] and "#passage" in citation["url"]
    page = httpx.get(citation["url"], timeout=30)
    assert page.status_code == 200 and "passage" in page.text
    assert card["document"].endswith(citation["period"]) and citation["period"] == "2003-2009"
    cited = [n for block in body["blocks"] for item in block["items"] for n in item["n"]]
    assert cited and set(cited) <= {c["n"] for c in body["citations"]}


def test_ask_with_history_and_flags(server: str) -> None:
    history = [{"role": "user", "content": "un groupe de parents à Roanne ?"}, {"role": "assistant", "content": "…"}]
    follow = httpx.post(f"{server}/api/ask", json={"question": "et à Firminy ?", "history": history}, timeout=30).json()
    assert not follow["refused"]
    danger = httpx.post(
        f"{server}/api/ask", json={"question": "il me frappe tous les soirs", "audience": "professionnel"}, timeout=30
    ).json()
    assert danger["emergency"] and danger["answer"].startswith("⚠️")


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"question": ""}, 422, "la question est vide"),
        ({"question": "x" * 2001}, 422, "la question est trop longue"),
        ({"question": "bonjour", "audience": "juge"}, 422, "« famille » ou « professionnel »"),
        ({}, 422, "la question est manquante"),
        ({"question": "   "}, 400, "La question est vide"),
    ],
)
def test_bad_requests_get_french_messages(server: str, payload: dict[str, object], status: int, message: str) -> None:
    response = httpx.post(f"{server}/api/ask", json=payload, timeout=30)
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_unknown_source_and_route(server: str) -> None:
    missing = httpx.get(f"{server}/api/sources/nope/nothing")
    assert missing.status_code == 404 and "Source inconnue" in missing.json()["detail"]
    assert httpx.get(f"{server}/nulle-part").json()["detail"] == "Page ou ressource introuvable."


def test_openai_client_non_stream(server: str) -> None:
    client = openai.OpenAI(base_url=f"{server}/v1", api_key="inutile")
    completion = client.chat.completions.create(
        model="repere-professionnel",
        messages=[
            {"role": "user", "content": "qui pilote l'harmonisation du traitement des informations préoccupantes ?"}
        ],
    )
    text = completion.choices[0].message.content or ""
    lead = text.split("\n\n")[0]
    assert "Cellule de Recueil des Informations Préoccupantes" in lead and "Sources :" in text
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens > 5 and usage.completion_tokens > 20
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    sources = (completion.model_extra or {})["sources"]  # Repère's structured field beside the text
    assert sources and all(s["url"].startswith(server) and f"[{s['n']}]" in text for s in sources)


def test_openai_client_stream(server: str) -> None:
    client = openai.OpenAI(base_url=f"{server}/v1", api_key="inutile")
    stream = client.chat.completions.create(
        model="repere-famille",
        stream=True,
        messages=[
            {"role": "user", "content": "un groupe de parents à Roanne ?"},
            {"role": "assistant", "content": "…"},
            {"role": "user", "content": "et à Firminy ?"},
        ],
    )
    chunks = list(stream)
    pieces = [chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices]
    text = "".join(pieces)
    assert len(pieces) > 3 and "Sources :" in text and "Gier Ondaine Pilat" in text
    last = [chunk for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason == "stop"]
    assert last and (last[0].model_extra or {}).get("sources")  # the cited passages come with the last chunk


def test_openai_unknown_model(server: str) -> None:
    client = openai.OpenAI(base_url=f"{server}/v1", api_key="inutile")
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "bonjour"}])
    assert [m.id for m in client.models.list()] == ["repere-famille", "repere-professionnel", "repere"]


def test_served_sections_come_from_the_temp_index(server: str, tmp_path: Path) -> None:
    assert httpx.get(f"{server}/api/sources/loire-fiches-2017/fiche-15").json()["territory"] == "Gier Ondaine Pilat"


def test_feedback_is_stored(server: str) -> None:
    payload = {
        "useful": False,
        "question": "horaires ?",
        "audience": "famille",
        "answer": "…",
        "sources": [{"n": 1, "section_id": "oned-la-clef/fiche"}],
        "reason": "information_manquante",
        "comment": "il manque le samedi",
    }
    response = httpx.post(f"{server}/api/feedback", json=payload)
    assert response.status_code == 201 and response.json()["message"].startswith("Merci")
    bad = httpx.post(f"{server}/api/feedback", json={**payload, "reason": "je sais pas"})
    assert bad.status_code == 422 and "la raison est invalide" in bad.json()["detail"]
