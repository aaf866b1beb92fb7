"""Acronyms the documents spell out in their own text (pure): « projet pour et avec la famille (PPAF) »,
« le GED (grille d'évaluation du développement) », a fiche titled « … projet UGO – logiciel urgence guide
orientation » or « La situation Périnatale à risque SPAR ».

An expansion is accepted only when the acronym's letters are the initials of its words, in order: each
word gives the first one to three letters it starts with, and a little word (« de », « la », « et »,
« pour ») inside it gives one letter or none. « UGO (logiciel libre mis en place par…) » is not a
definition: its words do not spell U-G-O. Only acronyms that neither the shipped lexicon nor a glossary
knows are taken from here (`retrieval.analyze.build_analyzer`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from corpus.clean import fold

# A word that may stand in an expansion without giving a letter (« projet pour et avec la famille »).
_LITTLE = frozenset("a à au aux d de des du en et l la le les pour par sur dans avec ou un une".split())
_ACRONYM = r"[A-Z][A-Z0-9]{1,7}"
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_ELIDED = re.compile(r"^(?:[dlcjmnst]|qu)['’]", re.IGNORECASE)
# « words (ACR) », « ACR (words) », « ACR – words », and « words ACR » at a title's end
_IN_PARENS = re.compile(rf"\(\s*({_ACRONYM})\s*\)")
_CLAUSE_END = re.compile(r"[()«»:;.!?]")
_PARENS_AFTER = re.compile(rf"\b({_ACRONYM})\s*\(([^()]{{3,120}})\)")
_DASH_AFTER = re.compile(rf"\b({_ACRONYM})\s+[–-]\s+([^()«»:;.!?–]{{3,120}})")
_TITLE_END = re.compile(rf"([^()«»:;.!?–-]{{3,200}}?)\s+({_ACRONYM})\s*$")
_ACRONYM_ONLY = re.compile(rf"^\s*{_ACRONYM}\s*$")


def _most_words(letters: str) -> int:
    """The longest expansion read: two words a letter and two more (« Direction de l'Éducation, de la
    Jeunesse et du Sport »: 9 words for DEJS)."""
    return 2 * len(letters) + 2


def _words(text: str) -> list[tuple[str, int, int]]:
    """The words of a text (an elided article dropped: « d'évaluation » -> « évaluation ») with the span each
    holds in the text, article included."""
    found = []
    for m in _WORD.finditer(text):
        article = _ELIDED.match(m.group())
        skip = article.end() if article else 0
        found.append((m.group()[skip:], m.start() + skip, m.end()))
    return found


def _spells(words: list[str], letters: str) -> bool:
    """Whether the words, in order, spell the letters: each word gives a prefix of 1-3 of the letters it
    starts with; a little word between two others gives one letter or none (« projet pour et avec la
    famille »: P-P-A-F); the first and the last word are not little words."""
    folded = [fold(w) for w in words]
    if not folded or folded[0] in _LITTLE or folded[-1] in _LITTLE:
        return False

    @cache
    def fits(i: int, j: int) -> bool:
        if i == len(folded):
            return j == len(letters)
        word = folded[i]
        widths = (1,) if word in _LITTLE else (1, 2, 3)
        if word in _LITTLE and fits(i + 1, j):
            return True
        return any(j + k <= len(letters) and word.startswith(letters[j : j + k]) and fits(i + 1, j + k) for k in widths)

    return fits(0, 0)


def _shortest_tail(text: str, acronym: str) -> str:
    """The shortest run of the text's last words that spells the acronym, as written, or ""."""
    words = _words(text)
    letters = fold(acronym)
    for n in range(1, min(len(words), _most_words(letters)) + 1):
        if _spells([w for w, _, _ in words[-n:]], letters):
            return _as_written(text, words[-n][1], words[-1][2])
    return ""


def _as_written(text: str, start: int, end: int) -> str:
    return " ".join(text[start:end].split())


def _head_spelling(text: str, acronym: str) -> str:
    """The text's first words when a run of them, ending at a word, spells the acronym; the words before the
    run stay (« logiciel urgence guide orientation »: U-G-O from its 2nd word), at most one of them."""
    letters = fold(acronym)
    words = _words(text)[: _most_words(letters)]
    for start in (0, 1):
        for end in range(start + 1, len(words) + 1):
            if _spells([w for w, _, _ in words[start:end]], letters):
                return _as_written(text, words[0][1], words[end - 1][2])
    return ""


def defined_acronyms(texts: Iterable[str], titles: Iterable[str] = ()) -> dict[str, list[str]]:
    """Acronym -> the expansions the texts give it, in the order first met (« PPAF » -> [« projet pour et
    avec la famille »]); `titles` are also read for an acronym that ends them."""
    found: dict[str, list[str]] = {}

    def add(acronym: str, expansion: str) -> None:
        if expansion and fold(expansion) not in {fold(e) for e in found.get(acronym, [])}:
            found.setdefault(acronym, []).append(expansion)

    read_titles = list(titles)
    for text in [*texts, *read_titles]:
        flat = " ".join(text.split())
        for m in _IN_PARENS.finditer(flat):
            before = flat[max(0, m.start() - 200) : m.start()]
            add(m.group(1), _shortest_tail(_CLAUSE_END.split(before)[-1], m.group(1)))
        for m in _PARENS_AFTER.finditer(flat):
            if not _ACRONYM_ONLY.match(m.group(2)):  # « (AED) (AEMO) »
                add(m.group(1), _head_spelling(m.group(2), m.group(1)))
        for m in _DASH_AFTER.finditer(flat):
            add(m.group(1), _head_spelling(m.group(2), m.group(1)))
    for title in read_titles:
        end = _TITLE_END.search(" ".join(title.split()))
        if end:
            add(end.group(2), _shortest_tail(end.group(1), end.group(2)))
    return found
