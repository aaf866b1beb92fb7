"""The question as typed -> the question the engine reads (pure): invisible and bidirectional control
characters removed, empty, too long or invalid questions refused with a French message."""

from __future__ import annotations

import re

MAX_QUESTION_CHARS = 2000


class AskError(ValueError):
    """A question that cannot be asked (empty, too long, unknown audience); message in French."""


# Control characters (but tab and newline), the bidirectional embedding / override / isolate controls
# (they would reorder how the question reads back on a page or in the trainers' lists) and the BOM.
_INVISIBLE_RANGES = r"\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff"
_INVISIBLE = re.compile(f"[{_INVISIBLE_RANGES}]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# A question must hold at least one character matching this (same in Python and ECMA-262 regexes):
# the API spec documents it as the question's `pattern`.
READABLE_PATTERN = rf"[^\s{_INVISIBLE_RANGES}]"


def has_text(text: str) -> bool:
    """Whether `clean_question` would find something to read in `text`."""
    return bool(_INVISIBLE.sub(" ", text).strip())


def clean_question(question: str) -> str:
    """The question as the engine reads it: control and bidi-override characters become spaces, then
    stripped. A lone UTF-16 surrogate (not a character) is refused, like an empty or too long question."""
    if _SURROGATE.search(question):
        raise AskError("La question contient un caractère invalide.")
    question = _INVISIBLE.sub(" ", question).strip()
    if not question:
        raise AskError("La question est vide.")
    if len(question) > MAX_QUESTION_CHARS:
        raise AskError(f"La question est trop longue ({len(question)} caractères, {MAX_QUESTION_CHARS} au plus).")
    return question
