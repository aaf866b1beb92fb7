"""Grounded extractive composer (pure): retrieved sections -> the sentences that answer the question,
grouped per section, each tied to the numbered passage it comes from. No word is generated.

Every sentence (unit) of the best sections is a candidate with a few general features (question
words in the unit, rank of its section and passage, its field, whether the question asks for a
number, a date or a person and the unit has one…); a model over them (`Selection`: gradient-boosted
trees ranking the sentences of a question, or logistic weights) gives each the probability that it
holds what was asked; the best units are kept within the audience's word budget, without
near-duplicates (`assistant/shape.py`). The models are fitted on the eval sets by
`python -m evals.tune_answers` (2-fold cross-validated) and stored in `assistant/selection.json`."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.citations import CONTACT_PATTERNS, has_contact
from assistant.fiche import (
    CUT_WORDS,
    MAX_UNIT_CHARS,
    Fiche,
    form_question,
    glossary_term,
    label_of,
    short_item,
    without_list_and,
)
from assistant.understand import asking_form
from corpus.clean import fold
from prompts.render import Profile
from retrieval.analyze import Analyzer, Query
from retrieval.retrieve import Passage, SectionHit

if TYPE_CHECKING:
    import lightgbm

_UNIT_SPLIT = re.compile(r"(?<=[.!?;])\s+(?=[A-ZÀ-Ý«\-])|\n(?=- )|\n(?=[A-ZÀ-Ý][^\n]{0,60} : )")
SELECTION_FILE = Path(__file__).resolve().parent / "selection.json"


@dataclass(frozen=True, slots=True)
class Unit:
    text: str  # as shown
    passages: tuple[Passage, ...]  # the passages that hold it
    field: str
    score: float
    order: int
    item: bool = False  # a list item of the fiche (it was a bullet)

    @property
    def passage(self) -> Passage:
        return self.passages[0]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A unit of one of the best sections, with the features the selection model scores."""

    unit: Unit
    section: int  # rank of its section in the answer
    features: tuple[float, ...]


# A questionnaire's answer that is a sentence of at least this many words is shown alone; a shorter one, or
# options ticked, with its question (« Quelle est la fréquence de l'action ? Toute l'année »).
FORM_ANSWER_WORDS = 8
# Fields already shown in a section's heading line, or bookkeeping: not worth a sentence of their own.
HEADER_FIELDS = frozenset({"Territoire", "Public visé", "Type d'action", "Suivi", "Services départementaux"})

# Field labels of the sources, grouped by what they hold (matched on the folded label; the SFSP
# questionnaire's questions too: « 15) Quel est le nombre de bénéficiaires… ? » is the public).
FIELD_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("contact", ("contact", "amplitude", "ouverture", "adresse")),
    ("public", ("public", "echelle", "beneficiaire")),
    ("pilot", ("pilot", "porte", "gerant", "initiative")),
    ("partners", ("partenaire", "acteurs", "professionnels particip", "implication")),
    ("calendar", ("calendrier", "date", "etapes", "chronolog", "frequence")),
    ("modalities", ("modalit", "mise en oeuvre", "activites", "deroulement", "regulation")),
    ("objectives", ("objectif", "contenu", "description", "intitule", "critere", "sujets")),
    ("evaluation", ("evaluation", "indicateur", "regard", "effet", "frein", "facteur", "transfer")),
    ("resources", ("ressource", "moyens", "financ")),
    ("legal", ("juridique",)),
)
GROUP_NAMES = tuple(name for name, _ in FIELD_GROUPS) + ("other", "none")
_ASIDE = re.compile(r"\([^)]*\)")

_ASKS_QUANTITY = re.compile(
    r"\b(combien|nombre|duree|dure|budget|cout|coute|prix|payer|paye|tarif|frequence|souvent|"
    r"age|ages|mois|ans|heures?|jours?|fois)\b"
)
_ASKS_TIME = re.compile(r"\b(quand|date|dates|calendrier|depuis|demarre|debut|commence|delai|delais|annee|echeance)\b")
_ASKS_WHO = re.compile(r"\b(qui|pilote|pilotes|pilotage|partenaires?|acteurs?|compose|porte|coordonne|referent)\b")
# Everyday ways of asking how long, who pays, where, when it is open, how to get in, how to reach someone.
_ASKS_DURATION = re.compile(
    r"\b(dure|durent|duree|longtemps|combien de temps|jusqu a quand|jusqu a quel|maximum|minimum|renouvel\w*)\b"
)
_ASKS_COST = re.compile(
    r"\b(paye|payent|paie|paient|payer|coute|coutent|cout|prix|gratuit|financ\w*|rembours\w*|tarifs?)\b"
)
# "ou" folded is both "où" and "or": only in the phrasings where it asks where.
_ASKS_PLACE = re.compile(
    r"\b(est ou|c ou|(se passe|se passent|se trouve|se situe) ou|ou ca|ou se|ou aller|ou est|ou sont|ou trouver|"
    r"ou s adresser|adresse|lieu|lieux|endroit|locaux)\b"
)
# When it is open, and how often it meets (« ça se réunit tous les combien ? »).
_ASKS_OPENING = re.compile(
    r"\b(ouvert|ouverte|ouvre|horaires?|heures?|jours?|permanence|samedi|mercredi|week end|"
    r"(tous|toutes) les combien|frequence|a quel rythme|combien de fois|periodicite)\b"
)
_ASKS_ACCESS = re.compile(
    r"\b(comment|faut il|faut|passer par|inscri\w*|demande|demander|acceder|acces|orient\w*|entrer|rentrer)\b"
)
_ASKS_REACH = re.compile(
    r"\b(appeler|telephone|tel|numero|joindre|contacter|contact|site|internet|mail|email|adresse)\b"
)
# Whom it is for (« c'est pour quel âge ? », « les papas sont acceptés ? ») and how it unfolds (« comment ça
# se déroule ? », « phase par phase », « en quoi consiste… »).
_ASKS_PUBLIC = re.compile(
    r"\b(pour qui|pour quel\w* (age|ages|enfants?|jeunes|public|parents|familles)|quel\w* (age|ages|public)|"
    r"a partir de quel|jusqu a quel age|qui peut|qui peuvent|accept\w*|accueill\w*|admis|reserve\w*|destine\w*|"
    r"concerne\w*|public|seulement|uniquement|tous les parents|for whom|who can)\b"
)
_ASKS_STEPS = re.compile(
    r"\b(deroul\w*|se passe|se passent|s organis\w*|organise\w*|etapes?|phases?|consiste\w*|concretement|"
    r"fonctionne\w*|comment (ca|cela) marche|comment (il|elle|ils|elles) (travaille|travaillent|intervien\w*)|"
    r"how does)\b"
)
_NUMBER = re.compile(r"\d|\b(un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze|quinze|vingt|trente)\b")
_DURATION = re.compile(
    r"\b(\d+|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze|dix huit|vingt|trente)\s+"
    r"(mois|ans?|annees?|semaines?|jours?|heures?|h)\b|\b(duree|exceder|excedant|excede|renouvel\w*|minimum|maximum)\b"
)
_FUNDING = re.compile(
    r"\b(financ\w*|cout\w*|surcout\w*|gratuit\w*|prise en charge|pris en charge|budget\w*|subvention\w*|euros?|"
    r"caf|msa|participation financiere)\b|€"
)
_PLACE = re.compile(
    r"\b(lieu|lieux|locaux|salle|site|centre|maison|siege|domicile|rue|avenue|route|place|boulevard|quartier|commune)\b"
)
_OPENING = re.compile(
    r"\b(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|ouvert\w*|horaires?|permanence\w*|vacances)\b|\d\s?h\b|"
    r"\b(toutes les (\w+ )?(\w+ ou \w+ )?semaines|fois par (semaine|mois|an|trimestre)|chaque (semaine|mois|trimestre)|"
    r"hebdomadaire\w*|mensuel\w*|bimensuel\w*|trimestriel\w*|tous les (quinze jours|mois|trimestres))\b"
)
# A unit that states whom it is for: an age, an age range, a public (« parents d'enfants de 0 à 3 ans »).
_PUBLIC = re.compile(
    r"\b(\d{1,2} (a|et) \d{1,2} ans|\d{1,2} ans|\d{1,2} mois|moins de \d|plus de \d|ages? de|a destination|"
    r"destine\w*|public\w*|ouvert\w* (a|aux)|accueill\w*|reserve\w*|beneficiaires?|concerne\w*|quel(le)? que soit|"
    r"tous les|toutes les|peres?|papas?|meres?|mamans?|femmes? enceintes?|futurs? parents|jeunes majeurs?|mineurs?)\b"
)
# A step of a procedure or a programme: a numbered item, a phase, a first / then.
_STEP = re.compile(
    r"^(\d{1,2}\s?[.)-]|etape|phase|temps|premier|premiere|deuxieme|second|troisieme|puis|ensuite|enfin|apres)\b|"
    r"\b(phase \d|etape \d|seances?|rencontres?|reunions?|entretiens?)\b"
)
# Who does it: a sentence naming the professionals or volunteers who run, lead or go with the action
# (« animé par deux infirmières puéricultrices », « accompagnées par un binôme … »).
_ACTOR = re.compile(
    r"\b(anime\w*|accompagne\w*|encadre\w*|mene\w*|assure\w*|porte\w*|pilote\w*|coordonne\w*|organise\w*|conduit\w*|"
    r"realise\w*|propose\w*|dispense\w*|tenu\w*) par\b|"
    r"\b(infirmier\w*|puericult\w*|educat\w*|assistant\w* (de service )?social\w*|psycholog\w*|medecins?|"
    r"sages? femmes?|tisf|travailleu\w* soci\w*|conseill\w* (en economie|conjugal)\w*|animat\w*|"
    r"benevoles?|mediat\w*|referent\w*|binome)\b"
)
_URL = re.compile(r"\b(www\.|https?://)|\b[\w-]+\.(com|fr|org|net)\b")
_DATE = re.compile(
    r"\b(19|20)\d\d\b|\b(janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre|"
    r"semestre|trimestre|annuel\w*|mensuel\w*|hebdomadaire)\b"
)
_ACRONYM = re.compile(r"\b[A-Z]{2,}\b")
# A line that ends with a bare page or item number and no full stop: a table of contents line (« … santé
# mentale 61 »), a budget cell (« Financements : 0 ») or the next heading's number run on (« Objectif
# général 3 »). A sentence that ends with a number and a full stop (« … de la phase 2. ») is not one.
# A sentence whose source lost its last word: it stops on « de », « la »… (`fiche.CUT_WORDS`) before its full
# stop (« … en introduisant la notion de . »); one without its full stop goes on in the next unit (`read_fiche`).
_CUT_END = re.compile(rf"{CUT_WORDS}\s*[.;,]?\s*$")
_TOC_LINE = re.compile(r"[^\d\s.]\s+\d{1,3}\s?$")

FEATURES: tuple[str, ...] = (
    "bias",
    "question_words",  # IDF-weighted share of the question's tokens found in the unit
    "expansion_words",  # the same for acronym / synonym / place expansions
    "section_1",  # the unit's section is ranked second (first is the reference)
    "section_2",  # third
    "section_score",  # section score relative to the best section
    "top_passage",  # the unit is in the passage that ranked its section
    "good_passage",  # in one of its next best passages
    "number",
    "contact",
    "asks_quantity_has_number",
    "asks_time_has_date",
    "asks_who_has_actor",
    "asks_duration_has_duration",  # « ça dure combien de temps » and the unit states a duration
    "asks_cost_has_funding",  # « qui paye » and the unit speaks of funding, cost, prise en charge
    "asks_place_has_place",  # « c'est où » and the unit names a place or an address
    "asks_opening_has_opening",  # « c'est ouvert quand » and the unit gives days or hours
    "asks_access_has_modalities",  # « comment on fait » and the unit is about access or modalities
    "asks_reach_has_contact",  # « un numéro, un site » and the unit has a contact detail or a web address
    "asks_public_has_public",  # « c'est pour quel âge » and the unit states an age or a public
    "asks_steps_has_steps",  # « comment ça se déroule » and the unit is a step, a phase or of the modalities
    "asks_kind_matched",  # any of the eight above: the unit holds the kind of detail the question asks for
    "log_words",
    "short",
    "early",  # position in the section (first units are the summary)
    "starts_field",  # the unit opens a field ("Label : …")
    "passage_bm25",  # BM25 of the unit's passage for the question, relative to the best candidate passage
    "near_top_passage",  # the passage next to the one that ranked the section
    "field_asked",  # the question names the unit's field ("quels partenaires", "l'évaluation")
    # Second pass (`in_context`): the unit beside its section's best unit, or in the same field. What a
    # sentence answers often goes on in the next one, or in the items of the same field.
    "best_field",
    "next_to_best",
) + tuple(f"field_{name}" for name in GROUP_NAMES)


@dataclass(frozen=True, slots=True)
class Budget:
    """How much of the scored sentences an answer keeps (fitted per audience with the weights)."""

    max_words: int = 95  # words of quoted sentences (the lead included; headings and contacts aside)
    lead_card_lines: int = 4  # sentences of the lead's card, the lead aside
    card_lines: int = 2  # sentences of each other card
    min_probability: float = 0.2  # a sentence joins a card if the model gives it at least this…
    relative_probability: float = 0.3  # …and at least this share of the lead's probability


@dataclass(frozen=True)
class Selection:
    """How likely each sentence is to hold what was asked, and the answer budget, per audience.

    `weights`: a logistic model over FEATURES. It ranks the first pass (`in_context`: each section's best
    sentence) and scores the sentences when an audience has no trees. `trees`: gradient-boosted trees
    (LightGBM, as text) over the same features, second pass included, that rank the sentences of one
    question (LambdaRank); `calibration` turns their score into the probability the answer uses.
    Trees read what a weighted sum cannot (« asks for a contact » matters only with a contact line, a long
    objectives sentence matters only when nothing nearer the question is there); fitted and chosen by
    `python -m evals.tune_answers --write`."""

    weights: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    budgets: Mapping[str, Budget] = field(default_factory=dict)
    trees: Mapping[str, str] = field(default_factory=dict)
    # Per audience, (scale, shift) turning the trees' raw score into a probability: σ(scale · score + shift).
    # Trees that rank (LambdaRank) give a score, not a probability; the floor and the lead's length discount
    # need one. Without an entry, the raw score is read as log-odds (trees fitted for a probability).
    calibration: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = SELECTION_FILE) -> Selection:
        from retrieval.tuned import read_tuned  # a missing file is an error naming it, not silent defaults

        data = read_tuned(path, "python -m evals.tune_answers --write")
        budgets = {a: Budget(**b) for a, b in data.get("budgets", {}).items()}
        calibration = {a: (float(c[0]), float(c[1])) for a, c in data.get("calibration", {}).items()}
        return cls(data.get("weights", {}), budgets, data.get("trees", {}), calibration)

    def budget(self, audience: str) -> Budget:
        return self.budgets.get(audience) or Budget()

    def vector(self, audience: str) -> np.ndarray:
        weights = self.weights.get(audience) or _DEFAULT_WEIGHTS
        return np.array([weights.get(name, 0.0) for name in FEATURES], dtype=np.float64)

    def probabilities(self, audience: str, rows: np.ndarray) -> np.ndarray:
        """The probability that each sentence (a row of FEATURES) holds what was asked."""
        model = self.trees.get(audience)
        if model:
            found = booster(model)
            with _PREDICTING:  # one prediction at a time: the server answers from several threads
                raw = np.asarray(found.predict(rows, raw_score=True, num_threads=1), dtype=np.float64)
            scale, shift = self.calibration.get(audience, (1.0, 0.0))
            return np.asarray(1.0 / (1.0 + np.exp(-(scale * raw + shift))), dtype=np.float64)
        return np.asarray(1.0 / (1.0 + np.exp(-(rows @ self.vector(audience)))), dtype=np.float64)


_PREDICTING = threading.Lock()


@lru_cache(maxsize=4)
def booster(model: str) -> lightgbm.Booster:
    """A tree model read once (per process) from its text."""
    import lightgbm  # read on first use: the module costs a few hundred ms at import

    found = lightgbm.Booster(model_str=model)
    if found.num_feature() != len(FEATURES):
        raise ValueError(
            f"Modèle de sélection périmé : {found.num_feature()} variables au lieu de {len(FEATURES)}. "
            "Régénérez-le avec `python -m evals.tune_answers --write`."
        )
    return found


# Without a fitted file: question words first, the best passage and section, preferred nothing else.
_DEFAULT_WEIGHTS = {
    "question_words": 4.0,
    "expansion_words": 1.0,
    "top_passage": 1.0,
    "section_1": -1.0,
    "section_2": -1.5,
}


def split_units(text: str) -> list[str]:
    """Sentences and bullet items of a passage, PDF line breaks inside them joined; run-on table text
    (no sentence ends) is cut at line breaks into pieces of about MAX_UNIT_CHARS."""
    units: list[str] = []
    listing = False  # the last unit is a list of short items, which a next short item joins
    for raw in _UNIT_SPLIT.split(text):
        pieces = [raw] if len(raw) <= MAX_UNIT_CHARS else _cut(raw)
        for piece in pieces:
            unit = " ".join(piece.split())
            bullet = unit.startswith("- ")
            unit = unit[2:] if bullet else unit
            unit = re.sub(
                r"^([^:]{2,80}) : - ", r"\1 : ", unit
            )  # "Objectifs : - Accompagner" -> "Objectifs : Accompagner"
            if not unit:
                continue
            item = short_item(unit)
            if bullet and item and listing and len(units[-1]) + len(unit) < MAX_UNIT_CHARS:
                units[-1] = f"{units[-1]}, {unit}"  # "- CAF", "- MSA", "- CPAM" -> one unit "CAF, MSA, CPAM"
                continue
            units.append(unit)
            head, _, rest = unit.partition(" : ")
            listing = item or (bool(rest) and len(head) <= 80 and short_item(rest))
    return units


def _cut(text: str) -> list[str]:
    pieces, current = [], ""
    for line in text.split("\n"):
        if current and len(current) + len(line) > MAX_UNIT_CHARS:
            pieces.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        pieces.append(current)
    return pieces


def _label(unit: str) -> str:
    """The « Label : » head of a unit, a questionnaire's numbered question included (``label_of``)."""
    return label_of(unit) or (unit.split(" : ", 1)[0] if " : " in unit[:70] else "")


@dataclass(frozen=True, slots=True)
class _UnitFacts:
    """What the features need from a unit that does not depend on the question (computed once)."""

    skip: bool  # a heading field, a bare label or a fragment of two words
    words: int
    contact: bool
    tokens: frozenset[str]
    group: str
    number: bool
    date: bool
    duration: bool
    funding: bool
    place: bool
    actor: bool
    opening: bool
    public: bool
    step: bool
    url: bool
    acronyms: int
    starts_field: bool
    label_tokens: frozenset[str]
    shown: str
    static: tuple[float, ...]  # the features that do not depend on the question, in FEATURES order (0 elsewhere)


@lru_cache(maxsize=65536)
def _unit_facts(analyzer: Analyzer, text: str, label: str) -> _UnitFacts:
    words = len(text.split())
    contact = has_contact(text)
    head = _label(text)
    skip = (
        label in HEADER_FIELDS
        or bool(_TOC_LINE.search(text))  # a contents line, a budget cell, a run-on heading number
        or (text.rstrip().endswith(":") and not contact)  # a lead-in whose list did not follow
        or text[:1].islower()  # the rest of a sentence or list that could not be joined
        or bool(_CUT_END.search(text))  # a sentence the text extraction cut: « … en introduisant la notion de . »
        or (len(shown_text(text, label).split()) < 3 and not contact)  # « Objectifs : Travailler ensemble »
        or (bool(head) and _bare(text[len(head) + 3 :]) and not contact)  # a bare label ("Moyens humains :")
    )
    folded = fold(text)
    return _UnitFacts(
        skip,
        words,
        contact,
        frozenset(analyzer.tokens(text)),
        field_group(label),
        bool(_NUMBER.search(folded)),
        bool(_DATE.search(folded)),
        bool(_DURATION.search(folded)),
        bool(_FUNDING.search(folded)),
        bool(_PLACE.search(folded)) or bool(CONTACT_PATTERNS["address"].search(text)),
        bool(_ACTOR.search(folded)),
        bool(_OPENING.search(folded)) or bool(CONTACT_PATTERNS["hours"].search(text)),
        bool(_PUBLIC.search(folded)),
        bool(_STEP.search(folded)),
        bool(_URL.search(text)),
        len(_ACRONYM.findall(text)),
        bool(head),
        frozenset(analyzer.tokens(label)) if label else frozenset(),
        shown_text(text, label),
        _static_row(words, contact, bool(_NUMBER.search(folded)), bool(head), field_group(label)),
    )


def quotable_unit(analyzer: Analyzer, text: str, label: str) -> bool:
    """Whether a unit may be quoted at all (not a heading field, a contents line, a bare label…)."""
    return not _unit_facts(analyzer, text, label).skip


def met_only_by_place(analyzer: Analyzer, title: str, units: Sequence[Unit], query: Query) -> bool:
    """A section whose title and sentences share no word with the question but the places it names (a fiche
    found because it names the town the family lives in, not for what they ask): the place is not the
    question."""
    if not query.places:
        return False
    places = {t for place in query.places for t in analyzer.tokens(f"{place.matched} {place.name}")}
    asked = (set(query.tokens) | set(query.expansions)) - places
    said = set(analyzer.tokens(title)).union(*(_unit_facts(analyzer, u.text, u.field).tokens for u in units))
    return not asked & said


def _bare(rest: str) -> bool:
    """What follows a field label says nothing: empty, or only another label ("Ressources : Moyens humains :").
    A short value is kept ("Financements : 31 000 €")."""
    return not re.search(r"\w", rest) or rest.rstrip().endswith(":")


def warm_up(analyzer: Analyzer, fiches: Mapping[str, Fiche]) -> None:
    """Analyse every sentence of the corpus once, at start-up (the cache above), so that the first
    questions after a start do not pay for it. This caches the corpus, never answers."""
    for fiche in fiches.values():
        for unit in fiche.units:
            _unit_facts(analyzer, unit.text, unit.field)


def _static_row(words: int, contact: bool, number: bool, starts_field: bool, group: str) -> tuple[float, ...]:
    row = [0.0] * len(FEATURES)
    row[_AT["bias"]] = 1.0
    row[_AT["number"]] = float(number)
    row[_AT["contact"]] = float(contact)
    row[_AT["log_words"]] = math.log(words)
    row[_AT["short"]] = float(words < 8)
    row[_AT["starts_field"]] = float(starts_field)
    row[_AT[f"field_{group}"]] = 1.0
    return tuple(row)


@lru_cache(maxsize=256)
def field_group(label: str) -> str:
    """What a field holds, by its label's words; an aside in parentheses does not count (« Moyens humains
    (évaluation du temps de travail) » is the resources, « … effets inattendus (sur les publics visés) ? » the
    evaluation)."""
    if not label:
        return "none"
    folded = fold(_ASIDE.sub("", label))
    for name, keys in FIELD_GROUPS:
        if any(k in folded for k in keys):
            return name
    return "other"


# A head that numbers a part of what the fiche describes (« 1ère partie : informations pratiques », « Étape 2 : »)
# says where it stands: it is kept, as the other kinds of labels are.
_PARTS = "(partie|etape|phase|seance|temps|volet|module)"
_ORDINAL = re.compile(rf"(\d+\s*(er|ere|eme|e)?\s+{_PARTS}|{_PARTS}\s+\d+)\b")
_NUMBERED_PART = re.compile(
    rf"^(?:(?P<n>\d+)\s*(?:er|ere|eme|e)?\s+(?P<part>{_PARTS[1:-1]})|(?P<part2>{_PARTS[1:-1]})\s+(?P<n2>\d+))\b"
)


def numbered_part(text: str) -> tuple[str, int] | None:
    """The part a unit opens with and its number (« 2ème partie : … » -> ("partie", 2), « Phase 3 : … » ->
    ("phase", 3)), or None."""
    match = _NUMBERED_PART.match(fold(text))
    if match is None:
        return None
    return match.group("part") or match.group("part2"), int(match.group("n") or match.group("n2"))


def shown_text(text: str, label: str) -> str:
    """A unit as shown: the field label dropped when it only says "content" or "objectives" (the
    fiche's heading already says what it is), kept when it tells who or what (partners, pilot…). An item
    the source ends « ; et » (the list's next item followed) is shown without it."""
    text = without_list_and(text)
    head = _label(text)
    rest = text[len(head) + 3 :].strip().lstrip("-–• ")  # « … ? : - Petite enfance »: no stray dash
    question = form_question(head)
    if question:  # « 11) Quelle est la fréquence de l'action ? : Toute l'année »: no form number
        whole = len(rest.split()) >= FORM_ANSWER_WORDS and rest[:1].isupper() and rest.endswith((".", "!", "?"))
        return rest if whole else f"{question} {rest[:1].upper()}{rest[1:]}"
    if head and field_group(label) == "objectives" and not _ORDINAL.match(fold(head)):
        return rest[:1].upper() + rest[1:] if rest else text
    return text


@lru_cache(maxsize=65536)
def _lower_words(text: str) -> tuple[str, frozenset[str]]:
    lowered = text.lower()
    return lowered, frozenset(lowered.split())


def _similar(a: str, b: str) -> bool:
    wa, wb = _lower_words(a)[1], _lower_words(b)[1]
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) > 0.7


def redundant(text: str, kept: Sequence[str]) -> bool:
    """A near-duplicate of a kept unit, or a piece of one (chunks overlap, so a sentence cut at a chunk
    border comes back whole in the next passage)."""
    lowered = _lower_words(text)[0]
    return any(lowered in _lower_words(seen)[0] or _similar(text, seen) for seen in kept)


def contact_line(text: str) -> str:
    """A contact unit as a family's « À qui s'adresser » line: its contact-field label (« Personne à
    contacter : », « Amplitude d'ouverture… : ») dropped, the heading already says it; the rest is the
    source's text, so every detail stays verifiable in the cited passage."""
    head = _label(text)
    if head and field_group(head) == "contact" and has_contact(text[len(head) :]):
        rest = text[len(head) + 3 :].strip()
        return rest[:1].upper() + rest[1:]
    return text


# (kind the question asks, feature, whether a sentence answers it, whether a match also sets
# "asks_kind_matched"): a feature is 1 when the question asks that kind and the sentence answers it.
_KIND_MATCHES: tuple[tuple[str, str, Callable[[_UnitFacts], bool], bool], ...] = (
    ("quantity", "asks_quantity_has_number", lambda f: f.number, False),
    ("time", "asks_time_has_date", lambda f: f.date, False),
    ("who", "asks_who_has_actor", lambda f: f.group in ("pilot", "partners") or f.acronyms >= 2 or f.actor, False),
    ("duration", "asks_duration_has_duration", lambda f: f.duration, True),
    ("cost", "asks_cost_has_funding", lambda f: f.funding or f.group == "resources", True),
    ("place", "asks_place_has_place", lambda f: f.place, True),
    ("opening", "asks_opening_has_opening", lambda f: f.opening, True),
    ("access", "asks_access_has_modalities", lambda f: f.group in ("modalities", "public", "contact"), True),
    ("reach", "asks_reach_has_contact", lambda f: f.contact or f.url, True),
    ("public", "asks_public_has_public", lambda f: f.public or f.group == "public", True),
    ("steps", "asks_steps_has_steps", lambda f: f.step or f.group in ("modalities", "calendar"), True),
)
_AT = {name: i for i, name in enumerate(FEATURES)}  # feature name -> position in a row

_QUESTION_KINDS = {
    "quantity": _ASKS_QUANTITY,
    "time": _ASKS_TIME,
    "who": _ASKS_WHO,
    "duration": _ASKS_DURATION,
    "cost": _ASKS_COST,
    "place": _ASKS_PLACE,
    "opening": _ASKS_OPENING,
    "access": _ASKS_ACCESS,
    "reach": _ASKS_REACH,
    "public": _ASKS_PUBLIC,
    "steps": _ASKS_STEPS,
}


def question_kinds(query: Query) -> frozenset[str]:
    """What the question asks for: a quantity, a time, actors, a duration, who pays, a place, opening
    hours, how to get in, how to reach someone, whom it is for, how it unfolds (general everyday
    phrasings, folded). Read in the sentences that ask, not in what the message tells. A child's age told
    (« mon fils de 16 ans ») asks no quantity but whether it is for him; « l'accueil de jour » asks no hours;
    « ce qui », « c'est moi qui » ask nobody."""
    told_age = bool(_AGE_TOLD.search(asking_form(query.text)))
    text = asking_form(_asking_sentences(query.text))  # folded, SMS forms expanded
    text = _TOLD.sub(" ", _AGE_TOLD.sub(" ", text))
    kinds = {kind for kind, pattern in _QUESTION_KINDS.items() if pattern.search(text)}
    return frozenset(kinds | ({"public"} if told_age else set()))


_NUMBER_WORDS = "\\d+|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize"
# An age told with its number (« mon fils de 16 ans », « un bébé de 5 mois », « ma fille a 2 ans et demi »).
_AGE_TOLD = re.compile(
    rf"\b(de|a|d|agee?s?|bientot|presque|fait|fera|va avoir|aura|fils|filles?|enfants?|bebes?|bb|ados?|neveu|niece|"
    rf"garcon|petit|petite) ({_NUMBER_WORDS})( ans| an| mois)\b( et demi)?"
)
_NUMBERS = {w: i for i, w in enumerate(_NUMBER_WORDS.split("|")[1:], start=1)} | {"une": 1}
_RANGE = re.compile(r"(\d+)\s*<\s*(\d+)\s*ans")


def ages_told(text: str) -> list[tuple[float, str]]:
    """The ages a question tells (« mon fils de 10 ans », « un bébé de 5 mois », « 2 ans et demi »), in years,
    each with its words as told (« 10 ans »), once each."""
    found: dict[float, str] = {}
    for m in _AGE_TOLD.finditer(asking_form(text)):
        number = int(m.group(2)) if m.group(2).isdigit() else _NUMBERS.get(m.group(2), 0)
        years = number / 12 if m.group(3).strip() == "mois" else number + (0.5 if m.group(4) else 0.0)
        found.setdefault(years, f"{number}{m.group(3)}{m.group(4) or ''}")
    return list(found.items())


def outside_ages(public: str, years: float) -> bool:
    """Whether a fiche's public names ages (« Mineur 0<6 ans », « jeune majeur »: 16 to 21) none of which holds
    this one."""
    folded = fold(public)
    ranges = [(int(a), int(b)) for a, b in _RANGE.findall(folded)]
    if "jeune majeur" in folded or "jeunes majeurs" in folded:
        ranges.append((16, 21))  # from 16, a young person in care prepares for their majority
    return bool(ranges) and not any(a <= years <= b for a, b in ranges)


# A service named by its rhythm, a relative « qui » after a pronoun.
_TOLD = re.compile(
    r"\b(accueil|hopital|centre|structure|service|foyer)s? de (jour|nuit)\b|"
    r"\b(ce|lui|moi|toi|elle|eux|celui|celle|ceux|celles|quelqu un) qui\b|\b(tout le|de temps en|en meme) temps\b"
)
_SENTENCE = re.compile(r"[^.!?…]+[.!?…]*")


def _asking_sentences(text: str) -> str:
    """The sentences of a message that end with a question mark and a last one left open (« … ?? c quand et
    avec qui »), or the whole message when none asks."""
    sentences = [m.group(0) for m in _SENTENCE.finditer(text) if m.group(0).strip()]
    asking = [t for i, t in enumerate(sentences) if "?" in t or (i == len(sentences) - 1 and not _ENDED.search(t))]
    return " ".join(asking) if asking else text


_ENDED = re.compile(r"[.!?…]\s*$")


def candidates(
    hits: Sequence[SectionHit],
    query: Query,
    analyzer: Analyzer,
    profile: Profile,
    idf: Mapping[str, float],
    fiches: Mapping[str, Fiche],
    passage_scores: Mapping[str, float] | None = None,
) -> list[Candidate]:
    """Every sentence of the best sections (read whole, `assistant/fiche.py`), with its features.

    `passage_scores`: BM25 of each passage (chunk id) for the question, when known."""
    if not hits:
        return []
    top = hits[0].score or 1.0
    default = max(idf.values(), default=1.0)
    q_tokens, x_tokens = set(query.tokens), set(query.expansions)
    q_total = math.fsum(idf.get(t, default) for t in q_tokens) or 1.0
    x_total = math.fsum(idf.get(t, default) for t in x_tokens) or 1.0
    asks = question_kinds(query)
    asked = [(_AT[name], has, counts) for kind, name, has, counts in _KIND_MATCHES if kind in asks]
    q_all = q_tokens | x_tokens
    best_passage = max((passage_scores or {}).values(), default=0.0) or 1.0
    out: list[Candidate] = []
    for rank, hit in enumerate(hits[: profile.max_sections]):
        if hit.score < profile.min_relative_score * top:
            break
        fiche = fiches.get(hit.section_id)
        if fiche is None:
            continue
        glossary = hit.kind == "glossaire"
        ranked = [p.chunk_id for p in hit.passages]
        ids = [p.chunk_id for p in fiche.passages]
        near = {
            ids[j]
            for top_id in ranked[:1]
            if top_id in ids
            for j in (ids.index(top_id) - 1, ids.index(top_id) + 1)
            if 0 <= j < len(ids)
        }
        for unit in fiche.units:
            text, label = unit.text, unit.field
            if glossary and query.acronyms and glossary_term(text) not in query.acronyms:
                continue  # in a glossary, only the entries of the acronyms asked about
            facts = _unit_facts(analyzer, text, label)
            if facts.skip:
                continue
            if glossary and _says_only_the_name(analyzer, text, q_tokens):
                continue  # « OVF Observatoire de la vie familiale » to « l'Observatoire…, ça sert à quoi ? »
            tokens = facts.tokens
            held = [p.chunk_id for p in unit.passages]
            position = min((ranked.index(c) for c in held if c in ranked), default=-1)
            row = list(facts.static)
            # fsum: exact, so the same whatever the set's order (string hashing differs between processes)
            row[_AT["question_words"]] = math.fsum(idf.get(t, default) for t in q_tokens & tokens) / q_total
            row[_AT["expansion_words"]] = math.fsum(idf.get(t, default) for t in x_tokens & tokens) / x_total
            row[_AT["section_1"]] = float(rank == 1)
            row[_AT["section_2"]] = float(rank >= 2)
            row[_AT["section_score"]] = hit.score / top
            row[_AT["top_passage"]] = float(position == 0)
            row[_AT["good_passage"]] = float(position > 0)
            for at, has, counts in asked:  # the kinds the question does not ask stay 0, as in the static row
                if has(facts):
                    row[at] = 1.0
                    if counts:
                        row[_AT["asks_kind_matched"]] = 1.0
            row[_AT["early"]] = 1.0 / (1.0 + unit.order / 5.0)
            row[_AT["passage_bm25"]] = max((passage_scores or {}).get(c, 0.0) for c in held) / best_passage
            row[_AT["near_top_passage"]] = float(any(c in near for c in held))
            row[_AT["field_asked"]] = float(bool(facts.label_tokens & q_all))
            out.append(Candidate(Unit(facts.shown, unit.passages, label, 0.0, unit.order, unit.item), rank, tuple(row)))
    return out


def _says_only_the_name(analyzer: Analyzer, text: str, question: set[str]) -> bool:
    """A glossary line whose expansion the question already says in full tells the person nothing."""
    expansion = _expansion_tokens(analyzer, text)
    return bool(expansion) and expansion <= question


@lru_cache(maxsize=4096)
def _expansion_tokens(analyzer: Analyzer, text: str) -> frozenset[str]:
    """The tokens of a glossary line after its term (computed once per line, not per question)."""
    return frozenset(analyzer.tokens(text.split(" ", 1)[1] if " " in text else ""))


def in_context(found: Sequence[Candidate], weights: np.ndarray) -> list[Candidate]:
    """The candidates with their second-pass features: each section's best unit by the first-pass score
    (these features at 0), and which units share its field or stand next to it."""
    if not found:
        return []
    raw = np.array([c.features for c in found], dtype=np.float64) @ weights
    best: dict[int, int] = {}
    for i, c in enumerate(found):
        if c.section not in best or raw[i] > raw[best[c.section]]:
            best[c.section] = i
    out = []
    for c in found:
        top = found[best[c.section]]
        row = list(c.features)
        row[_AT["best_field"]] = float(c is not top and bool(c.unit.field) and c.unit.field == top.unit.field)
        row[_AT["next_to_best"]] = float(abs(c.unit.order - top.unit.order) == 1)
        out.append(Candidate(c.unit, c.section, tuple(row)))
    return out
