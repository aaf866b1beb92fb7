"""The parts of an answer (pure, typed): what the CLI, the web page and the APIs render, each in its
own form (text for the CLI and the OpenAI-compatible API, HTML for the page). Nothing parses an
answer's text back into parts.

An answer is a sequence of blocks: the emergency numbers first when a child may be in danger, then
the lead (the sentence that answers), cards (what exists: a fiche with its place, period and status)
or numbered steps, contacts, a notice, or a refusal with where to turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class BlockKind(StrEnum):
    EMERGENCY = "emergency"  # the numbers to call (119, 17, 112) and what to do about the danger
    LEAD = "lead"  # the one or two sentences that answer what was asked
    CARDS = "cards"  # the fiches found: title, place, period, status, a few sentences, contacts
    STEPS = "steps"  # numbered steps of a procedure
    CONTACTS = "contacts"  # whom to contact
    NOTICE = "notice"  # something the sources do not hold (« aucun numéro dans les fiches… »)
    REFUSAL = "refusal"  # the sources do not answer: why, and where to turn


@dataclass(frozen=True, slots=True)
class Cited:
    """A sentence quoted or built from the sources, with the [n] of the passages that hold it."""

    text: str
    n: tuple[int, ...] = ()
    note: str = ""  # « coordonnées de 2009, à vérifier »
    label: str = ""  # what a card's contact line gives: « Contact » or « Horaires » (opening hours only)

    def markers(self) -> str:
        return "".join(f"[{n}]" for n in self.n)


@dataclass(frozen=True, slots=True)
class Card:
    """A fiche or section as a person needs it: what, where, when, whether it still runs."""

    title: str
    document: str  # short name of the document and its period (« Loire, bilan 2017-2021 »)
    territory: str = ""
    public: str = ""
    status: str = ""  # « Action terminée », « Action en cours »… as the source says it
    ended: bool = False  # the source says the action ended
    lines: tuple[Cited, ...] = ()
    contacts: tuple[Cited, ...] = ()
    section_id: str = ""
    steps: bool = False  # the lines are the steps of a procedure, in the fiche's order (numbered)
    short: str = ""  # what the text answer calls it when the lead above has named it (« Fiche 03 »)
    age_note: str = (
        ""  # the public's ages leave out the child's the question tells (« ne vise pas un enfant de 10 ans »)
    )


@dataclass(frozen=True, slots=True)
class Block:
    kind: BlockKind
    text: str = ""  # emergency, notice, refusal: prose as rendered from its template
    title: str = ""  # steps, contacts: the heading
    items: tuple[Cited, ...] = ()  # lead, steps, contacts
    cards: tuple[Card, ...] = field(default=())
