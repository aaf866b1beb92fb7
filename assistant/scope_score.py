"""Scope score: whether the sources can answer a question, weighed from many weak cues.

The refusal rules (`assistant/answerable.py`) refuse what they can name: an injection, a topic of
another service, a place outside the corpus, a named person, a year after the periods, a datum no
passage about the question holds. A question outside the sources in other words (a medication dose,
an appeal against a refusal, the final results of a plan, a service of a town the corpus never names)
slips through and gets passages that only share words with it. This head weighs the question's words,
word pairs and letter groups together with cues from the evidence: how much of the question one
passage covers, the question's words that no passage has (a town, a person, a drug), whether a datum
is asked and held, a year after the periods. Its weights are fitted by `python -m evals.tune_scope
--write` on the development sets and stored in `assistant/data/scope_model.json`; its threshold is
chosen there, out of fold, so that in-scope questions are almost never refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from assistant.cues import Head, features

MODEL_FILE = Path(__file__).resolve().parent / "data" / "scope_model.json"
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-ZÀ-Ý][a-zà-ÿ]{2,}")


@dataclass(frozen=True, slots=True)
class Signals:
    """What the evidence says about a question, as the scope head reads it."""

    coverage: float  # share of the question's information found together in one passage
    unknown: int  # question words no passage has
    unknown_share: float  # their IDF-weighted share of the question
    unknown_names: int  # capitalised words (not at a sentence start) no passage has: a town, a person
    hits: int  # sections an answer may quote
    asks: tuple[str, ...]  # what is asked (understand.asked_kinds ids)
    datum_asked: bool
    datum_held: bool
    datum_near: float  # share of the subject beside an asked datum (1.0 when none is asked)
    year: bool
    late_year: bool
    place: bool  # a place of the corpus is named
    departement: bool

    def cues(self) -> list[str]:
        found = [f"cov<{edge}" for edge in (0.4, 0.55, 0.7, 0.85) if self.coverage < edge]
        found += [f"unknown>={n}" for n in (1, 2, 3) if self.unknown >= n]
        found += [f"unknown_share>={edge}" for edge in (0.1, 0.2, 0.35) if self.unknown_share >= edge]
        found += [f"names>={n}" for n in (1, 2) if self.unknown_names >= n]
        found += [f"asks {kind}" for kind in self.asks]
        found += [f"near<{edge}" for edge in (0.2, 0.4, 0.6) if self.datum_asked and self.datum_near < edge]
        flags = {
            "no_hits": self.hits == 0,
            "datum_asked": self.datum_asked,
            "datum_missing": self.datum_asked and not self.datum_held,
            "year": self.year,
            "late_year": self.late_year,
            "place": self.place,
            "departement": self.departement,
        }
        return found + [name for name, on in flags.items() if on]


def capitalised(text: str) -> list[str]:
    """Capitalised words of `text` that do not open a sentence (a town, a person, an organisation)."""
    return _CAPITALISED.findall(text)


@dataclass(frozen=True)
class ScopeModel:
    head: Head
    threshold: float  # refuse when the probability is at least this

    @classmethod
    def from_data(cls, data: Mapping[str, object]) -> ScopeModel:
        return cls(Head.from_data(data["scope"]), float(str(data["threshold"])))

    def probability(self, normalised: str, signals: Signals) -> float:
        return self.head.probability(features(normalised, evidence=signals.cues()))

    def outside(self, normalised: str, signals: Signals) -> bool:
        return self.probability(normalised, signals) >= self.threshold


def load_model(path: Path = MODEL_FILE) -> ScopeModel:
    """The fitted model; a missing file is an error naming it."""
    from retrieval.tuned import read_tuned

    return ScopeModel.from_data(read_tuned(path, "python -m evals.tune_scope --write"))
