"""Follow-up questions: history + short question -> a standalone query for retrieval.

« et à Firminy ? » after « un groupe de parents à Roanne » becomes « un groupe de parents à Firminy ».
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.analyze import Analyzer

_FOLLOW_UP = re.compile(
    r"^\s*(et|mais|ok|d accord|alors|aussi|sinon|c est|ca|ça|il|elle|ils|elles|y a|pour|a|à|au|aux)\b", re.I
)


@dataclass(frozen=True, slots=True)
class Turn:
    role: str  # "user" | "assistant"
    text: str


def rewrite_query(question: str, history: Sequence[Turn], analyzer: Analyzer) -> str:
    """The question itself when it stands alone, else the previous question completed by it."""
    previous = next((t.text for t in reversed(history) if t.role == "user"), None)
    if previous is None:
        return question
    own_tokens = analyzer.tokens(question)
    if len(own_tokens) > 3 and not _FOLLOW_UP.match(question):
        return question
    new_places = analyzer.gazetteer.find(question)
    base = previous
    if new_places:  # "et à Firminy ?" replaces the place of the previous question
        for place in analyzer.gazetteer.find(previous):
            pattern = r"[\s\-']+".join(re.escape(word) for word in place.matched.split())
            base = re.sub(pattern, " ", base, flags=re.IGNORECASE)
    return " ".join(f"{base} {question}".split())
