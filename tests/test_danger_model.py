"""The fitted danger model (assistant/danger_score.py, fitted by evals/tune_danger.py): it recognises
danger said in words the situation lexicon has no conjunction for, it keeps questions about the plan
quiet, the tuner and the assistant score a message the same way, and the tuner refuses sealed sets.

The messages below were written for this test; they are in no eval set and no fitted file."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.cues import Head, HeadStack, features
from assistant.danger import DangerLevel, default_lexicon, read_lexicon
from assistant.danger_score import MODEL_FILE, DangerModel, load_model
from evals import tune_danger
from retrieval.tuned import TunedFileMissing, fit_metadata

LEXICON_ALONE = read_lexicon()
WITH_MODEL = default_lexicon()

# Danger that the situation lexicon alone does not recognise (checked below, so the test stays honest
# if the lexicon learns them later: then it tests nothing new and must be replaced).
OTHER_WORDS = [
    "Aide-soignante en maternité : une mère vient d'accoucher, elle dit qu'elle n'arrive pas à toucher son bébé "
    "et qu'elle pense à le laisser devant une église.",
    "i think my neighbours lock their little boy in the cellar when they go out, i hear him crying through the vent",
    "un mec de 25 ans lui envoie des cadeaux sur snap et veut la voir seule, elle a 13 ans",
    "Éducatrice en foyer : une jeune de 16 ans revient de week-end avec des billets de 50 euros et refuse de dire "
    "d'où ils viennent, un homme l'attend en voiture devant le foyer.",
]

QUESTIONS_ABOUT_THE_PLAN = [
    "Quels sont les objectifs de la fiche action sur la prévention des violences intrafamiliales ?",
    "Combien de places d'accueil de jour pour les tout-petits à Bourgoin ?",
    "mon fils de 3 ans fait des colères, ya des ateliers pour les parents a saint etienne ?",
    "Qui pilote la fiche sur les mineurs non accompagnés ?",
    "Comment la CRIP traite-t-elle une information préoccupante ?",
    "je suis enceinte de 6 mois et seule, ya une aide de la PMI ?",
]


@pytest.mark.parametrize("message", OTHER_WORDS, ids=lambda m: m[:40])
def test_the_model_recognises_danger_the_lexicon_has_no_words_for(message: str) -> None:
    assert not LEXICON_ALONE.recognise(message).signalled  # else this example proves nothing
    danger = WITH_MODEL.recognise(message)
    assert danger.signalled, message
    assert danger.situation  # named when the model is confident, else "unnamed" (the answer then names none)


@pytest.mark.parametrize("message", QUESTIONS_ABOUT_THE_PLAN, ids=lambda m: m[:40])
def test_questions_about_services_stay_quiet(message: str) -> None:
    assert not WITH_MODEL.recognise(message).signalled


def test_a_child_about_to_harm_himself_tonight_is_immediate() -> None:
    danger = WITH_MODEL.recognise("jai 14 ans ce soir jvais avaler tous les cachets de ma mere, personne saura")
    assert danger.level is DangerLevel.IMMEDIATE


def test_weak_cues_alone_are_immediate_only_when_it_is_happening_now() -> None:
    """An exhausted parent of a disabled toddler asking for a crèche: a concern (119 first), not 17 / 112 —
    recognised from weak cues only, the level is immediate only when an `immediate` set of the inventory
    matches (the model alone used to say immediate here)."""
    tired = WITH_MODEL.recognise("Ma fille de 2 ans est handicapée et je suis épuisée. Une crèche peut l'accueillir ?")
    assert tired.signalled and tired.level is DangerLevel.CONCERN
    shaking = WITH_MODEL.recognise("je vais secouer mon bébé, il pleure depuis des heures, là maintenant je craque")
    assert shaking.level is DangerLevel.IMMEDIATE


def test_the_tuner_and_the_assistant_score_alike() -> None:
    """Fit on a few messages with the tuner's code, load the result as the assistant does: same probability."""
    lexicon = LEXICON_ALONE
    data = [
        tune_danger.Example(
            "ma fille de 4 ans est seule dans la voiture depuis une heure", True, True, "young_child_alone"
        ),
        tune_danger.Example("mon voisin frappe son fils tous les soirs, il pleure", True, False, "physical_violence"),
        tune_danger.Example("il me frappe avec la ceinture quand il a bu", True, False, "physical_violence"),
        tune_danger.Example("le bébé est seul à la maison ce soir", True, True, "young_child_alone"),
        tune_danger.Example("quelle fiche porte sur les violences ?", False, None, None),
        tune_danger.Example("horaires de la PMI de Vienne", False, None, None),
        tune_danger.Example("qui pilote la fiche 32 ?", False, None, None),
        tune_danger.Example("c'est quoi une AED ?", False, None, None),
    ]
    rows = [tune_danger.present(e, lexicon) for e in data]
    tune_danger.MIN_COUNT, saved = 1, tune_danger.MIN_COUNT
    try:
        heads = tune_danger.fit_all(rows, data)
    finally:
        tune_danger.MIN_COUNT = saved
    model = DangerModel.from_data({**heads, "threshold": 0.5, "immediate_threshold": 0.5, "situation_floor": 0.5})
    message = "le petit est seul à la maison depuis ce soir"
    normalised = lexicon.normalise(message)
    concepts = [name for name, pattern in lexicon.concepts.items() if pattern.search(normalised)]
    assert model.danger.probability(features(normalised, concepts)) == pytest.approx(
        tune_danger.probability(
            heads["danger"], tune_danger.present(tune_danger.Example(message, True, None, None), lexicon)
        )
    )
    assert model.score(normalised, lambda name: name in concepts).signalled
    assert not model.score(lexicon.normalise("qui pilote la fiche sur la PMI ?"), lambda name: False).signalled


def test_the_heads_computed_together_give_what_each_head_gives() -> None:
    """The stacked heads (one lookup per feature) agree with each head alone, including a head that reads only
    some kinds of features and a message with no feature at all."""
    model = load_model()
    partial = Head(-0.3, {"w seul": 1.5, "c seu": 0.7, "k alone": 2.0, "b est seul": -0.4}, kinds="wk")
    heads = {"danger": model.danger, "immediate": model.immediate, **model.situations, "partial": partial}
    stack = HeadStack(heads)
    for message in [*OTHER_WORDS, *QUESTIONS_ABOUT_THE_PLAN, "le petit est seul", ""]:
        present = features(LEXICON_ALONE.normalise(message), ["alone"] if "seul" in message else [])
        together = stack.probabilities(present)
        for name, head in heads.items():
            assert together[name] == pytest.approx(head.probability(present), rel=1e-9, abs=1e-12), (name, message)
    assert stack.probabilities(features("le petit est seul", ["alone"]))["partial"] > partial.probability([])


def test_the_tuner_refuses_a_sealed_set() -> None:
    with pytest.raises(SystemExit, match="sealed"):
        tune_danger.examples([Path("evals/heldout2_understanding.jsonl")], LEXICON_ALONE)


def test_the_model_file_says_what_it_was_fitted_on_and_is_required(tmp_path: Path) -> None:
    record = fit_metadata(MODEL_FILE)
    assert record is not None and record["command"] == "python -m evals.tune_danger --write"
    assert not set(record["eval_sets"]) & {f"evals/{name}" for name in tune_danger.SEALED}
    assert record["held_out"]["false_alarms_together"] <= 0.05
    with pytest.raises(TunedFileMissing):
        load_model(tmp_path / "absent.json")
