"""Ordinary French words within a typo of a gazetteer name, so that the typo matching of
`analyze.Gazetteer` never reads « la baisse » as La Buisse or « lire » as the Loire.

The list is data (`data/not_places.json`, key « generated »), made once by ``python -m retrieval.not_places``
from pyspellchecker's French word frequencies (a dev dependency; OpenSubtitles counts): every word seen at
least MIN_COUNT times, that is not itself a name or a word of a name of the gazetteer, and that is within the
gazetteer's own typo limit (one letter, two past 12 letters, same first letter) of a word of a name. The
words the file lists by hand (« words ») stay: they were found by questions read as naming a place.
"""

from __future__ import annotations

import json
from collections import defaultdict

from retrieval.analyze import DATA_DIR, Gazetteer, phrase_key, typo_limit

NOT_PLACES_FILE = DATA_DIR / "not_places.json"
MIN_COUNT = 50  # rarer « words » of the frequency list are mostly typos and names


def near_words(gazetteer: Gazetteer, vocabulary: dict[str, int]) -> list[str]:
    """The words of `vocabulary` (word -> count) within a typo of a word of a gazetteer name."""
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    names = gazetteer.names()
    name_words = {word for name in names for word in name.split() if len(word) >= 4}
    by_initial: dict[str, list[str]] = defaultdict(list)
    for word, count in vocabulary.items():
        if count >= MIN_COUNT and len(word) >= 4 and word not in names and word not in name_words:
            by_initial[word[0]].append(word)
    found: set[str] = set()
    for word in name_words:
        candidates = by_initial.get(word[0], [])
        matches = process.extract(
            word, candidates, scorer=Levenshtein.distance, score_cutoff=typo_limit(word), limit=None
        )
        found.update(match for match, _, _ in matches)
    return sorted(found)


def main() -> None:  # pragma: no cover - run by hand to regenerate the data file
    from spellchecker import SpellChecker  # dev dependency

    from retrieval.analyze import build_analyzer

    vocabulary: dict[str, int] = defaultdict(int)
    for word, count in SpellChecker(language="fr").word_frequency.items():
        key = phrase_key(word)
        if key and " " not in key:
            vocabulary[key] += count
    payload = json.loads(NOT_PLACES_FILE.read_text(encoding="utf-8"))
    payload["generated"] = near_words(build_analyzer().gazetteer, vocabulary)
    payload["source"] = "python -m retrieval.not_places (pyspellchecker 0.8.1 French frequencies)"
    NOT_PLACES_FILE.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{len(payload['generated'])} words near a place written to {NOT_PLACES_FILE}")


if __name__ == "__main__":
    main()
