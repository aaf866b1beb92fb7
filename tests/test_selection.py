"""The sentence model: gradient-boosted trees ranking the sentences of a question, fitted deterministically and
calibrated into probabilities, with the logistic weights as the first pass and the fallback."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.compose import FEATURES, Budget, Selection, booster
from evals.tune_answers import Choice, Figures, better, calibrate, fit_trees, keep_others, pick_budget, platt


def _units(seed: int, rows: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic units: the label depends on two features together (what a weighted sum cannot read)."""
    rng = np.random.default_rng(seed)
    x = rng.random((rows, len(FEATURES)))
    question, field = FEATURES.index("question_words"), FEATURES.index("field_contact")
    x[:, field] = rng.random(rows) < 0.5
    y = ((x[:, question] > 0.5) & (x[:, field] > 0)).astype(np.float64)
    return x, y


def _questions(seed: int, count: int = 30) -> list[tuple[np.ndarray, np.ndarray]]:
    """Synthetic questions of 100 units each."""
    return [_units(seed * 1000 + n, 100) for n in range(count)]


def test_trees_are_deterministic_rank_an_interaction_and_are_calibrated() -> None:
    pairs = _questions(0)
    model = fit_trees(pairs)
    assert model == fit_trees(pairs)  # one thread, a fixed seed: a refit writes the same model
    scale, shift = calibrate(pairs)
    assert scale > 0  # a higher score is a likelier sentence
    selection = Selection(trees={"famille": model}, calibration={"famille": (scale, shift)})
    x, y = _units(1, 1000)
    p = selection.probabilities("famille", x)
    assert p.shape == (1000,) and float(p.min()) >= 0.0 and float(p.max()) <= 1.0
    assert float(p[y == 1].mean()) > 0.7 > 0.2 > float(p[y == 0].mean())
    assert abs(float(p.mean()) - float(y.mean())) < 0.05  # calibrated: as many facts expected as found
    # without trees for an audience, its logistic weights give the probabilities
    linear = Selection(weights={"famille": {"question_words": 4.0}}).probabilities("famille", x)
    expected = 1.0 / (1.0 + np.exp(-4.0 * x[:, FEATURES.index("question_words")]))
    assert np.allclose(linear, expected)


def test_platt_recovers_the_logistic_link_of_a_score() -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(0.0, 2.0, 20000)
    labels = (rng.random(20000) < 1.0 / (1.0 + np.exp(-(1.5 * scores - 2.0)))).astype(np.float64)
    scale, shift = platt(scores, labels)
    assert abs(scale - 1.5) < 0.1 and abs(shift + 2.0) < 0.1


def test_trees_fitted_on_other_features_are_refused_in_french() -> None:
    x, y = _units(0)
    stale = fit_trees([(x[:, :-3], y)])
    with pytest.raises(ValueError, match="Modèle de sélection périmé.*Régénérez-le avec"):
        booster(stale)


def test_the_packaged_selection_has_current_trees() -> None:
    """Trees for the audiences the tuner chose them for, fitted on today's features."""
    selection = Selection.load()
    assert selection.trees
    assert set(selection.calibration) == set(selection.trees)  # every ranking model with its probability link
    for model in selection.trees.values():
        assert booster(model).num_feature() == len(FEATURES)


def test_pick_budget_prefers_recall_within_the_word_limits_then_precision() -> None:
    short, long, longer = Budget(75), Budget(125), Budget(170)
    results = [
        (short, Figures(0.50, 0.5, 90, 150, precision=0.60)),
        (long, Figures(0.58, 0.5, 112, 170, precision=0.50)),
        (longer, Figures(0.70, 0.5, 140, 200, precision=0.40)),  # over the families' median limit
    ]
    assert pick_budget(results, "famille")[0] == long
    close = [*results[:2], (Budget(110), Figures(0.575, 0.5, 105, 160, precision=0.55))]
    assert pick_budget(close, "famille")[0] == Budget(110)  # within RECALL_TOLERANCE: the more precise


def test_a_budget_fits_only_if_it_holds_the_length_when_every_answer_uses_it() -> None:
    """The probability floor may keep answers short on the training questions and not on the next ones."""
    assert Figures(0.6, 0.5, 110, 170, 0.5, full_median_words=114).fits("famille")
    assert not Figures(0.6, 0.5, 110, 170, 0.5, full_median_words=150).fits("famille")
    assert Figures(0.6, 0.5, 140, 200, 0.5, full_median_words=150).fits("professionnel")


def test_trees_or_the_logistic_weights_recall_first_then_precision() -> None:
    def choice(trees: bool, recall: float, precision: float, full: float = 110) -> Choice:
        return Choice(trees, Budget(), Figures(recall, 0.6, 105, 160, precision, full), [recall, recall])

    assert not better(choice(True, 0.60, 0.50), choice(False, 0.64, 0.40), "professionnel").trees
    assert better(choice(True, 0.635, 0.50), choice(False, 0.64, 0.40), "professionnel").trees
    assert not better(choice(True, 0.70, 0.50, full=170), choice(False, 0.64, 0.40), "professionnel").trees


def test_a_refit_of_one_audience_keeps_the_others_model() -> None:
    """`--audience famille`: the families' trees, calibration and budget are the refit's; the professionals'
    stay as they were, so their answers do not change."""
    now = Selection(
        {"famille": {"bias": 1.0}, "professionnel": {"bias": 2.0}},
        {"famille": Budget(75), "professionnel": Budget(125)},
        {"famille": "old-f", "professionnel": "old-p"},
        {"famille": (1.0, 0.0), "professionnel": (2.0, 0.0)},
    )
    refit = Selection(
        {"famille": {"bias": 3.0}, "professionnel": {"bias": 4.0}},
        {"famille": Budget(85), "professionnel": Budget(95)},
        {"famille": "new-f", "professionnel": "new-p"},
        {"famille": (3.0, 0.0)},
    )
    kept = keep_others(now, refit, ["famille"])
    assert kept.trees == {"famille": "new-f", "professionnel": "old-p"}
    assert kept.budgets == {"famille": Budget(85), "professionnel": Budget(125)}
    assert kept.calibration == {"famille": (3.0, 0.0), "professionnel": (2.0, 0.0)}
    assert kept.weights == {"famille": {"bias": 3.0}, "professionnel": {"bias": 2.0}}
    assert keep_others(now, refit, ["famille", "professionnel"]).trees == refit.trees
