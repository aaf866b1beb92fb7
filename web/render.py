"""Answer blocks -> safe display segments (pure): [n] markers become links to the cited passage,
everything else stays text that the templates escape. No HTML from answers ever reaches the page, and
no answer text is parsed back: the page renders the answer's blocks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.blocks import Cited
from assistant.citations import CONTACT_PATTERNS, Citation
from assistant.reply import Answer

_MARKER = re.compile(r"\[(\d{1,3})\]")


# What a phone can dial or write to: the national numbers where the text says to call them (« le 119 »,
# « le 17 », never « 17 ans »), French phone numbers and e-mail addresses.
_NATIONAL = re.compile(r"(?<=\ble |\bau )(119|17|112|15|114|115|3919)\b")
_REACHABLE = re.compile(f"{_NATIONAL.pattern}|{CONTACT_PATTERNS['phone'].pattern}|{CONTACT_PATTERNS['email'].pattern}")


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    citation: Citation | None = None
    href: str = ""  # tel: or mailto: link


def segments(line: str, citations: dict[int, Citation]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    position = 0
    for match in _MARKER.finditer(line):
        citation = citations.get(int(match.group(1)))
        if citation is None:
            continue
        if match.start() > position:
            out.extend(reachable(line[position : match.start()]))
        out.append(Segment(match.group(0), citation))
        position = match.end()
    if position < len(line):
        out.extend(reachable(line[position:]))
    return tuple(out)


def reachable(text: str) -> list[Segment]:
    """Text with its phone numbers and e-mail addresses as tappable links (tel:, mailto:)."""
    out: list[Segment] = []
    position = 0
    for match in _REACHABLE.finditer(text):
        if match.start() > position:
            out.append(Segment(text[position : match.start()]))
        value = match.group(0)
        href = f"mailto:{value}" if "@" in value else "tel:" + re.sub(r"[^\d+]", "", value)
        out.append(Segment(value, href=href))
        position = match.end()
    if position < len(text):
        out.append(Segment(text[position:]))
    return out


class Segmenter:
    """Text of an answer's blocks -> segments, its [n] markers tied to the answer's citations."""

    def __init__(self, answer: Answer) -> None:
        self.by_n = {c.n: c for c in answer.citations}

    def lines(self, text: str) -> list[tuple[Segment, ...]]:
        """Prose (the emergency block, a notice, a refusal, a model's answer): one entry per line."""
        return [segments(line, self.by_n) for line in text.splitlines() if line.strip()]

    def cited(self, item: Cited) -> tuple[Segment, ...]:
        """A quoted sentence, then its [n] links, then its note (« coordonnées de 2009, à vérifier »)."""
        out = reachable(item.text)
        for n in item.n:
            if n in self.by_n:
                out += [Segment(" "), Segment(f"[{n}]", self.by_n[n])]
        if item.note:
            out.append(Segment(f" ({item.note})"))
        return tuple(out)


def passage_link(citation: Citation) -> str:
    return f"/sources/{citation.section_id}?l={citation.start_line}-{citation.end_line}#passage"


@dataclass(frozen=True, slots=True)
class SourceGroup:
    fiche: str
    document: str
    page: int | None
    territory: str | None
    citations: tuple[Citation, ...]


def grouped_sources(answer: Answer) -> list[SourceGroup]:
    """One entry per cited fiche (in order of first citation), with its passages' [n] links."""
    groups: dict[str, list[Citation]] = {}
    for citation in answer.citations:
        groups.setdefault(citation.section_id, []).append(citation)
    return [SourceGroup(cs[0].fiche, cs[0].document, cs[0].page, cs[0].territory, tuple(cs)) for cs in groups.values()]
