"""Weak cues weighed together: the binary features of a message (its words, word pairs, letter groups
of 3 to 5, and named cues such as the lexicon concepts it matches or what the evidence holds) and a
linear head over them. Used by the danger model and the scope model; their weights are fitted by
`evals/tune_danger.py` and `evals/tune_scope.py` and stored as JSON (the assistant needs no ML library).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

CHAR_SIZES = (3, 4, 5)
ALL_KINDS = "wbcke"  # words, word pairs, letter groups, lexicon concepts, evidence cues


def features(normalised: str, concepts: Iterable[str] = (), evidence: Iterable[str] = ()) -> list[str]:
    """The binary features of a normalised message (see `DangerLexicon.normalise`), sorted: « w » words,
    « b » word pairs, « c » letter groups, « k » lexicon concepts, « e » evidence cues."""
    words = normalised.split()
    found = {f"w {word}" for word in words}
    found.update(f"b {a} {b}" for a, b in zip(words, words[1:], strict=False))
    for word in words:
        padded = f" {word} "
        for size in CHAR_SIZES:
            found.update(f"c {padded[i : i + size]}" for i in range(len(padded) - size + 1))
    found.update(f"k {concept}" for concept in concepts)
    found.update(f"e {cue}" for cue in evidence)
    return sorted(found)


@dataclass(frozen=True, slots=True)
class Head:
    """One linear head: bias + weights of the features present, each present feature worth 1/sqrt(n).
    A head may read only some kinds of features (w words, b word pairs, c letter groups, k concepts, e evidence)."""

    bias: float
    weights: Mapping[str, float]
    kinds: str = "wbcke"

    def probability(self, present: list[str]) -> float:
        if self.kinds != ALL_KINDS:
            present = [name for name in present if name[0] in self.kinds]
        if not present:
            return 1.0 / (1.0 + math.exp(-self.bias))
        scale = 1.0 / math.sqrt(len(present))
        z = self.bias + scale * math.fsum(self.weights.get(name, 0.0) for name in present)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    @classmethod
    def from_data(cls, raw: object) -> Head:
        assert isinstance(raw, dict)
        weights = {str(k): float(v) for k, v in dict(raw["weights"]).items()}
        return cls(float(raw["bias"]), weights, str(raw.get("kinds", ALL_KINDS)))


class HeadStack:
    """Several heads over the same features, computed at once: one weight row per feature (a column per head),
    so a message's features are looked up once rather than once per head. Gives what each `Head.probability`
    gives, up to the order of a float sum."""

    def __init__(self, heads: Mapping[str, Head]) -> None:
        self.names = list(heads)
        self._bias = np.array([head.bias for head in heads.values()])
        self._kinds = [head.kinds for head in heads.values()]
        vocabulary = sorted({name for head in heads.values() for name in head.weights if name[0] in head.kinds})
        self._row = {name: i for i, name in enumerate(vocabulary)}
        self._weights = np.zeros((len(vocabulary), len(self.names)))
        for column, head in enumerate(heads.values()):
            for name, weight in head.weights.items():
                if name[0] in head.kinds:
                    self._weights[self._row[name], column] = weight

    def probabilities(self, present: list[str]) -> dict[str, float]:
        rows = [self._row[name] for name in present if name in self._row]
        total = self._weights[rows].sum(axis=0) if rows else np.zeros(len(self.names))
        per_kind = Counter(name[0] for name in present)
        counts = np.array([sum(per_kind[kind] for kind in kinds) for kinds in self._kinds], dtype=float)
        scale = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1.0)), 0.0)
        z = np.clip(self._bias + scale * total, -50.0, 50.0)
        return dict(zip(self.names, (1.0 / (1.0 + np.exp(-z))).tolist(), strict=True))
