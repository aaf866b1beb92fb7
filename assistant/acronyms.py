"""Acronyms spelled out for families (pure): the first use of each acronym in an answer is explained
after its sentence, with the sense of the section it is written in (`data/senses.toml`: « IP » is an
infirmière puéricultrice in a PMI fiche, an information préoccupante in the CRIP's)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.safety import normalise

SENSES_FILE = Path(__file__).resolve().parent / "data" / "senses.toml"
_ACRONYM = re.compile(r"\b[A-Z]{2,6}\b")


@dataclass(frozen=True, slots=True)
class Sense:
    text: str
    context: tuple[str, ...]  # folded word starts that point to this sense


@lru_cache(maxsize=1)
def senses() -> dict[str, tuple[Sense, ...]]:
    data = tomllib.loads(SENSES_FILE.read_text(encoding="utf-8"))
    return {
        a["name"].casefold(): tuple(Sense(s["text"], tuple(s["context"])) for s in a["sense"]) for a in data["acronym"]
    }


def sense_in(acronym: str, context: str, lexicon: Sequence[str]) -> str:
    """The sense of `acronym` in a section whose text is `context`; the lexicon's first one by default."""
    choices = senses().get(acronym.casefold())
    if choices:
        padded = f" {normalise(context)}"
        counts = [sum(padded.count(f" {word}") for word in sense.context) for sense in choices]
        if max(counts) > 0:
            return choices[counts.index(max(counts))].text
    return lexicon[0] if lexicon else ""


def spell_out(text: str, lexicon: Mapping[str, Sequence[str]], explained: set[str], context: str = "") -> str:
    """The sentence as the source wrote it, the first use of each acronym explained after it, in
    parentheses (« … une AED … (AED : action éducative à domicile) »)."""
    notes = []
    for word in dict.fromkeys(_ACRONYM.findall(text)):
        key = word.casefold()
        if key in explained or not (lexicon.get(key) or key in senses()):
            continue
        sense = sense_in(word, context or text, lexicon.get(key, ()))
        if not sense:
            continue
        explained.add(key)
        if normalise(sense) not in normalise(text):  # « Réseau d'écoute, … des parents (REAAP) »: said already
            notes.append(f"{word} : {sense}")
    return f"{text} ({' ; '.join(notes)})" if notes else text


_LIST_JOINT = frozenset({"et", "ou"})


def listed_acronyms(text: str, acronyms: Sequence[str]) -> frozenset[str]:
    """The acronyms a question lists together (« TISF, MECS et ODPE », « « LAEP » et « RAM » »), folded; not
    one named elsewhere in the message (« c koi une tisf ? l'ase veut… » lists none)."""
    known = set(acronyms)
    listed: set[str] = set()
    run: list[str] = []
    for word in [*re.findall(r"\w+", normalise(text)), ""]:
        if word in known:
            run.append(word)
        elif word not in _LIST_JOINT or not run:
            if len(run) > 1:
                listed.update(run)
            run = []
    return frozenset(listed)
