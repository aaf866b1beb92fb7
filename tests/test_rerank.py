"""The learned section ranker (`assistant/rerank.py`) and its tuner (`evals/tune_rerank.py`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pytest

from assistant.answer import AnswerEngine
from assistant.evidence import RERANK_CANDIDATES
from assistant.rerank import RERANK_FILE, Reranker, feature_names, pair_features
from evals.tune_rerank import Group, first_right, fit
from evals.tune_rerank import main as tune_main
from retrieval.retrieve import Retriever


@pytest.fixture(scope="module")
def engines(retriever: Retriever) -> tuple[AnswerEngine, AnswerEngine]:
    return AnswerEngine(retriever), AnswerEngine(retriever, rerank=False)


def test_the_packaged_ranker_reads_the_current_features_and_beat_the_retriever_held_out() -> None:
    ranker = Reranker.load()
    assert ranker is not None, RERANK_FILE
    assert ranker.features == feature_names()  # a stale file is refused at start-up (`warm_up`)
    held_out = ranker.fitted["held_out"]
    assert isinstance(held_out, dict)
    for audience in ("famille", "professionnel"):
        figures = held_out[audience]
        assert figures["questions"] > 500
        assert figures["ranker"] > figures["retriever"] + 0.02, figures


def test_every_feature_is_computed_for_every_candidate(engines: tuple[AnswerEngine, AnswerEngine]) -> None:
    engine = engines[1]
    q = engine.analyse("c'est quoi une TISF ? on est dans la Loire", "famille")
    hits = engine.retriever.search(q.query_text, k=RERANK_CANDIDATES, query=q.query)
    rows = pair_features(engine.evidence, q, hits)
    assert len(rows) == len(hits) == RERANK_CANDIDATES
    assert all(set(row) == set(feature_names()) for row in rows)
    assert [row["rank"] for row in rows] == list(range(len(hits)))
    assert rows[0]["relative_score"] == 1.0 and all(0.0 <= row["relative_score"] <= 1.0 for row in rows)
    assert any(row["kind_glossaire"] for row in rows) and all(row["asks_definition"] == 1.0 for row in rows)
    assert all(row["famille"] == 1.0 for row in rows)


@pytest.mark.parametrize(
    ("question", "section"),
    [
        # a grandmother taking the child in: the Isère fiche on a « tiers digne de confiance », not the Loire's
        # preparation to majority that the words « foyer » and « prendre » bring first
        (
            "mon fils est place en foyer, ma mere pourrait le prendre chez elle a la place? le departement accepte ca",
            "isere-schema-2020/fiche-9",
        ),
    ],
)
def test_the_ranker_puts_the_fiche_that_answers_first(
    engines: tuple[AnswerEngine, AnswerEngine], question: str, section: str
) -> None:
    ranked, plain = engines
    q = ranked.analyse(question, "famille")
    assert plain.evidence.sections(q)[0].section_id != section
    assert ranked.evidence.sections(q)[0].section_id == section


def test_the_ranker_brings_a_fiche_within_the_answers_reach(engines: tuple[AnswerEngine, AnswerEngine]) -> None:
    # « centres maternels … les papas ? »: fiche 17 (accueil mère-enfant -> centres parentaux) was fourth
    ranked, plain = engines
    question = "on est un couple avec un bb de 2 mois, en isere les centres maternels prennent aussi les papas ?"
    q = ranked.analyse(question, "famille")
    assert "isere-schema-2020/fiche-17" not in [h.section_id for h in plain.evidence.sections(q)[:3]]
    assert "isere-schema-2020/fiche-17" in [h.section_id for h in ranked.evidence.sections(q)[:3]]


@dataclass(frozen=True, slots=True)
class _Fixed(Reranker):
    """A ranker whose scores are given (the order's logic without a model)."""

    given: tuple[float, ...] = ()

    def scores(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        return np.array(self.given[: len(rows)])


def test_the_new_order_keeps_the_retrievers_scores_in_place(engines: tuple[AnswerEngine, AnswerEngine]) -> None:
    engine = engines[1]
    q = engine.analyse("qui pilote la fiche sur le projet pour l'enfant ?", "professionnel")
    hits = engine.retriever.search(q.query_text, k=4, query=q.query)
    ranker = _Fixed(feature_names(), "", {}, given=(0.1, 0.9, 0.5, 0.5))
    ordered = ranker.order(engine.evidence, q, hits)
    # the second first, then the third and the fourth in the retriever's order (a tie), the first last
    assert [h.section_id for h in ordered] == [hits[i].section_id for i in (1, 2, 3, 0)]
    # each place keeps its score: what reads a section's score relative to the first sees the same range
    assert [h.score for h in ordered] == [h.score for h in hits]
    assert [h.passages for h in ordered] == [hits[i].passages for i in (1, 2, 3, 0)]


def _groups(seed: int, count: int = 60) -> list[Group]:
    """Synthetic questions of ten candidates: the right one has the highest « covers_clause »."""
    rng = np.random.default_rng(seed)
    names = feature_names()
    found = []
    for n in range(count):
        rows = rng.random((10, len(names)))
        labels = np.zeros(10)
        right = int(rng.integers(1, 10))  # never the retriever's first
        rows[right, names.index("covers_clause")] = 2.0
        labels[right] = 1.0
        rows[:, names.index("rank")] = np.arange(10)
        found.append(Group(f"set{n % 4}", "famille", rows, labels))
    return found


def test_the_tuner_is_deterministic_and_learns_what_ranks_first() -> None:
    groups = _groups(0)
    model = fit(groups)
    assert model == fit(groups)  # one thread, fixed seeds: a refit writes the same model
    test = _groups(1, 20)
    assert first_right(test, None)["famille"] == [0.0] * 20  # the retriever's first is never right here
    assert np.mean(first_right(test, model)["famille"]) > 0.9


def test_the_tuner_refuses_a_sealed_set() -> None:
    with pytest.raises(SystemExit):
        tune_main(["--set", "evals/heldout25_answers.jsonl"])
