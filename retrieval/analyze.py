"""French lexical analysis: text -> search tokens; question -> expanded query with places.

Elision (l', d', qu'…), accent and case folding, French stopwords, Snowball stemming (PyStemmer),
an acronym lexicon (field acronyms plus the corpus glossaries), a small lexicon from everyday words to
the documents' wording ("nounou" -> "assistante maternelle"), and a place gazetteer that maps a town
to the territory whose fiches serve it. Expansions are kept apart from the question's own tokens so
that retrieval can weigh them less.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import Stemmer
from bm25s.stopwords import STOPWORDS_FRENCH
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from corpus.clean import fold
from retrieval.elsewhere import elsewhere

DATA_DIR = Path(__file__).resolve().parent / "data"
_ELISION = re.compile(r"\b(?:qu|jusqu|lorsqu|puisqu|quoiqu|presqu|[cdjlmnst])'", re.IGNORECASE)
_TOKEN = re.compile(r"[a-z0-9]+")
# Words that are acronyms in the lexicon but ordinary French words when typed in lower case.
_AMBIGUOUS_ACRONYMS = frozenset({"je", "as", "pre", "vif", "mie", "ap", "ars", "mam", "ram", "cap", "ae", "sas", "pif"})
# Single-word communes that are ordinary French words: only matched when capitalised.
_AMBIGUOUS_PLACES = frozenset(
    {
        "roche",
        "four",
        "oz",
        "corps",
        "jardin",
        "moyen",
        "lay",
        "revel",
        "chatte",
        "passage",
        "terrasse",
        "vienne",
        "fontaine",
        "roussillon",
        "anjou",
        "loire",
        "isere",
        "pilat",
        "gier",
        "forez",
        "vercors",
        "chartreuse",
        "42",
        "38",
        "54",
    }
)
# Ordinary words one letter away from a commune's name: never read as a misspelt place.
_NOT_PLACES_DATA = json.loads((DATA_DIR / "not_places.json").read_text(encoding="utf-8"))
_NOT_PLACES = (
    frozenset(fold(w) for w in STOPWORDS_FRENCH)
    | frozenset(_NOT_PLACES_DATA["words"])
    | frozenset(_NOT_PLACES_DATA.get("generated", []))
)
_NUMBER_WORDS = {
    "1": "un",
    "2": "deux",
    "3": "trois",
    "4": "quatre",
    "5": "cinq",
    "6": "six",
    "7": "sept",
    "8": "huit",
    "9": "neuf",
    "10": "dix",
    "11": "onze",
    "12": "douze",
}
_EXTRA_STOPWORDS = frozenset(
    {
        "a",
        "y",
        "ca",
        "cela",
        "c",
        "est",
        "quoi",
        "comment",
        "quel",
        "quelle",
        "quels",
        "quelles",
        "ou",
        "qui",
        "que",
        "svp",
        "bonjour",
        "merci",
        "peut",
        "faire",
        "fait",
    }
)


# Words the stemmer merges with another of a different sense: « fils » (a son) is not « fil » (« le fil
# rouge », « Le FIL à Saint-Etienne »).
_OWN_STEMS = {"fils": "fils"}
# « petite-fille », « petit-fils », « petits-enfants » are grandchildren: one word, not « fille » or « enfant ».
_GRANDCHILD = re.compile(r"(?i)\bpetite?s?-(?:fille|fils|enfant)s?\b")


def _feminine_participle(word: str) -> str:
    """« placée(s) » as « placé(s) »: without its accents the stemmer reads « placee » apart from « place », so the
    feminine and the masculine of a participle (« AEMO renforcée », « AEMO renforcés ») did not meet."""
    if word.endswith("ees"):
        return word[:-3] + "es"
    return word[:-1] if word.endswith("ee") else word


def words(text: str) -> list[str]:
    """Folded word tokens with elided articles removed ("l'enfant" -> "enfant")."""
    return _TOKEN.findall(_ELISION.sub(" ", fold(text)))


@dataclass(frozen=True, slots=True)
class Place:
    name: str  # territory name as the corpus writes it ("Gier Ondaine Pilat")
    departement: str  # "Loire"
    matched: str  # what the user wrote
    commune: str = ""  # the commune's key (« saint chamond ») when the name is a commune's, else ""
    typo: bool = False  # found within a typo (« firmini »), not as the name is written


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    tokens: list[str]  # stemmed tokens of the question itself
    expansions: list[str]  # stemmed tokens added by acronyms, everyday-word synonyms and places
    places: tuple[Place, ...]
    acronyms: tuple[str, ...]  # acronyms recognised in the question
    fiches: tuple[str, ...] = ()  # the numbers of the fiches the question names (« la fiche n°14 » -> "14")


# « la fiche 14 », « fiche action n°07 », « l'action n° 26 »: a fiche named by its number (leading zeros
# dropped). Not « l'action 1-1-1 » (a numbered objective of a plan) nor « la loi du 14 mars ».
_FICHE_NUMBER = re.compile(
    r"\b(?:fiches?|actions?)\s+(?:actions?\s+)?(?:n\s*[°º]?\s*|no\s+|numero\s+)?0*(\d{1,3})\b(?![-.]\d)"
)


def fiche_numbers(text: str) -> tuple[str, ...]:
    """The fiche numbers a question names, in order, once each."""
    return tuple(dict.fromkeys(_FICHE_NUMBER.findall(text.lower().replace("n°", "n° ").replace("é", "e"))))


def phrase_key(text: str) -> str:
    """Normalised form for phrase lookup: folded words joined by single spaces, 'st' -> 'saint'."""
    return " ".join("saint" if w == "st" else "sainte" if w == "ste" else w for w in words(text.replace("-", " ")))


class Gazetteer:
    """Town and territory names -> the territory (or département) whose fiches serve them."""

    def __init__(self, data: dict[str, list[dict[str, object]]], outside: Iterable[str] = ()) -> None:
        self._entries: dict[str, tuple[str, str, bool]] = {}  # key -> (territory, departement, is_commune)
        # Names of several words outside the corpus' areas that hold a name inside (« haute loire »,
        # « saint cyr sur loire »): read whole, they name no place of the gazetteer.
        self._outside = frozenset(k for k in map(phrase_key, outside) if " " in k)
        for dep in data.get("departements", []):
            name = str(dep["name"])
            for alias in [name, *_strs(dep.get("aliases"))]:
                self._add(alias, name, name, commune=False)
            for commune in _strs(dep.get("communes")):
                self._add(commune, name, name, commune=True)
        for territory in data.get("territories", []):
            name, dep_name = str(territory["name"]), str(territory["departement"])
            for alias in [name, *_strs(territory.get("aliases"))]:
                self._add(alias, name, dep_name, commune=False)
            for commune in _strs(territory.get("communes")):
                self._add(commune, name, dep_name, commune=True)
        self._max_words = max((len(key.split()) for key in self._entries), default=1)
        self._by_initial: dict[str, list[str]] = {}
        for key in self._entries:
            if len(key) >= 5 and key not in _AMBIGUOUS_PLACES:
                self._by_initial.setdefault(key[0], []).append(key)

    def names(self) -> frozenset[str]:
        """The normalised names (communes, territories, départements and their aliases)."""
        return frozenset(self._entries)

    def _add(self, label: str, territory: str, departement: str, commune: bool) -> None:
        key = phrase_key(label)
        if key and (key not in self._entries or commune):
            self._entries[key] = (territory, departement, commune)

    def find(self, text: str) -> tuple[Place, ...]:
        """Places named in `text`, longest names first, without overlaps, one per territory; a name typed
        with one or two letters wrong (« firmini », « roane », « bourgoin jalieu ») is found by edit distance."""
        unique = {(p.name, p.departement): p for p in self._every(text)}
        return tuple(unique.values())

    def communes(self, text: str) -> frozenset[str]:
        """The keys of every commune named in `text` (a source passage, a question), typos forgiven."""
        return frozenset(p.commune for p in self._every(text) if p.commune)

    def _every(self, text: str) -> list[Place]:
        raw_words = re.findall(r"[\w']+", text.replace("-", " "))
        keys = [phrase_key(w) for w in raw_words]
        coded = frozenset(_CODE_IN_PARENS.findall(text))  # « Vienne (38) »
        found: list[Place] = []
        index = 0
        while index < len(keys):
            sizes = range(min(self._max_words, len(keys) - index), 0, -1)
            windows = [(size, " ".join(k for k in keys[index : index + size] if k)) for size in sizes]
            # Every exact name starting here first (longest first), then names within a typo.
            exact = ((size, key, key if key in self._entries else None) for size, key in windows)
            near = ((size, key, self._near(key, size)) for size, key in windows)
            for size, key, name in itertools.chain(exact, near):
                entry = self._entries[name] if name else None
                if size > 1 and key in self._outside and not entry:
                    index += size  # « Haute-Loire » is not the Loire
                    break
                if not entry or not key:
                    continue
                if size == 1 and key in _AMBIGUOUS_PLACES and not _named_as_place(raw_words, index, key, coded):
                    continue
                matched = " ".join(raw_words[index : index + size])
                commune = name if entry[2] and name else ""
                found.append(Place(entry[0], entry[1], matched, commune, typo=name != key))
                index += size
                break
            else:
                index += 1
        return found

    def _near(self, key: str, size: int) -> str | None:
        """The key of the entry whose name is within one typo (two for names over 12 letters) of `key`: same first
        letter, and at least 5 letters that are not ordinary words (stopwords, `not_places.json`)."""
        words_in = key.split()
        content = [w for w in words_in if w not in _NOT_PLACES]
        if len(words_in) != size or sum(len(w) for w in content) < 5:
            return None
        candidates = self._by_initial.get(key[0], ())
        match = process.extractOne(key, candidates, scorer=Levenshtein.distance, score_cutoff=typo_limit(key))
        return str(match[0]) if match else None


def typo_limit(name: str) -> int:
    """How many letters a place name may be typed wrong and still be found: one, two past 12 letters."""
    return 1 if len(name) <= 12 else 2


# « en isere », « dans la loire », « l'isere »: a département typed in lower case after a preposition.
_DEPARTEMENT_WORDS = frozenset({"loire", "isere"})
_BEFORE_DEPARTEMENT = frozenset({"en", "la", "de", "du", "dans", "departement"})


# « dans le 38 », « (42) »: a département's number; « j'habite à vienne »: where someone lives.
_CODE_IN_PARENS = re.compile(r"\((\d{2})\)")
_BEFORE_CODE = frozenset({"le", "du", "au", "dans"})
_LIVING = ("habit", "vi", "res", "demeur", "install", "demenag", "suis", "somm", "sui", "arriv")


def _named_as_place(raw_words: list[str], index: int, key: str, coded: frozenset[str] = frozenset()) -> bool:
    """Whether an ambiguous single word (« Vienne », « loire », « 38 ») is used as a place name here: written
    with a capital; a département after a preposition; its number after « le », « dans le » or in
    parentheses; a town after « j'habite à », « on vit à »."""
    word = raw_words[index]
    if word[:1].isupper():
        return True
    before = [fold(w) for w in raw_words[max(0, index - 2) : index]]
    if key.isdigit():
        return key in coded or bool(before) and before[-1] in _BEFORE_CODE
    if len(before) == 2 and before[1] in {"a", "à"} and _living(before[0]):
        return True
    if key not in _DEPARTEMENT_WORDS:
        return False
    return fold(word).startswith("l'") or (index > 0 and fold(raw_words[index - 1]) in _BEFORE_DEPARTEMENT)


def _living(word: str) -> bool:
    """A verb of living somewhere (« habite », « vit », « sommes installés »), elided subject aside."""
    word = word.split("'")[-1]
    return word.startswith(_LIVING) and len(word) <= 12


def _strs(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


class Analyzer:
    """Turns text into BM25 tokens and questions into expanded queries."""

    def __init__(
        self,
        acronyms: dict[str, list[str]],
        gazetteer: Gazetteer,
        synonyms: dict[str, list[str]] | None = None,
        ambiguous: Iterable[str] = (),
    ) -> None:
        self._stemmer = Stemmer.Stemmer("french")
        self._stopwords = frozenset(fold(w) for w in STOPWORDS_FRENCH) | _EXTRA_STOPWORDS
        self.acronyms = {fold(k): v for k, v in acronyms.items()}
        # acronyms read as such only when written in capitals (« AMI », not « mon ami »)
        self._ambiguous = _AMBIGUOUS_ACRONYMS | {fold(a) for a in ambiguous}
        # Expansion phrase (normalised) -> acronym, for questions that spell the acronym out.
        self._phrases = {phrase_key(e): fold(k) for k, expansions in acronyms.items() for e in expansions}
        self.gazetteer = gazetteer
        self.synonyms = {phrase_key(k): v for k, v in (synonyms or {}).items() if not k.startswith("_")}

    def tokens(self, text: str) -> list[str]:
        """Stemmed, folded tokens of a text, stopwords removed (acronyms are kept)."""
        kept = [
            _NUMBER_WORDS.get(w, w)  # "6 orientations" and "six orientations" agree
            for w in words(_GRANDCHILD.sub("petitenfant", text))
            if w not in self._stopwords or (w in self.acronyms and w not in self._ambiguous)
        ]
        folded = [_feminine_participle(w) for w in kept]
        stems = [_OWN_STEMS.get(w) or stem for w, stem in zip(kept, self._stemmer.stemWords(folded), strict=True)]
        # « café » stems to « caf », the CAF; « près » to « pre », the PRE: a word that is not an acronym keeps
        # its own form when its stem would be one
        return [
            word if stem != word and stem in self.acronyms and word not in self.acronyms else stem
            for word, stem in zip(kept, stems, strict=True)
        ]

    def query(self, text: str) -> Query:
        """Tokens of a question plus acronym expansions and the territories of the places it names."""
        tokens = self.tokens(text)
        seen = set(tokens)
        expansions: list[str] = []

        def expand(extra: str) -> None:  # each expansion word counts once, so it cannot outweigh the question
            for token in self.tokens(extra):
                if token not in seen:
                    seen.add(token)
                    expansions.append(token)

        found: list[str] = []
        upper = {fold(w) for w in re.findall(r"\b[A-ZÉ]{2,}\b", text)}
        for word in dict.fromkeys(words(text)):
            if word in self.acronyms and (word in upper or word not in self._ambiguous):
                found.append(word)
                for expansion in self.acronyms[word]:
                    expand(expansion)
        key = f" {phrase_key(text)} "
        for phrase, acronym in self._phrases.items():
            if f" {phrase} " in key and acronym not in found:
                found.append(acronym)
                expand(acronym)
        for phrase, replacements in self.synonyms.items():
            if f" {phrase} " in key:
                for replacement in replacements:
                    expand(replacement)
        places = self.gazetteer.find(text)
        for place in places:
            expand(place.name)
        return Query(text, tokens, expansions, places, tuple(found), fiche_numbers(text))


def glossary_entries(lines: Iterable[str]) -> dict[str, list[str]]:
    """Acronym definitions from glossary lines such as "AED : Action éducative à domicile"."""
    entries: dict[str, list[str]] = {}
    for line in lines:
        m = re.match(r"^\s*([A-Z][A-Z0-9]{1,9})\s*(?::|–|-)?\s+([A-Za-zÀ-ÿ’'].{3,120})$", line.strip())
        if m:
            entries.setdefault(m.group(1), []).append(m.group(2).strip())
    return entries


@lru_cache(maxsize=1)
def default_lexicons() -> tuple[dict[str, list[str]], Gazetteer, dict[str, list[str]]]:
    acronyms = json.loads((DATA_DIR / "acronyms.json").read_text(encoding="utf-8"))
    data = json.loads((DATA_DIR / "gazetteer.json").read_text(encoding="utf-8"))
    gazetteer = Gazetteer(data, outside=elsewhere())
    synonyms = json.loads((DATA_DIR / "synonyms.json").read_text(encoding="utf-8"))
    return acronyms, gazetteer, synonyms


def build_analyzer(
    glossary_lines: Iterable[str] = (),
    defined: Mapping[str, Sequence[str]] | None = None,
    ordinary_words: Collection[str] = frozenset(),
) -> Analyzer:
    """Analyzer with the shipped lexicons, extended with the corpus glossaries, then with the acronyms the
    documents spell out in their text (`defined`) that neither knows. Such an acronym that is also an
    ordinary word of the documents (`ordinary_words`: folded words written in lower case) is read in a
    question only when written in capitals."""
    acronyms, gazetteer, synonyms = default_lexicons()
    merged = {k: list(v) for k, v in acronyms.items()}
    for acronym, expansions in glossary_entries(glossary_lines).items():
        known = {fold(e) for e in merged.get(acronym, [])}
        merged.setdefault(acronym, []).extend(e for e in expansions if fold(e) not in known)
    folded = {fold(k) for k in merged}
    learned = {k: list(v) for k, v in (defined or {}).items() if fold(k) not in folded}
    ambiguous = [k for k in learned if fold(k) in ordinary_words]
    return Analyzer({**merged, **learned}, gazetteer, synonyms, ambiguous)
