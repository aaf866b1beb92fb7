"""Retrieval behaviour on questions phrased like users (not from the eval set)."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from retrieval.embeddings import HashingEmbeddings
from retrieval.index import IndexStats
from retrieval.pipeline import prepare
from retrieval.retrieve import Retriever


@pytest.fixture(scope="module", params=["embedded", "chroma-server"])
def retriever(
    request: pytest.FixtureRequest, built: tuple[Retriever, IndexStats], tmp_path_factory: pytest.TempPathFactory
) -> Retriever:
    """Every test here runs on the embedded index and on the same index through a real `chroma run`."""
    if request.param == "embedded":
        return built[0]
    chroma_url = request.getfixturevalue("chroma_url")
    return prepare(tmp_path_factory.mktemp("via-http"), HashingEmbeddings(), chroma_url=chroma_url)[0]


def top_titles(retriever: Retriever, question: str, k: int = 3) -> list[str]:
    return [h.title for h in retriever.search(question, k=k)]


def test_town_reaches_its_territory_fiches(retriever: Retriever) -> None:
    hits = retriever.search("des vacances en famille quand on a peu d'argent, on habite Unieux", k=5)
    assert any(h.title == "15. Collectif VACANCES FAMILLE FIRMINY" for h in hits)
    assert hits[0].territory in {"Gier Ondaine Pilat", "Loire"}


def test_acronym_question_finds_the_crip_fiche(retriever: Retriever) -> None:
    titles = top_titles(retriever, "role de la CRIP dans le traitement des IP en isere")
    assert any("informations préoccupantes" in t for t in titles)


def test_hits_carry_provenance_and_passages(retriever: Retriever) -> None:
    hit = retriever.search("accueil de jour pour enfants de 4 à 11 ans à Bourgoin-Jallieu", k=1)[0]
    assert hit.source == "corpus/sources/oned_isere_la_clef_accueils_de_jour.txt"
    assert hit.passages and all(hit.start_line <= p.start_line <= p.end_line <= hit.end_line for p in hit.passages)
    assert hit.passages[0].score >= hit.passages[-1].score
    assert set(hit.channels) == {"bm25_chunk", "bm25_section", "dense", "territory", "named_fiche"}


def test_empty_or_noise_question_does_not_crash(retriever: Retriever) -> None:
    assert len(retriever.search("", k=3)) <= 3
    assert len(retriever.search("!!! ??? 😀", k=3)) <= 3


@pytest.mark.parametrize("second_passage", [0.0, 0.5])
def test_sections_rank_by_their_best_chunk_plus_the_weighted_second(
    built: tuple[Retriever, IndexStats], second_passage: float
) -> None:
    """A section's score is its best chunk's plus `second_passage` × its second best; each hit lists its
    best chunks, best first; equal scores keep the order of the sections' best chunks."""
    base = built[0]
    retriever = copy.copy(base)
    retriever.weights = dataclasses.replace(base.weights, second_passage=second_passage)
    question = "groupe de parole pour les parents d'ados a Firminy"
    hits = retriever.search(question, k=8, passages=3)
    channels = retriever.channel_scores(retriever.analyzer.query(question))
    w = retriever.weights
    score = sum(getattr(w, name) * channels[name] for name in ("bm25_chunk", "bm25_section", "dense", "territory"))
    by_section: dict[str, list[float]] = {}
    for i in sorted(range(len(score)), key=lambda i: -score[i]):  # stable: ties keep the chunk order
        by_section.setdefault(retriever.section_ids[retriever.chunk_section[i]], []).append(float(score[i]))
    expected = {s: v[0] + second_passage * (v[1] if len(v) > 1 else 0.0) for s, v in by_section.items()}
    ranking = sorted(expected, key=lambda s: -expected[s])[:8]
    assert [h.section_id for h in hits] == ranking
    for hit in hits:
        assert hit.score == round(expected[hit.section_id], 6)
        assert [p.score for p in hit.passages] == [round(v, 6) for v in by_section[hit.section_id][:3]]


def test_a_fiche_named_by_its_number_comes_first(retriever: Retriever) -> None:
    """« la fiche n°14 » is the Isère fiche 14, not fiche 4 whose text cites « la loi du 14 mars 2016 »; a number
    two documents share (Isère and Loire fiche 16) is told apart by the question's other words."""
    assert retriever.search("les acteurs associés de la fiche n°14 ?", k=1)[0].title.startswith("n°14.")
    assert retriever.search("qui pilote la fiche 16 sur les mineurs non accompagnés ?", k=1)[0].title.startswith(
        "n°16."
    )
    assert retriever.search("fiche 16 partenariat PMI RAM dans la Loire", k=1)[0].title.startswith("16.")


def test_a_fiche_named_by_its_title_comes_first(retriever: Retriever) -> None:
    """A question that says a fiche's name (« le massage des nourrissons », « Le couple se sépare ») names it, though
    the town it gives is another fiche's territory; a one-word name or a place in the title names nothing."""
    from retrieval.retrieve import title_names

    assert retriever.search("je cherche le massage des nourrissons à Saint-Étienne", k=1)[0].title.startswith("24.")
    assert "le couple se separe" in title_names(
        retriever.analyzer, "44. Le couple se sépare - réunion d'information", "fiche"
    )
    assert title_names(retriever.analyzer, "11. Camps 2014", "fiche") == ("camps 2014",)
    assert title_names(retriever.analyzer, "« La Clef » – accueils de jour", "fiche") == ("la clef accueils de jour",)
    assert "gier ondaine pilat" not in title_names(
        retriever.analyzer, "12. Sorties familles AED - GIER ONDAINE PILAT", "fiche"
    )
