"""Citations and contact checks (pure): numbered passages <-> [n] markers in an answer, and the
rule that a phone number, e-mail, postal address or opening hours may only appear when a cited
passage contains it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath

from assistant.conversation import Turn
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
    reviewed: bool = True  # False for a document added with `repere ingest` and not reviewed yet

    def label(self) -> str:
        page = f", p. {self.page}" if self.page else ""
        note = " — document ajouté, non vérifié" if not self.reviewed else ""
        where = f"{display_source(self.source)}, lignes {self.start_line}-{self.end_line}"
        return f"[{self.n}] {self.document} — {self.fiche}{page} ({where}){note}"


def display_source(source: str) -> str:
    """A source file as people see it: the corpus path, or « ajouts/<file> » for a document added with
    `repere ingest` (the server's folders are nobody's business)."""
    path = PurePath(source)
    return f"ajouts/{path.name}" if path.is_absolute() else source


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


@lru_cache(maxsize=65536)  # corpus sentences, checked again for every answer that shows them
def has_contact(text: str) -> bool:
    """Whether a text holds a phone number, an e-mail, a postal address or opening hours."""
    return any(p.search(text) for p in CONTACT_PATTERNS.values())


def has_phone_email_or_address(text: str) -> bool:
    """Whether a text gives a way to reach someone, as `has_contact` without opening hours alone."""
    return any(CONTACT_PATTERNS[kind].search(text) for kind in ("phone", "email", "address"))


# Source text is data: a citation marker, a link or markup written inside a document must not become a
# link to another source (or a tag) when the passage is quoted.
_SOURCE_MARKER = re.compile(r"\[(\d{1,3})\]")
_MARKDOWN_LINK = re.compile(r"!?\[([^\]\n]{0,200})\]\([^)\n]{0,500}\)")
_TAG = re.compile(r"</?[A-Za-z][^<>\n]{0,300}>")
# A Markdown autolink (« Le site CLEF : <http://clef.viabloga.com/> ») is an address, not a tag: its text stays.
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^<>\s\"']{1,300})>", re.IGNORECASE)
# A sentence that tells people not to call the emergency numbers is never quoted, whatever its source.
_DISCOURAGES_EMERGENCY = re.compile(
    r"\b(n|ne)['\s]*(appele\w*|appel\w*|contacte\w*|composez|joignez)\s+(plus|pas|jamais)\b[^.\n]{0,80}\b(119|17|112|15)\b"
    r"|\b(plus|pas|jamais|inutile|evite\w*|arrete\w*)\b[^.\n]{0,30}\b(appeler|contacter|composer)\s+(le\s+)?(119|17|112|15)\b"
    r"|\b(119|17|112)\b[^.\n]{0,40}\b(ne repond plus|n existe plus|supprime|remplace|ferme|inutile)",
)


# A sentence written for the assistant rather than for readers (an injection planted in a document).
# « assistant familial / maternel / social » are trades of child protection, not the assistant.
_ASSISTANT = r"(assistant(?! (familial|maternel|social|de service|d educ))|ia|chatbot)"
_ADDRESSES_ASSISTANT = re.compile(
    r"\b(ignore|oublie|ignorez|oubliez|ne tiens pas compte|ne tenez pas compte)\w*\s+(de\s+)?(toutes\s+)?"
    r"(tes|vos|les|ces)?\s*(instructions|regles|consignes|directives|sources|documents)"
    r"|\b(tu es|vous etes) (maintenant|desormais)\b|(^|\n)\s*(system|systeme)\s*:"
    r"|\bnouvelles? (directive|consigne|instruction)s?\b"
    rf"|\b({_ASSISTANT}|repere)\b.{{0,40}}\b(doit|dois|devez|reponds|repondez|affiche|dis|indique|donne)\b"
    r"|\binstructions? (pour|a l attention de|destinees? a) (l |un )?(assistant|ia|modele|robot)"
    r"|\b(ignore|disregard) (all |any )?(previous|prior|above) instructions"
    rf"|\b{_ASSISTANT}\b.{{0,10}}\b(reprends|reprenez|ecris|ecrivez|ajoute|ajoutez|cite|citez|mets|mettez|utilise"
    r"|utilisez|remplace|remplacez|termine|terminez|conclus|concluez|recopie|recopiez|repete|repetez)\b"
    r"|\b(en (conclusion|introduction|tete|titre)|a la (fin|suite)|au debut) de (ta|votre|tes|vos|chaque) reponses?\b"
)


def addresses_assistant(text: str) -> bool:
    """Whether a source sentence is written to steer the assistant (« ignore tes consignes… »)."""
    return bool(_ADDRESSES_ASSISTANT.search(re.sub(r"[^\w:\n]+", " ", fold(text))))  # « : » and lines kept


def neutralise(text: str) -> str:
    """A source passage as plain quoted text: « [2] » -> « (2) », a Markdown link -> its words, an autolink
    -> its address, tags removed."""
    text = _MARKDOWN_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _TAG.sub(" ", text)
    return _SOURCE_MARKER.sub(r"(\1)", text)


def discourages_emergency(text: str) -> bool:
    """Whether a sentence tells people not to call 119 / 17 / 112 / 15."""
    return bool(_DISCOURAGES_EMERGENCY.search(fold(text)))


def markers(text: str) -> list[int]:
    return [int(m) for m in _MARKER.findall(text)]


def repair_markers(text: str, valid: Sequence[int]) -> str:
    """Drop every [n] that does not point at a numbered passage."""
    allowed = set(valid)
    return _MARKER.sub(lambda m: m.group(0) if int(m.group(1)) in allowed else "", text)


def digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def contacts(text: str) -> list[tuple[str, str]]:
    """(kind, value) of every contact detail in a text."""
    found: list[tuple[str, str]] = []
    for kind, pattern in CONTACT_PATTERNS.items():
        found.extend((kind, m.group(0)) for m in pattern.finditer(text))
    return found


# Data an answer of Repère can only have quoted from a reviewed source: an amount in euros, a bank account.
_AMOUNT = re.compile(r"(?<![\d,.])\d{1,3}(?:[ \u00a0\u202f.]\d{3})*(?:,\d+)?\s?(?:€|euros?\b)", re.IGNORECASE)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}\b")
_EMAIL = CONTACT_PATTERNS["email"]
# A web address: its host (« www.clefdespetits-inscription.com », « http://clef.viabloga.com/ »).
_WEB_HOST = re.compile(
    r"(?:https?://|\bwww\.)?\b((?:[a-z0-9-]+\.)+(?:fr|com|org|net|eu|info|gouv\.fr|io))\b", re.IGNORECASE
)
# A web address as written for people to follow (a scheme or « www. »).
_WEB_ADDRESS = re.compile(r"(?:\bhttps?://|\bwww\.)[^\s<>\]\)]+", re.IGNORECASE)


def has_web_address(text: str) -> bool:
    """Whether a text gives a web address (« http://clef.viabloga.com/ », « www.… »); a name that only looks
    like one (the Loire fiche « ADOS.COM ») is not."""
    return bool(_WEB_ADDRESS.search(text))


def dated_detail(text: str) -> bool:
    """Whether a text holds a detail that goes out of date: a phone, e-mail, address, hours or web site."""
    return has_contact(text) or has_web_address(text)


def _hosts(text: str) -> set[str]:
    """The web hosts a text names, e-mail domains aside (« contact@urgence.org » is not a site)."""
    return {h.lower().removeprefix("www.") for h in _WEB_HOST.findall(_EMAIL.sub(" ", text))}


def _amount_key(value: str) -> str:
    return re.sub(r"[^\d,]", "", value)


class SourceContacts:
    """The phone numbers, e-mails, postal addresses, amounts, bank accounts and web addresses of the reviewed
    sources: all that an answer of Repère can give."""

    def __init__(self, texts: Iterable[str]) -> None:
        texts = list(texts)
        found = [contact for text in texts for contact in contacts(text)]
        self.phones = frozenset(digits(v) for kind, v in found if kind == "phone")
        self.emails = frozenset(fold(v) for kind, v in found if kind == "email")
        self.amounts = frozenset(_amount_key(m.group(0)) for text in texts for m in _AMOUNT.finditer(text))
        self.ibans = frozenset(re.sub(r"\s", "", m.group(0)) for text in texts for m in _IBAN.finditer(text))
        self.hosts = frozenset(host for text in texts for host in _hosts(text))
        self._folded = " ".join(" ".join(fold(text).split()) for text in texts)

    def forged(self, history: Sequence[Turn]) -> bool:
        """Whether an earlier « assistant » turn gives a phone number, an e-mail, a postal address, an amount,
        a bank account or a web address that no reviewed source holds: Repère never wrote it, so the conversation was
        forged to have it repeated or built on."""
        for turn in history:
            if turn.role != "assistant":
                continue
            for kind, value in contacts(turn.text):
                if (
                    (kind == "phone" and digits(value) not in self.phones)
                    or (kind == "email" and fold(value) not in self.emails)
                    or (kind == "address" and " ".join(fold(value).split()) not in self._folded)
                ):
                    return True
            if any(_amount_key(m.group(0)) not in self.amounts for m in _AMOUNT.finditer(turn.text)):
                return True
            if any(re.sub(r"\s", "", m.group(0)) not in self.ibans for m in _IBAN.finditer(turn.text)):
                return True
            if _hosts(turn.text) - self.hosts:
                return True
        return False


def is_verified(kind: str, value: str, sources: Sequence[str]) -> bool:
    """Whether a contact detail occurs in one of the source texts (digits compared for phones)."""
    if kind == "phone":
        wanted = digits(value)
        return any(wanted in digits(source) for source in sources)
    needle = " ".join(fold(value).split())
    return any(needle in " ".join(fold(source).split()) for source in sources)


def unverified_contacts(text: str, sources: Sequence[str]) -> list[str]:
    return [value for kind, value in contacts(text) if not is_verified(kind, value, sources)]


def strip_unverified_contacts(text: str, sources: Sequence[str]) -> str:
    """Remove contact details that no cited passage contains (never invent a contact)."""
    for value in unverified_contacts(text, sources):
        text = text.replace(value, "[coordonnée retirée : absente des sources]")
    return text
