"""Danger score: a linear model over the words, word pairs and letter groups of a message.

The situation lexicon (`assistant/danger.py`) recognises the situations its conjunctions describe; a
message that says the same thing in other words slips through (« ce soir je vais prendre toutes les
boîtes de médocs », a calm note about a broken weight curve). This model weighs many weak cues at once:
the message's words and word pairs, letter groups of 3 to 5 (misspellings, SMS forms, inflections),
and which lexicon concepts match. Its weights are fitted by `python -m evals.tune_danger --write` on
the development sets (never on the held-out ones) and stored with their fit record in
`assistant/data/danger_model.json`; the decision threshold is chosen there, on out-of-fold scores, to
keep false alarms rare. Three heads share the features: danger or not, immediate or not, and which
situation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from assistant.cues import Head, HeadStack, features

_DANGER, _IMMEDIATE = " danger", " immediate"  # keys no situation name can take (they start with a space)
MODEL_FILE = Path(__file__).resolve().parent / "data" / "danger_model.json"


@dataclass(frozen=True, slots=True)
class DangerScore:
    probability: float  # that the message describes a child in danger
    immediate: float  # that the danger is immediate (meaningful only when there is danger)
    situation: str | None  # the most probable situation, when the model is confident enough
    signalled: bool
    urgent: bool


@dataclass(frozen=True)
class DangerModel:
    danger: Head
    immediate: Head
    situations: Mapping[str, Head]  # one-vs-rest heads
    threshold: float  # danger when probability >= threshold (chosen on out-of-fold scores)
    immediate_threshold: float
    situation_floor: float  # name the situation only when its head gives at least this

    @classmethod
    def from_data(cls, data: Mapping[str, object]) -> DangerModel:
        situations = data["situations"]
        assert isinstance(situations, dict)
        return cls(
            Head.from_data(data["danger"]),
            Head.from_data(data["immediate"]),
            {str(name): Head.from_data(raw) for name, raw in situations.items()},
            float(str(data["threshold"])),
            float(str(data["immediate_threshold"])),
            float(str(data["situation_floor"])),
        )

    def score(self, normalised: str, concept_hit: Callable[[str], bool], name_situation: bool = True) -> DangerScore:
        """The three heads on a message (computed together); the likeliest situation is named only when asked
        (`name_situation`: the lexicon has not already named one)."""
        present = features(normalised, self.concepts_present(concept_hit))
        heads = self.stack.probabilities(present)
        probability, immediate = heads[_DANGER], heads[_IMMEDIATE]
        best, best_p = None, 0.0
        for name in self.situations if name_situation else ():
            p = heads[name]
            if p > best_p:
                best, best_p = name, p
        return DangerScore(
            probability,
            immediate,
            best if best_p >= self.situation_floor else None,
            probability >= self.threshold,
            immediate >= self.immediate_threshold,
        )

    def concepts_present(self, concept_hit: Callable[[str], bool]) -> list[str]:
        return [name for name in self.concept_names if concept_hit(name)]

    @cached_property
    def stack(self) -> HeadStack:
        """All heads at once (the situation heads keyed by their names, the two others by reserved keys)."""
        return HeadStack({_DANGER: self.danger, _IMMEDIATE: self.immediate, **self.situations})

    @cached_property
    def concept_names(self) -> list[str]:
        return sorted({name[2:] for name in self.danger.weights if name.startswith("k ")})


def load_model(path: Path = MODEL_FILE) -> DangerModel:
    """The fitted model; a missing file is an error naming it (without it, danger would be missed silently)."""
    from retrieval.tuned import read_tuned

    model = DangerModel.from_data(read_tuned(path, "python -m evals.tune_danger --write"))
    _ = model.stack  # built at start-up, not on the first question
    return model
