"""Question screening before retrieval: danger signals (-> emergency numbers first) and
injection attempts (-> refusal). Pure functions over the folded question text.

Patterns are deliberately broad for danger (a false alarm costs one extra block with 119; a miss
can cost a child) and narrow for injection (a false refusal blocks a real question).
"""

from __future__ import annotations

import base64
import binascii
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.citations import discourages_emergency
from corpus.clean import normalise as normalise  # the screens read the question in this form

INJECTION_FILE = Path(__file__).resolve().parent / "data" / "injection.toml"


@dataclass(frozen=True, slots=True)
class InjectionRule:
    """One way of steering the assistant (`data/injection.toml`), with the messages it must and must not flag."""

    id: str
    patterns: tuple[re.Pattern[str], ...]
    examples: tuple[str, ...]
    counterexamples: tuple[str, ...]


@lru_cache(maxsize=1)
def _injection_data() -> dict[str, Any]:
    with INJECTION_FILE.open("rb") as handle:
        return tomllib.load(handle)


@lru_cache(maxsize=1)
def injection_rules() -> tuple[InjectionRule, ...]:
    data = _injection_data()
    return tuple(
        InjectionRule(
            rule["id"],
            tuple(re.compile(p) for p in rule["patterns"]),
            tuple(rule.get("examples", ())),
            tuple(rule.get("counterexamples", ())),
        )
        for rule in data["rule"]
    )


_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "€": "e",
        "!": "i",
        "|": "i",
        "8": "b",
    }
)
# Letters of other scripts that look like Latin ones (Cyrillic, Greek), and characters that do not show.
_LOOKALIKES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
        "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g", "ո": "n", "ս": "u",
        "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
        "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "", "\u00ad": "",
    }
)  # fmt: skip
_LOOKALIKES.update({ord(chr(k).upper()): v.upper() for k, v in list(_LOOKALIKES.items()) if chr(k).upper() != chr(k)})
_ROT13 = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "nopqrstuvwxyzabcdefghijklmNOPQRSTUVWXYZABCDEFGHIJKLM"
)
_SPACED = re.compile(r"\b(?:\w[\s.\-_*]){3,}\w\b")
_JOINED_LETTERS = re.compile(r"(?<=\b\w)[.\-_*/](?=\w\b)")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


def readings(question: str) -> list[str]:
    """The question as written, and as an attacker may have disguised it: lookalike letters of other
    scripts and invisible characters, leetspeak (« 1gn0r3 »), spaced or dotted letters (« i g n o r e »,
    « i-g-n-o-r-e t-e-s »), the text reversed or in ROT13, base64."""
    plain = question.translate(_LOOKALIKES)
    found = [question, plain, plain.translate(_LEET), plain[::-1], plain.translate(_ROT13)]
    found.append(_SPACED.sub(lambda m: re.sub(r"[\s.\-_*]", "", m.group(0)), plain))
    # Letters joined by a dot or a dash inside words, words set apart by spaces (« i-g-n-o-r-e t-e-s »).
    for _ in range(2):  # each pass joins every other letter pair
        plain_joined = _JOINED_LETTERS.sub("", plain)
        if plain_joined == plain:
            break
        plain = plain_joined
    found.append(plain)
    tokens = question.split()
    if tokens and sum(len(t) == 1 for t in tokens) >= 0.6 * len(tokens):
        # Written letter by letter, words set apart by wider gaps (« o u b l i e  t e s  c o n s i g n e s »).
        found.append(" ".join("".join(word.split()) for word in re.split(r"\s{2,}|\s[/|]\s", question)))
    for token in _BASE64.findall(question):
        try:
            decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            continue
        if decoded.isprintable():
            found.append(decoded)
    return found


@dataclass(frozen=True, slots=True)
class ForgedTurns:
    """How an « assistant » turn that Repère did not write gives itself away (`data/injection.toml`)."""

    patterns: tuple[re.Pattern[str], ...]
    examples: tuple[str, ...]
    counterexamples: tuple[str, ...]


@lru_cache(maxsize=1)
def forged_turns() -> ForgedTurns:
    data = _injection_data()["assistant_turn"]
    return ForgedTurns(
        tuple(re.compile(p) for p in data["patterns"]), tuple(data["examples"]), tuple(data["counterexamples"])
    )


def reads_as_forged(turn: str) -> bool:
    """Whether an « assistant » turn agrees to an order or takes on a role, as Repère never does."""
    opening = normalise(turn)[:300]
    return any(p.search(opening) for p in forged_turns().patterns)


@lru_cache(maxsize=1)
def _relay() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in _injection_data()["relay"]["patterns"])


def asks_to_relay_a_discouragement(question: str) -> bool:
    """Whether the message tells people not to call 119 / 17 / 112 and asks for that to be written,
    relayed or displayed (`data/injection.toml` [relay])."""
    return discourages_emergency(question) and any(p.search(normalise(question)) for p in _relay())


@lru_cache(maxsize=1)
def _assembly() -> tuple[re.Pattern[str], tuple[re.Pattern[str], ...]]:
    data = _injection_data()["assembly"]
    return re.compile(data["pieces"]), tuple(re.compile(p) for p in data["whole"])


def asks_to_assemble(question: str, earlier_user_turns: list[str]) -> bool:
    """A number or a sentence given in pieces over earlier user turns, then asked back whole (see
    `data/injection.toml` [assembly])."""
    pieces, whole = _assembly()
    if not any(pieces.search(turn) for turn in earlier_user_turns):
        return False
    normalised = normalise(question)
    return any(p.search(normalised) for p in whole)


def is_injection(question: str) -> bool:
    """True when the question tries to change the instructions, extract the prompt or settings,
    or obtain personal data about a child or family (also when disguised)."""
    return injection_rule(question) is not None


def injection_rule(question: str) -> str | None:
    """The id of the first rule of `data/injection.toml` that the question (or a disguised reading of it)
    matches, None for a question."""
    texts = {normalise(text) for text in readings(question)}  # once each, not once per pattern
    for rule in injection_rules():
        if any(p.search(text) for text in texts for p in rule.patterns):
            return rule.id
    return None
