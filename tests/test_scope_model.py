"""The fitted scope model (assistant/scope_score.py, fitted by evals/tune_scope.py) on the real index:
it refuses questions outside the sources that the rules let through, it leaves in-scope questions
answered, and its file says what it was fitted on. The questions were written for this test; they
are in no eval set."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer import AnswerEngine
from assistant.scope_score import MODEL_FILE, Signals, load_model
from evals import tune_scope
from retrieval.retrieve import Retriever
from retrieval.tuned import TunedFileMissing, fit_metadata


@pytest.fixture(scope="module")
def engines(retriever: Retriever) -> tuple[AnswerEngine, AnswerEngine]:
    return AnswerEngine(retriever), AnswerEngine(retriever, scope_model=False)


OUTSIDE_IN_OTHER_WORDS = [
    ("famille", "Le juge Martin de Grenoble, il donne souvent la garde aux pères ?"),
    (
        "professionnel",
        "Combien de jours a le juge des enfants pour statuer après une saisine en assistance éducative ?",
    ),
]

INSIDE = [
    ("professionnel", "Comment fonctionne la CRIP de l'Isère pour recevoir une information préoccupante ?"),
    ("famille", "ya des groupes de parole pour les parents dans la loire ?"),
    ("famille", "c quoi une AED ?"),
    ("professionnel", "Qui pilote la fiche sur les mineurs non accompagnés ?"),
    ("famille", "La Clef des Petits accueille les enfants de quel âge ?"),
    ("professionnel", "Quels sont les objectifs de l'action sur les visites médiatisées dans la Loire ?"),
]


@pytest.mark.parametrize(("audience", "question"), OUTSIDE_IN_OTHER_WORDS, ids=lambda v: str(v)[:40])
def test_questions_outside_the_sources_are_refused_even_when_no_rule_names_them(
    engines: tuple[AnswerEngine, AnswerEngine], audience: str, question: str
) -> None:
    with_model, rules_alone = engines
    assert not rules_alone.ask(question, audience).refused  # else this example proves nothing
    answer = with_model.ask(question, audience)
    assert answer.refused and not answer.citations
    assert answer.reason in {"out_of_scope", "no_datum"}
    assert any(s in answer.text for s in ("ne traitent pas cette question", "ne trouve pas", "ne donnent pas"))


@pytest.mark.parametrize(("audience", "question"), INSIDE, ids=lambda v: str(v)[:40])
def test_questions_the_sources_answer_are_answered(
    engines: tuple[AnswerEngine, AnswerEngine], audience: str, question: str
) -> None:
    answer = engines[0].ask(question, audience)
    assert not answer.refused and answer.citations


def test_the_evidence_cues_say_what_the_corpus_lacks(engines: tuple[AnswerEngine, AnswerEngine]) -> None:
    engine = engines[0]
    q = engine.analyse("Le docteur Zimmerlin de Chambolle reçoit-il le samedi ?", "famille")
    signals = engine.answerability.signals(q, engine.evidence.sections(q))
    assert signals.unknown_names >= 2 and signals.unknown >= 2
    assert {"names>=2", "unknown>=2"} <= set(signals.cues())
    inside = engine.analyse("Qui pilote la fiche sur les mineurs non accompagnés ?", "professionnel")
    cues = engine.answerability.signals(inside, engine.evidence.sections(inside))
    assert cues.unknown == 0 and cues.coverage > 0.7 and cues.hits > 0


def test_a_document_named_by_its_years_is_no_year_asked(engines: tuple[AnswerEngine, AnswerEngine]) -> None:
    # « d'après le schéma 2020-2024 » names the document: neither the year cue nor the text the model reads
    # holds those years (a year of the 2020s is otherwise read as one after the sources); « en 2023 » stays
    engine = engines[0]
    question = "Combien d'enfants sont confiés à l'ASE en Isère d'après le schéma 2020-2024 ?"
    q = engine.analyse(question, "professionnel")
    assert "2020" not in engine.answerability.scope_text(q) and "schema" in engine.answerability.scope_text(q)
    assert not engine.answerability.signals(q, engine.evidence.sections(q)).year
    assert not engine.ask(question, "professionnel").refused
    late = engine.analyse("Combien d'enfants étaient confiés à l'ASE en Isère en 2023 ?", "professionnel")
    assert "2023" in engine.answerability.scope_text(late)
    assert engine.answerability.signals(late, engine.evidence.sections(late)).year


def test_signals_cues_are_cumulative_bins() -> None:
    signals = Signals(0.5, 2, 0.25, 1, 3, ("hours_address",), True, False, 0.3, False, False, True, True)
    cues = set(signals.cues())
    assert {"cov<0.55", "cov<0.7", "cov<0.85", "unknown>=1", "unknown>=2", "unknown_share>=0.2"} <= cues
    assert {"datum_asked", "datum_missing", "asks hours_address", "place", "departement"} <= cues
    assert "cov<0.4" not in cues and "unknown>=3" not in cues and "no_hits" not in cues


def test_the_model_file_says_what_it_was_fitted_on_and_is_required(tmp_path: Path) -> None:
    record = fit_metadata(MODEL_FILE)
    assert record is not None and record["command"] == "python -m evals.tune_scope --write"
    assert not any(name.endswith(sealed) for name in record["eval_sets"] for sealed in tune_scope.SEALED)
    assert record["held_out"]["in_scope_answered_together"] >= 0.95
    with pytest.raises(TunedFileMissing):
        load_model(tmp_path / "absent.json")
