"""A section read whole (pure): its overlapping passages merged back into one text, cut into whole
sentences and list items, each with its field and the passages that hold it; and the fields a card
shows (status, pilot, public, contacts).

Chunks overlap (the splitter repeats the end of a chunk at the start of the next), so sentences cut at a
chunk border are whole here, and no piece of a sentence is quoted twice."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.citations import CONTACT_PATTERNS, has_contact
from corpus.clean import fold, join_hyphenated, normalise
from retrieval.retrieve import Passage

MIN_OVERLAP = 10  # characters a chunk must repeat from the one before to count as an overlap
MAX_UNIT_CHARS = 320
SHORT_ITEM_WORDS = 4  # a bullet of at most this many words joins the list before it (partners: "CAF", "MSA"…)
LIST_ITEM_WORDS = 8  # a bullet without a sentence end, at most this long, continues a lead-in ending with « : »
# A numbered heading alone on its line (« Orientation stratégique n° 2 ») over the title it numbers: the
# cleaned page has no blank line between one orientation and the next, so a boundary goes before each heading
# (`_BOUNDARY`'s last branch), and the heading is said with its title (« Orientation stratégique n° 2 – Coordonner… »).
_HEADING_NUMBER = r"[A-ZÀ-Ý][\w'’ ]{0,40}\s[nN]°\s?\d{1,2}"
# Sentence ends before a capital, a bullet line, a numbered item (« 13. Faciliter… », whose number would
# otherwise end the item before it, and stays with its item), a line numbered as an outline (« 2-1-2 – Poursuivre
# le soutien… », an action of a schéma's plan) and the heading line over it (« Actions »; not the end of a list
# broken after a comma, « DDCS,\nÉtat »), a « Label : » line, or a blank line (a new field).
_BOUNDARY = re.compile(
    r"\n\s*\n|(?<!^\d\.)(?<!^\d\d\.)(?<=[.!?;])\s+(?=[A-ZÀ-Ý«\-•])|\n(?=\s*[-•])|\n(?=\s*\d{1,2}[.)]\s+[A-ZÀ-Ý])"
    r"|\n(?=\s*\d{1,2}(?:-\d{1,2})+\s)|(?<!,)\n(?=[A-ZÀ-Ý][\w'’ ]{0,40}\n\s*\d{1,2}(?:-\d{1,2})+\s)"
    r"|\n(?=[A-ZÀ-Ý][^\n]{0,60} :( |\s*$))"
    rf"|\n(?={_HEADING_NUMBER}\s*:?\s*\n)",
    re.MULTILINE,
)
_NUMBERED_HEAD = re.compile(rf"^(\s*{_HEADING_NUMBER})\s*:?\s*\n(?=\s*[A-ZÀ-Ý«])")
_LABEL = re.compile(r"^([A-ZÀ-Ýa-zà-ÿ'’][^:\n]{0,68}?)\s:\s?")
# A questionnaire's numbered question as a field label (the SFSP fiche: « 7) Quels sont les sujets … abordez
# au cours de l'action ? : Les thématiques… »): the question is the field, what follows its answer.
_FORM_LABEL = re.compile(r"^(\d{1,2}\)\s[^:\n]{3,300}?\?)\s:\s?")
_FORM_NUMBER = re.compile(r"^\d{1,2}\)\s+")
_BULLET = re.compile(r"^\s*(?:[-•–]\s*)+")
# A line of names only (« La Clef » et « La Clef des Alpes ») over the sentence it introduces: what follows is
# said of them (« « La Clef » et « La Clef des Alpes » : Le service d'accueil de jour est ouvert… »).
_NAMES_ONLY = re.compile(r"^«[^»«]{1,60}»(?:\s*(?:et|,)?\s*«[^»«]{1,60}»)*$")
_NAMES_LINE = re.compile(
    r"^((?:[^\n:«]{1,70} : )?\s*«[^»«\n]{1,60}[»«](?:\s*(?:et|,)?\s*«[^»«\n]{1,60}[»«])*)\s*\n(?=\s*[A-ZÀ-Ý])"
)
STATUS_LABELS = ("suivi",)
_folded_label = lru_cache(maxsize=4096)(fold)  # field labels come from the corpus: few, read for every answer
MANAGER_LABELS = ("gerant", "gestionnaire")  # the body that runs the action, not whom families contact
# The fields that say whom to contact or when to come (as compose.FIELD_GROUPS' « contact » group, and « coordonnées »).
CONTACT_LABELS = ("contact", "coordonnees", "amplitude", "ouverture", "horaire", "adresse")


@dataclass(frozen=True, slots=True)
class FicheUnit:
    text: str  # a whole sentence or list item, whitespace folded, bullet removed
    field: str  # the field label it belongs to ("Pilotage", "Contenu et objectifs de l'action", "")
    passages: tuple[Passage, ...]  # the passages that hold it (two when it runs over a chunk border)
    order: int  # position in the section
    item: bool  # a list item (it was a bullet)

    @property
    def passage(self) -> Passage:
        return self.passages[0]


@dataclass(frozen=True, slots=True)
class Fiche:
    section_id: str
    units: tuple[FicheUnit, ...]
    passages: tuple[Passage, ...]  # in document order

    def field_units(self, *keys: str) -> list[FicheUnit]:
        """Units of the fields whose folded label contains one of `keys`."""
        return [u for u in self.units if any(k in _folded_label(u.field) for k in keys)]

    @property
    def status(self) -> str:
        """The action's follow-up as the source states it (« Action terminée »), or ""."""
        for unit in self.field_units(*STATUS_LABELS):
            value = value_of(unit.text)
            if value and not fold(value).startswith("suivi"):
                return value.rstrip(" .")
        return ""

    def antecedent(self, order: int) -> FicheUnit | None:
        """The sentence before the unit at `order` when that unit points back to it (« Cet accueil provisoire… »
        after « « La Clef des Petits » : Il s'agit d'un accueil… »), if both are short enough to be said together."""
        at = next((i for i, u in enumerate(self.units) if u.order == order), 0)
        if at == 0 or not points_back(self.units[at].text):
            return None
        before = self.units[at - 1]
        words = len(before.text.split()) + len(self.units[at].text.split())
        # a sentence before that points back too resolves nothing (« Il est garant… Il est chargé… »)
        return None if points_back(before.text) or words > ANTECEDENT_WORDS else before

    def service_of(self, order: int) -> str:
        """The head of the paragraph on one service that the unit at `order` is part of (« « La Clef des Petits »
        : Il s'agit d'un accueil… », then « Cet accueil provisoire est pour une durée de 3 mois… »): the nearest
        unit of its field, itself included, that opens with names in guillemets and a colon; "" when none, or
        when the unit names services itself."""
        at = next((i for i, u in enumerate(self.units) if u.order == order), None)
        if at is None or "«" in self.units[at].text:
            return ""
        field = self.units[at].field
        for unit in reversed(self.units[:at]):
            if unit.field != field:
                return ""
            if head := _SERVICE_HEAD.match(unit.text):
                return head.group(1)
        return ""

    def contacts(self, limit: int = 3, question: str = "") -> list[FicheUnit]:
        """Units with a phone, e-mail, address or opening hours, in document order, those of the service the
        question names first (« la clef des petits c'est ouvert quand ? »), without those of its siblings (the
        same association's service in another town, « La Clef des Alpes »). The managing body's address
        (« Service gérant l'action ») is left out when the fiche names whom to contact, unless the question
        names that body (« l'adresse de l'association »)."""
        asked = self.services_asked(question)
        found = [u for u in self.units if has_contact(u.text) and not another_service(u.text, asked)]
        if any(_in_contact_field(u) for u in found):
            words = set(asked_form(question).split())
            found = [u for u in found if not _manager(u) or words & _long_words(u.text)]
        return sorted(found, key=lambda u: not asked & _names(u.text))[:limit]

    def services_asked(self, question: str) -> set[str]:
        """The services of the fiche's contact lines (their names in guillemets, normalised) that the question
        names; « la clef » inside « la clef des petits » is not asked on its own."""
        asked = asked_form(question)
        named = ((u, {n for n in _names(u.text) if f" {n} " in asked}) for u in self.units if "«" in u.text)
        names = {n for u, found in named if found and has_contact(u.text) for n in found}
        return {
            n
            for n in names
            if asked.count(f" {n} ") > sum(asked.count(f" {m} ") for m in names if m != n and f" {n} " in f" {m} ")
        }


def _in_contact_field(unit: FicheUnit) -> bool:
    return any(k in _folded_label(unit.field) for k in CONTACT_LABELS)


def _manager(unit: FicheUnit) -> bool:
    return any(k in _folded_label(unit.field) for k in MANAGER_LABELS)


def _long_words(text: str) -> set[str]:
    """The words of five letters or more of a text, folded (« association », « providence »)."""
    return {w for w in asked_form(text).split() if len(w) >= 5}


ANAPHORA_FILE = Path(__file__).resolve().parent / "data" / "anaphora.toml"
ANTECEDENT_WORDS = 60  # a pointing sentence is said after the one before it when both hold no more words


@lru_cache(maxsize=1)
def _anaphora() -> tuple[re.Pattern[str], re.Pattern[str]]:
    data = tomllib.loads(ANAPHORA_FILE.read_text(encoding="utf-8"))
    return (
        re.compile("|".join(f"(?:{p})" for p in data["patterns"])),
        re.compile("|".join(f"(?:{p})" for p in data["impersonal"])),
    )


def points_back(text: str) -> bool:
    """A sentence that opens by pointing to the one before it (« Cet accueil… », « Ils sont… »; data/anaphora.toml)."""
    opening, impersonal = _anaphora()
    return bool(opening.match(text)) and not impersonal.match(text)


def value_of(text: str) -> str:
    """What follows a « Label : » (the whole text when there is no label)."""
    match = _LABEL.match(text) or _FORM_LABEL.match(text)
    return _BULLET.sub("", text[match.end() :]).strip() if match else text.strip()


def label_of(text: str) -> str:
    """A « Label : » head, or a questionnaire's numbered question (« 11) Quelle est la fréquence… ? : »)."""
    match = _LABEL.match(text) or _FORM_LABEL.match(text)
    return match.group(1).strip() if match else ""


def form_question(label: str) -> str:
    """A questionnaire's numbered question without its number (« Quelle est la fréquence de l'action ? »),
    or "" for any other label."""
    return _FORM_NUMBER.sub("", label) if _FORM_LABEL.match(f"{label} : ") else ""


def merge(passages: list[Passage]) -> tuple[str, list[tuple[int, int, Passage]]]:
    """The section's text with the overlaps removed, and where each passage lies in it (start, end)."""
    text = ""
    spans: list[tuple[int, int, Passage]] = []
    for passage in passages:
        overlap = _overlap(text, passage.text)
        start = len(text) - overlap
        if overlap:
            text += passage.text[overlap:]
        else:
            text = f"{text}\n\n{passage.text}" if text else passage.text
            start = len(text) - len(passage.text)
        spans.append((start, len(text), passage))
    return text, spans


def _overlap(before: str, after: str) -> int:
    for k in range(min(len(before), len(after), 600), MIN_OVERLAP - 1, -1):
        if before.endswith(after[:k]):
            return k
    return 0


def read_fiche(section_id: str, passages: list[Passage], glossary: bool = False) -> Fiche:
    """The section as whole units with their fields (a glossary: one unit per line)."""
    text, spans = merge(passages)
    pieces = _lines(text) if glossary else _pieces(text)
    units: list[FicheUnit] = []
    field = passages[0].field if passages else ""
    listing = False
    names, names_start = "", 0  # a line of names only, waiting for the unit it introduces
    for start, end in pieces:
        raw = timetable_lines(text[start:end])
        bullet = bool(_BULLET.match(raw))
        unit = " ".join(_BULLET.sub("", _named(join_hyphenated(raw))).split())
        if not unit:
            continue
        if units and not bullet and _CUT_OFF.search(units[-1].text):
            # « … a augmenté de 16.4% entre 2014 et 2018 en » / « Isère. »: a sentence that stopped on « en »,
            # « de », « le »… goes on in the next piece, whatever its case (« Département, à savoir : … » is no
            # label there)
            whole = [p for s, e, p in spans if s <= start and end <= e]
            last = units[-1]
            inside = tuple(whole[:1]) or tuple(p for s, e, p in spans if s < end and start < e)
            units[-1] = FicheUnit(
                f"{last.text} {unit}", last.field, union(last.passages, inside), last.order, last.item
            )
            continue
        label = label_of(unit)
        if label:  # « Objectifs : - Accompagner » -> « Objectifs : Accompagner »
            value = value_of(unit)
            unit = f"{unit[: len(label)]} : {value}" if value else f"{unit[: len(label)]} :"
        if label and not bullet and not glossary:
            field = label  # a « Label : » paragraph opens a field; « Bilan : 2023 » in a list does not
        if names and not bullet:  # « La Clef des Petits » over « Heures d'ouverture … : Lundi… »: said of it
            unit, start = f"{names} : {unit}", names_start
        names, names_start = "", start
        if _NAMES_ONLY.match(unit) and not bullet and not glossary:
            names, names_start = unit, start  # joins the unit under it
            continue
        # the passage that holds the whole sentence (chunks overlap), else every passage it runs over
        whole = [p for s, e, p in spans if s <= start and end <= e]
        inside = tuple(whole[:1]) or tuple(p for s, e, p in spans if s < end and start < e)
        if not bullet and not label and _goes_on(unit) and units and not units[-1].text.endswith((".", "!", "?")):
            last = units[-1]  # a sentence broken by a page break or a column: one unit again
            units[-1] = FicheUnit(
                f"{last.text} {unit}", last.field, union(last.passages, inside), last.order, last.item
            )
            continue
        item = short_item(unit)
        if bullet and item and listing and units and len(units[-1].text) + len(unit) < MAX_UNIT_CHARS:
            last = units[-1]
            # items the source ends with a comma (« o Collège Pont en Royans, ») are not given a second one
            joined = f"{last.text} {unit}" if last.text.endswith((":", ",")) else f"{last.text}, {unit}"
            units[-1] = FicheUnit(joined, last.field, union(last.passages, inside), last.order, True)
            continue
        units.append(FicheUnit(unit, field, inside or tuple(passages[:1]), len(units), bullet))
        rest = value_of(unit) if label else ""
        listing = item or (bool(rest) and short_item(rest))
    return Fiche(section_id, _whole_items(_lead_ins_with_items(_with_their_lists(units))), tuple(passages))


# A sentence that stops on a word no sentence ends with (in lower case: « EN » is the Éducation nationale),
# without a full stop: the text extraction broke it there. A list item ends « ; et ».
CUT_WORDS = r"(?<![;,])\s(?:de|du|des|la|le|les|à|au|aux|et|ou|pour|par|en|sur|dans|d[’']|l[’'])"
_CUT_OFF = re.compile(rf"{CUT_WORDS}$")


def _named(raw: str) -> str:
    """A line of names over the sentence it introduces, or a numbered heading over its title, joined to it."""
    return _NUMBERED_HEAD.sub(r"\1 – ", _NAMES_LINE.sub(r"\1 : ", raw))


def _whole_items(units: tuple[FicheUnit, ...]) -> tuple[FicheUnit, ...]:
    """A list item that no lead-in took and that is a whole sentence of its own, though it starts in lower case
    (« - repas partagé chacun apporte un salé et un sucré (participation de 5€ des familles). »), is said with a
    capital: it is a whole item, not the rest of a sentence."""
    return tuple(
        FicheUnit(u.text[:1].upper() + u.text[1:], u.field, u.passages, u.order, u.item) if _whole_item(u) else u
        for u in units
    )


def _whole_item(unit: FicheUnit) -> bool:
    text = unit.text
    return unit.item and text[:1].islower() and text.endswith((".", "!", "?")) and len(text.split()) >= WHOLE_ITEM_WORDS


WHOLE_ITEM_WORDS = 5


def _with_their_lists(units: list[FicheUnit]) -> tuple[FicheUnit, ...]:
    """A lead-in ending with « : » takes the items that follow it when they continue its sentence (they
    start in lower case, or are names and short phrases): « Le lieu est : un lieu de parole ; un lieu
    d'apprentissage. » and « … en 3 lieux : Le FIL à Saint-Etienne ; Le Grand Marais à Riorges ; … » are
    one unit each."""
    out: list[FicheUnit] = []
    open_list = False  # the last unit is a lead-in (or a lead-in with items) that more items may join
    for unit in units:
        last = out[-1] if out else None
        if last is not None and open_list and unit.item and (unit.text[:1].islower() or list_item(unit.text)):
            piece = unit.text.rstrip(" ,;.")
            text = f"{last.text} {piece}" if last.text.endswith(":") else f"{last.text} ; {piece}"
            if len(text) <= 2 * MAX_UNIT_CHARS:
                out[-1] = FicheUnit(text, last.field, union(last.passages, unit.passages), last.order, last.item)
                continue
        if last is not None and open_list and not last.text.endswith(":"):
            out[-1] = _closed(last)
        out.append(FicheUnit(unit.text, unit.field, unit.passages, len(out), unit.item))
        open_list = unit.text.endswith(":")
    if out and open_list is False and out[-1].text[-1:].isalnum() and out[-1].text.count(" ; "):
        out[-1] = _closed(out[-1])
    return tuple(out)


LEAD_IN_WORDS = 5  # a lead-in that says something of its own (not a bare « Objectifs : »)
# The last word of a lead-in that is all label and still a clause whose list completes it (« Animé par la Caf,
# il a pour rôle de : », « Mobiliser le comité d'usagers pour : »); a bare heading ends with a noun.
_OPEN_CLAUSE = re.compile(
    r"\b(?:de|d'|d’|du|des|pour|à|au|aux|sur|par|que|qu'|qu’|comme|notamment|avec|dans|en|suivants?|suivantes?)$"
)


def _says_something(text: str) -> bool:
    """A lead-in ending with « : » that says something of its own, so its list completes a sentence."""
    value = value_of(text)
    if label_of(text) and not value:  # all label: a clause (« il a pour rôle de ») or a bare heading
        return len(text.split()) >= LEAD_IN_WORDS and bool(_OPEN_CLAUSE.search(text[:-1].rstrip()))
    return len(value.split()) >= LEAD_IN_WORDS


def _lead_ins_with_items(units: tuple[FicheUnit, ...]) -> tuple[FicheUnit, ...]:
    """A lead-in that says something (« Permettre aux jeunes de réfléchir autour de 5 thèmes : ») whose items
    did not join it (they start with a capital and are longer than a name) takes them when together they are
    no longer than a sentence may be: alone, the lead-in stops in the middle of what it says and is never quoted.
    When all of them are too long, it takes the first ones that fit and « … » says the list goes on; the others
    stay units of their own (« Animé par la Caf, il a pour rôle de : Favoriser… ; Identifier… ; … »)."""
    out: list[FicheUnit] = []
    i = 0
    while i < len(units):
        unit, end = units[i], i + 1
        if unit.text.endswith(":") and _says_something(unit.text):
            while end < len(units) and units[end].item and units[end].field == unit.field:
                end += 1
        taken = end
        while taken > i + 1 and len(_with_items(unit, units[i + 1 : taken], taken < end)) > MAX_UNIT_CHARS:
            taken -= 1
        items = units[i + 1 : taken]
        if items:
            passages = unit.passages
            for item in items:
                passages = union(passages, item.passages)
            out.append(FicheUnit(_with_items(unit, items, taken < end), unit.field, passages, len(out), unit.item))
            i = taken
        else:
            out.append(FicheUnit(unit.text, unit.field, unit.passages, len(out), unit.item))
            i += 1
    return tuple(out)


def _with_items(lead_in: FicheUnit, items: Sequence[FicheUnit], more: bool) -> str:
    """A lead-in said with its items, « ; » between them; « ; … » when `more` items follow that it leaves out."""
    joined = " ; ".join(without_list_and(u.text).rstrip(" ,;.") for u in items)
    return f"{lead_in.text} {joined} ; …" if more else f"{lead_in.text} {joined}."


_LIST_AND = re.compile(r"\s*[;,]\s*(?:et|ou)$")


def without_list_and(text: str) -> str:
    """An item the source ends « ; et » (the list's next item followed) without it: « … « l'État » »."""
    return _LIST_AND.sub("", text)


def _closed(unit: FicheUnit) -> FicheUnit:
    """A lead-in with its items ends with a full stop."""
    if unit.text.endswith((".", "!", "?")):
        return unit
    return FicheUnit(unit.text + ".", unit.field, unit.passages, unit.order, unit.item)


def union(a: tuple[Passage, ...], b: tuple[Passage, ...]) -> tuple[Passage, ...]:
    """The passages of a, then those of b not in a."""
    return a + tuple(p for p in b if p not in a)


_QUOTED = re.compile(r"«\s*([^»«]{2,60}?)\s*[»«]")
# A paragraph on one or two services opens with their names and a colon, after its field's label if it is the
# field's first sentence (« Description de l'action effective : « La Clef » et « La Clef des Alpes » : Lors… »).
_SERVICE_HEAD = re.compile(r"^(?:[^«:]{0,80}:\s*)?((?:«[^»«]{2,60}[»«]\s*(?:et\s+|,\s*)?)+):")


def _names(text: str) -> set[str]:
    """The names in guillemets of a text, normalised (« La Clef des Petits » -> « la clef des petits »)."""
    return {n for n in map(normalise, _QUOTED.findall(text)) if n}


def another_service(text: str, asked: set[str]) -> bool:
    """A contact line of a sibling of the services asked (`Fiche.services_asked`): every name it gives shares
    its first two words with a service asked and is none of them (« La Clef des Alpes » under « l'adresse de
    la clef des petits ? »). The association's own line (« la Providence ») and, for « la clef », the services
    whose names extend it are not siblings."""
    names = _names(text) if asked and "«" in text else set()
    if not names or names & asked or not has_contact(text):
        return False
    return all(any(_sibling(n, a) for a in asked) for n in names)


def of_siblings_only(text: str, asked: set[str]) -> bool:
    """A sentence that names, in guillemets, only siblings of the services asked (`Fiche.services_asked`):
    names that share their first two words with a service asked and are none of them (« « La Clef des
    Petits » accueille 4 situations… » when the question asks about « La Clef »). It speaks of another
    service."""
    names = _names(text) if asked and "«" in text else set()
    return bool(names) and not names & asked and all(any(n.split()[:2] == a.split()[:2] for a in asked) for n in names)


def _sibling(name: str, asked: str) -> bool:
    """« la clef des alpes » beside « la clef des petits »: same first two words, and not the name asked or
    one that extends it."""
    return name.split()[:2] == asked.split()[:2] and not name.startswith(asked)


def asked_form(question: str) -> str:
    """The question as names are looked for in it: normalised, between spaces."""
    return f" {normalise(question)} "


def names_asked(text: str, asked: str) -> int:
    """Length of the longest name in guillemets of `text` that the question (`asked_form`) names (« La Clef
    des Petits » in « la clef des petits c'est ouvert quand ? »), 0 if none: of a fiche's several services,
    the one asked."""
    return max((len(n) for n in _names(text) if f" {n} " in asked), default=0)


def glossary_term(line: str) -> str:
    """The term a glossary line defines: its first word (« AEMO », « AEMO : »), folded."""
    return fold(line.split(" ", 1)[0]).strip(" :")


def list_item(text: str) -> bool:
    """« Le Grand Marais à Riorges »: a name or a short phrase in a list, not a sentence of its own."""
    return len(text.split()) <= LIST_ITEM_WORDS and not text.rstrip().endswith((".", "!", "?", ";"))


def short_item(text: str) -> bool:
    return len(text.split()) <= SHORT_ITEM_WORDS and not text.rstrip().endswith((".", "!", "?", ";"))


def _goes_on(unit: str) -> bool:
    """A piece that carries on the sentence before it: it opens in lower case, or with an aside that does
    (« … moteur » / « (habileté, mobilité…) et socio affectif… »)."""
    return unit[:1].islower() or (unit[:1] == "(" and unit[1:2].islower())


def _lines(text: str) -> list[tuple[int, int]]:
    out, start = [], 0
    for line in text.split("\n"):
        out.append((start, start + len(line)))
        start += len(line) + 1
    return out


def _pieces(text: str) -> list[tuple[int, int]]:
    """(start, end) of the sentences and items of a text; run-on table text (no sentence end) is cut
    at line breaks into pieces of about MAX_UNIT_CHARS."""
    out: list[tuple[int, int]] = []
    start = 0
    for match in [*_BOUNDARY.finditer(text), None]:
        end = match.start() if match else len(text)
        for a, b in _item_and_sentence(text, start, end):
            for c, d in _after_item(text, a, b):
                out.extend(_cut(text, c, d))
        if match:
            start = match.end()  # every boundary is whitespace
    return _timetables(text, _address_blocks(text, out))


# A list item of a few words on its line, whose last word is in lower case (and not one no sentence ends with),
# then a line that starts with a capital: the item is over (« - Démarches administratives » / « Mise en place
# en 2015 de groupe de paroles… »); the page lost the blank line between them.
_ITEM_THEN_LINE = re.compile(r"^(\s*[-•][^\n]{0,80}(?<![\w’'-])[a-zà-ÿ][\w’'-]*)[ \t]*\n(?=[A-ZÀ-Ý])")


def _after_item(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A piece that is a list item then another paragraph, as two pieces."""
    match = _ITEM_THEN_LINE.match(text[start:end])
    if not match or re.search(f"{CUT_WORDS}$", match.group(1)):
        return [(start, end)]
    cut = start + match.end(1)
    return [(start, cut), (start + match.end(), end)]


# A line of a timetable starts with a weekday (« Lundi et jeudi de 9h à 12h 30 », « Samedi : si nécessité »).
_WEEKDAY = re.compile(
    r"^\s*(?:(?:du|le|les)\s+)?(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)s?\b", re.IGNORECASE
)


def _timetables(text: str, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A timetable as one piece: a piece that starts with a weekday joins the piece before it when that
    one's last line starts with a weekday too (« Lundi entre 12h et 14h permanence téléphonique. »,
    « Mardi et Vendredi de 9h à 13h. » and « Mercredi : si nécessité » are the hours of one service)."""
    out: list[tuple[int, int]] = []
    for start, end in pieces:
        last_line = text[out[-1][0] : out[-1][1]].rsplit("\n", 1)[-1] if out else ""
        if _WEEKDAY.match(text[start:end]) and _WEEKDAY.match(last_line):
            out[-1] = (out[-1][0], end)
            continue
        out.append((start, end))
    return out


def timetable_lines(raw: str) -> str:
    """A timetable's lines, one after the other, with « ; » between them where the source only broke the
    line (« … 16 h 30 ; Lundi entre 12h et 14h permanence téléphonique. Mardi… »); any other text as it is."""
    lines = [line.strip() for line in raw.split("\n") if line.strip()]
    if sum(1 for line in lines if _WEEKDAY.match(line)) < 2:
        return raw
    text = lines[0]
    for line in lines[1:]:
        text = f"{text} {line}" if text.endswith((":", ".", ";", "!", "?")) else f"{text} ; {line}"
    return text


# A contact block of the sources: a service's name over its street, its town, then « Tél. : … » and « Email : … »
# lines. The cleaned page has no blank line between two services' blocks.
_TOWN = re.compile(r"^\s*\d{5}\s+[A-ZÀ-Ý]")
_CONTACT_LABEL = re.compile(r"^\s*(t[ée]l[ée]?(phone)?\.?|fax|e-?mail|courriel|site( internet)?)\s*:", re.IGNORECASE)


def _address_blocks(text: str, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Each service's contact block as one piece: after a block's town, phone or email line, a line over a
    street line (the next service's name) starts another, and a block's phone and email lines stay with
    it, not with the next service's name (« Tél. : 04.74.33.37.18 Email : … Accueil de jour « La Clef des
    Alpes » 42, avenue des Alpes » gave La Clef's number under La Clef des Alpes' name)."""
    street = CONTACT_PATTERNS["address"]  # « 42, avenue des Alpes » starting a line
    cut: list[tuple[int, int]] = []
    for start, end in pieces:
        lines = _lines(text[start:end])
        begin = start
        for i in range(1, len(lines) - 1):
            before, line, following = (text[start + a : start + b] for a, b in lines[i - 1 : i + 2])
            ended = _TOWN.match(before) or _CONTACT_LABEL.match(before)
            starts_street = street.match(following.strip()) and not street.match(line.strip())
            if ended and starts_street and not (_TOWN.match(line) or ":" in line):
                cut.append((begin, start + lines[i][0] - 1))
                begin = start + lines[i][0]
        cut.append((begin, end))
    out: list[tuple[int, int]] = []
    for start, end in cut:
        if out and _CONTACT_LABEL.match(text[start:end]):
            last = text[out[-1][0] : out[-1][1]].rstrip().rsplit("\n", 1)[-1]
            if _TOWN.match(last) or street.match(last.strip()):
                out[-1] = (out[-1][0], end)  # the phone of the address above
                continue
        out.append((start, end))
    return out


def _item_and_sentence(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A list's last item and the sentence on the next line, which no blank line separates once the
    page is cleaned (« - Le théâtre des Pénitents à Montbrison\nEn amont, des réunions… candidats. »):
    two pieces. A bullet whose first line is a short item without a sentence end and whose next line
    starts a capitalised sentence that ends is not one sentence broken over two lines."""
    piece = text[start:end]
    first, newline, rest = piece.partition("\n")
    if (
        newline
        and _BULLET.match(first)
        and list_item(_BULLET.sub("", first).strip())
        and not first.rstrip().endswith((",", ":", "-", "–"))
        and rest.strip()[:1].isupper()
        and rest.rstrip().endswith((".", "!", "?"))
    ):
        return [(start, start + len(first)), (start + len(first) + 1, end)]
    return [(start, end)]


def _cut(text: str, start: int, end: int) -> list[tuple[int, int]]:
    if end - start <= MAX_UNIT_CHARS:
        return [(start, end)]
    pieces, current = [], start
    position = start
    for line in text[start:end].split("\n"):
        line_end = position + len(line)
        if line_end - current > MAX_UNIT_CHARS and position > current:
            pieces.append((current, position - 1))
            current = position
        position = line_end + 1
    pieces.append((current, end))
    return pieces
