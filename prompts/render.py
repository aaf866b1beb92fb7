"""Prompt and answer templates: prompts/*.j2 rendered with Jinja2 (StrictUndefined, no autoescape:
this is text for people and models, not HTML); audience profiles: prompts/profiles/*.toml."""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict

PROMPTS_DIR = Path(__file__).resolve().parent
AUDIENCES = ("famille", "professionnel")


class Profile(BaseModel):
    """An audience profile: how answers are shaped for that audience."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    label: str
    max_sections: int  # cards: at most this many fiches in an answer
    min_relative_score: float  # a section is read if its score is at least this share of the best
    spell_out_acronyms: bool
    contact_first: bool
    context_last: bool = False  # parts that describe the département (figures, context) come after the others


class Orientation(BaseModel):
    """An out-of-scope topic and the kind of service to turn to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    patterns: list[str]
    message: str
    # Whether the orientation still applies when the message describes a child in danger (« ils ont pris
    # mon passeport pour me marier » is about the danger, not about identity papers).
    with_danger: bool = True
    # Questions the topic must catch and real questions of the sources that share its words
    # (tests/test_understand.py runs them).
    examples: list[str] = []
    counterexamples: list[str] = []

    def matches(self, normalised_question: str) -> bool:
        return any(re.search(p, normalised_question) for p in self.patterns)


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(PROMPTS_DIR),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # the prompts are part of the release: no file check on every render
    )


def render(name: str, **context: Any) -> str:
    """Render prompts/<name> with the given variables (a missing variable is an error)."""
    text = environment().get_template(name).render(**context)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@lru_cache(maxsize=4)
def load_profile(audience: str) -> Profile:
    if audience not in AUDIENCES:
        raise ValueError(f"Public inconnu : {audience!r} (attendu : famille ou professionnel).")
    data = tomllib.loads((PROMPTS_DIR / "profiles" / f"{audience}.toml").read_text(encoding="utf-8"))
    return Profile.model_validate(data)


@lru_cache(maxsize=1)
def load_orientations() -> tuple[Orientation, ...]:
    data = tomllib.loads((PROMPTS_DIR / "orientation.toml").read_text(encoding="utf-8"))
    return tuple(Orientation.model_validate(entry) for entry in data["topic"])


@lru_cache(maxsize=1)
def other_places() -> tuple[str, ...]:
    """Places outside the corpus' territories (normalised), for out-of-area questions."""
    data = tomllib.loads((PROMPTS_DIR / "orientation.toml").read_text(encoding="utf-8"))
    return tuple(str(p) for p in data["out_of_area"]["places"])


@lru_cache(maxsize=1)
def beside_patterns() -> tuple[re.Pattern[str], ...]:
    """Comparison words that make a place outside the subject when one inside is named as the model."""
    data = tomllib.loads((PROMPTS_DIR / "orientation.toml").read_text(encoding="utf-8"))
    return tuple(re.compile(p) for p in data["out_of_area"]["beside"])


@lru_cache(maxsize=1)
def residence_patterns() -> tuple[re.Pattern[str], ...]:
    """Words that say where the person lives or comes from (« j'habite à Lyon »): a place so named is
    not what the question asks about."""
    data = tomllib.loads((PROMPTS_DIR / "orientation.toml").read_text(encoding="utf-8"))
    return tuple(re.compile(p) for p in data["out_of_area"]["residence"])


@lru_cache(maxsize=1)
def locality_table() -> dict[str, object]:
    """The [locality] table: what makes a commune asked about locally, and what to say when no source names it."""
    data = tomllib.loads((PROMPTS_DIR / "orientation.toml").read_text(encoding="utf-8"))
    table = data["locality"]
    assert isinstance(table, dict)
    return table


@lru_cache(maxsize=1)
def near_patterns() -> tuple[re.Pattern[str], ...]:
    """Words that ask what is near a place or whether something is there (« y a-t-il », « pas loin »)."""
    patterns = locality_table()["near"]
    assert isinstance(patterns, list)
    return tuple(re.compile(str(p)) for p in patterns)


@lru_cache(maxsize=1)
def load_out_of_area_message() -> str:
    data = tomllib.loads((PROMPTS_DIR / "orientation.toml").read_text(encoding="utf-8"))
    return str(data["out_of_area"]["message"])


@lru_cache(maxsize=1)
def load_datum_messages() -> dict[str, str]:
    """What to say when the sources hold no datum of the kind asked (contact, hours, amount, delay…)."""
    data = tomllib.loads((PROMPTS_DIR / "orientation.toml").read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data["datum"].items()}


@lru_cache(maxsize=1)
def load_named_person_message() -> str:
    data = tomllib.loads((PROMPTS_DIR / "orientation.toml").read_text(encoding="utf-8"))
    return str(data["named_person"]["message"])


class WhomRule(BaseModel):
    """Whom a family can ask, for an age or situation the question names."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    patterns: list[str]
    line: str
    examples: list[str]

    def matches(self, normalised_question: str) -> bool:
        return any(re.search(p, normalised_question) for p in self.patterns)


@lru_cache(maxsize=1)
def load_whom() -> tuple[tuple[WhomRule, ...], str]:
    """The « à qui s'adresser » rules of prompts/whom.toml and the default line."""
    data = tomllib.loads((PROMPTS_DIR / "whom.toml").read_text(encoding="utf-8"))
    return tuple(WhomRule.model_validate(r) for r in data["rule"]), str(data["default"])
