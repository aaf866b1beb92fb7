"""Citations and contact checks (pure): numbered passages <-> [n] markers in an answer, and the
rule that a phone number, e-mail, postal address or opening hours may only appear when a cited
passage contains it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from corpus.clean import fold


@dataclass(frozen=True, slots=True)
class Citation:
    n: int  # the [n] marker
    chunk_id: str
    section_id: str
    document: str
    fiche: str  # "Fiche n°32 – Harmoniser les pratiques…" or the section title
    page: int | None
    source: str
    start_line: int
    end_line: int
    quote: str
    territory: str | None = None

    def label(self) -> str:
        page = f", p. {self.page}" if self.page else ""
        return (
            f"[{self.n}] {self.document} — {self.fiche}{page} ({self.source}, lignes {self.start_line}-{self.end_line})"
        )


_MARKER = re.compile(r"\[(\d{1,3})\]")
# National numbers that are always allowed: 15 (SAMU), 17 (police), 112 (European emergency), 119.
NATIONAL_NUMBERS = frozenset({"15", "17", "112", "114", "115", "119", "3919", "3020"})
CONTACT_PATTERNS = {
    "phone": re.compile(r"(?<!\d)(?:\+33\s?|0)[1-9](?:[\s.\-]?\d{2}){4}(?!\d)"),
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "address": re.compile(
        r"\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|route|place|chemin|allée|impasse|quai|cours)\s+[^\n,;.\[\]]{2,60}",
        re.IGNORECASE,
    ),
    "hours": re.compile(r"\b\d{1,2}\s?[hH](?:\s?\d{2})?\s?(?:à|-|–)\s?\d{1,2}\s?[hH](?:\s?\d{2})?"),
}


def markers(text: str) -> list[int]:
    return [int(m) for m in _MARKER.findall(text)]


def repair_markers(text: str, valid: Sequence[int]) -> str:
    """Drop every [n] that does not point at a numbered passage."""
    allowed = set(valid)
    return _MARKER.sub(lambda m: m.group(0) if int(m.group(1)) in allowed else "", text)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def contacts(text: str) -> list[tuple[str, str]]:
    """(kind, value) of every contact detail in a text."""
    found: list[tuple[str, str]] = []
    for kind, pattern in CONTACT_PATTERNS.items():
        found.extend((kind, m.group(0)) for m in pattern.finditer(text))
    return found


def is_verified(kind: str, value: str, sources: Sequence[str]) -> bool:
    """Whether a contact detail occurs in one of the source texts (digits compared for phones)."""
    if kind == "phone":
        digits = _digits(value)
        return any(digits in _digits(source) for source in sources)
    needle = " ".join(fold(value).split())
    return any(needle in " ".join(fold(source).split()) for source in sources)


def unverified_contacts(text: str, sources: Sequence[str]) -> list[str]:
    return [value for kind, value in contacts(text) if not is_verified(kind, value, sources)]


def strip_unverified_contacts(text: str, sources: Sequence[str]) -> str:
    """Remove contact details that no cited passage contains (never invent a contact)."""
    for value in unverified_contacts(text, sources):
        text = text.replace(value, "[coordonnée retirée : absente des sources]")
    return text
