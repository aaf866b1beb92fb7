"""SMS spelling (pure): the forms families type (« jsuis », « pr », « bb ») written out, from
`assistant/data/sms.toml`. Two readers: the danger lexicon's normalised form of a message (which the danger
concepts and `asked.toml` read) and `understand.spelled_out` (what the retriever and the evidence checks read)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "sms.toml"
_NEVER = re.compile(r"(?!)")  # matches no word


@dataclass(frozen=True, slots=True)
class InContext:
    """A form that is a word only before certain words (« vs avez » -> « vous avez »; « AED vs AEMO » stays)."""

    form: str
    written: str
    before: re.Pattern[str]  # matches the whole next folded word
    examples: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class SmsForms:
    forms: dict[str, str]
    in_context: dict[str, InContext]
    # « lase », « lecole », « dheures »: an elided article or pronoun typed without its apostrophe, before a
    # word of the `[elided]` table
    elided: re.Pattern[str] = _NEVER

    def written(self, word: str, following: str) -> str:
        """A folded word written out, given the folded word after it ("" at the end); the word itself when it
        is no SMS form."""
        context = self.in_context.get(word)
        if context is not None:
            return context.written if context.before.fullmatch(following) else word
        if word not in self.forms and (glued := self.elided.fullmatch(word)):
            return f"{glued.group(1)} {glued.group(2)}"
        return self.forms.get(word, word)

    def known(self, word: str) -> bool:
        """Whether a folded word is an SMS form (written out by `written`)."""
        return word in self.forms or word in self.in_context or bool(self.elided.fullmatch(word))

    def expand(self, words: Sequence[str]) -> list[str]:
        """Folded words, each written out."""
        return [self.written(word, words[n + 1] if n + 1 < len(words) else "") for n, word in enumerate(words)]


@lru_cache(maxsize=1)
def sms_forms() -> SmsForms:
    data = tomllib.loads(DATA_FILE.read_text(encoding="utf-8"))
    forms = {str(k): str(v) for k, v in data.get("forms", {}).items()}
    in_context = {
        str(c["form"]): InContext(
            str(c["form"]),
            str(c["written"]),
            re.compile(str(c["before"])),
            tuple((str(a), str(b)) for a, b in c.get("examples", [])),
        )
        for c in data.get("in_context", [])
    }
    table = data.get("elided", {})
    elided = re.compile(rf"({'|'.join(table['prefixes'])})({'|'.join(table['words'])})") if table else _NEVER
    return SmsForms(forms, in_context, elided)
