"""Danger recogniser: a message -> the situation of a child in danger it describes, and how urgent.

The situations, their concepts and their examples are data (`assistant/data/danger.toml`): a message
signals danger when every concept of one of a situation's `when` sets matches and it describes a
situation (a particular child, a witness, a time) rather than asking about the plan in general.

The fitted danger model (`assistant/danger_score.py`) weighs many weak cues at once and also signals
danger said in words no conjunction foresaw; a message is in danger when either recognises it. The
model decides the level: "immediate" (a child alone now, a threat at the door, a teenager with a plan
tonight) puts 17 / 112 first. Without a model (the tuner's own baseline), the situations' `immediate`
sets decide.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from assistant.danger_score import DangerModel, load_model
from assistant.sms import sms_forms
from corpus.clean import fold

DATA_FILE = Path(__file__).resolve().parent / "data" / "danger.toml"
_NON_WORD = re.compile(r"[^\w]+")
_GLUED_UNIT = re.compile(r"\b(\d{1,2})(ans|an|mois|h|heures?|semaines?)\b")


class DangerLevel(StrEnum):
    NONE = "none"
    CONCERN = "concern"
    IMMEDIATE = "immediate"


@dataclass(frozen=True, slots=True)
class Danger:
    level: DangerLevel = DangerLevel.NONE
    situation: str | None = None  # id of the situation recognised ("young_child_alone")
    label: str = ""  # how the answer names it, in French
    also: tuple[str, ...] = ()  # every situation the message matches, the recognised one first
    minor_writing: bool = False  # a minor writing about themself

    @property
    def signalled(self) -> bool:
        return self.level is not DangerLevel.NONE


NO_DANGER = Danger()


@dataclass(frozen=True, slots=True)
class Situation:
    id: str
    label: str
    when: tuple[frozenset[str], ...]
    when_weak: tuple[frozenset[str], ...]  # not when the message asks for an ordinary service
    immediate: tuple[frozenset[str], ...]
    examples: tuple[str, ...]
    counterexamples: tuple[str, ...]
    # How the answer names the situation when only a weak group matched (« un parent épuisé avec un jeune
    # enfant », not « un parent qui a peur de faire du mal à son enfant »); the label when empty.
    label_weak: str = ""


def _alternation(patterns: list[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + ")")


class DangerLexicon:
    """The situation inventory, compiled, with the fitted danger model that weighs weak cues (when given)."""

    def __init__(self, data: dict[str, object], model: DangerModel | None = None) -> None:
        self.model = model
        concepts = data.get("concepts", {})
        guard = data.get("guard", {})
        assert isinstance(concepts, dict) and isinstance(guard, dict)
        # The guard's two lists are concepts too (a situation may require a particular child: "subject").
        self.concepts = {name: _alternation(list(patterns)) for name, patterns in {**concepts, **guard}.items()}
        self.plan, self.subject = self.concepts["plan"], self.concepts["subject"]
        situations = data.get("situation", [])
        assert isinstance(situations, list)
        self.situations = tuple(
            Situation(
                str(s["id"]),
                str(s["label"]),
                tuple(frozenset(group) for group in s["when"]),
                tuple(frozenset(group) for group in s.get("when_weak", [])),
                tuple(frozenset(group) for group in s.get("immediate", [])),
                tuple(s.get("examples", [])),
                tuple(s.get("counterexamples", [])),
                str(s.get("label_weak", "")),
            )
            for s in situations
        )
        self.by_id = {s.id: s for s in self.situations}
        used = {c.partition("*")[0] for s in self.situations for g in (*s.when, *s.when_weak, *s.immediate) for c in g}
        unknown = used - set(self.concepts)
        if unknown:
            raise ValueError(f"danger.toml: unknown concepts {sorted(unknown)}")

    def normalise(self, text: str) -> str:
        """Folded words separated by single spaces, SMS forms expanded, « 15ans » -> « 15 ans »."""
        words = _NON_WORD.sub(" ", fold(text)).split()
        text = " ".join(sms_forms().expand(words))
        return _GLUED_UNIT.sub(r"\1 \2", text)

    def recognise(self, text: str) -> Danger:
        """The most serious situation the message describes (inventory order), or no danger."""
        normalised = self.normalise(text)
        hits: dict[str, bool] = {}

        def has(concept: str) -> bool:
            if concept not in hits:
                name, _, count = concept.partition("*")  # « worry_weak*2 »: two different matches
                found = {m.group(0) for m in self.concepts[name].finditer(normalised)} if count else set()
                hits[concept] = len(found) >= int(count) if count else bool(self.concepts[name].search(normalised))
            return hits[concept]

        def matches(situation: Situation) -> bool:
            groups = situation.when if has("asks_service") else (*situation.when, *situation.when_weak)
            return any(all(has(c) for c in group) for group in groups)

        matched = [s for s in self.situations if matches(s)]
        if has("plan") and not has("subject"):
            matched = []  # a question about the plan or a service rather than about a child
        score = self.model.score(normalised, has, not matched) if self.model is not None else None
        if not matched and (score is None or not score.signalled):
            return NO_DANGER
        if score is not None:  # the fitted model decides the level (it beat the `immediate` sets out of fold)
            immediate = score.urgent
        else:
            immediate = any(all(has(c) for c in group) for s in matched for group in s.immediate)
        if not matched:  # the model alone: name the situation only when it is confident
            assert score is not None
            known = self.by_id.get(score.situation or "")
            situation = known.id if known else "unnamed"
            level = DangerLevel.IMMEDIATE if immediate else DangerLevel.CONCERN
            return Danger(level, situation, known.label if known else "", (situation,), has("minor_writing"))
        first = matched[0]
        strong = any(all(has(c) for c in group) for group in first.when)
        if immediate and not any(all(has(c) for c in group) for s in matched for group in s.when):
            # Recognised from weak cues only (« je suis épuisée »): immediate only when the message also says
            # it is happening now (the inventory's `immediate` sets), not on the fitted model's guess alone.
            immediate = any(all(has(c) for c in group) for s in matched for group in s.immediate)
        label = first.label if strong or not first.label_weak else first.label_weak
        level = DangerLevel.IMMEDIATE if immediate else DangerLevel.CONCERN
        return Danger(level, first.id, label, tuple(s.id for s in matched), has("minor_writing"))


def read_lexicon(model: DangerModel | None = None) -> DangerLexicon:
    return DangerLexicon(tomllib.loads(DATA_FILE.read_text(encoding="utf-8")), model)


@lru_cache(maxsize=1)
def default_lexicon() -> DangerLexicon:
    """The inventory with the fitted danger model."""
    return read_lexicon(load_model())


def recognise(text: str) -> Danger:
    return default_lexicon().recognise(text)
