"""Answer text -> safe display segments (pure): [n] markers become links to the cited passage,
everything else stays text that the templates escape. No HTML from answers ever reaches the page."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answer import Answer
from assistant.citations import Citation

_MARKER = re.compile(r"\[(\d{1,3})\]")


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    citation: Citation | None = None


@dataclass(frozen=True, slots=True)
class Block:
    kind: str  # "emergency" | "text"
    lines: tuple[tuple[Segment, ...], ...]


def segments(line: str, citations: dict[int, Citation]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    position = 0
    for match in _MARKER.finditer(line):
        citation = citations.get(int(match.group(1)))
        if citation is None:
            continue
        if match.start() > position:
            out.append(Segment(line[position : match.start()]))
        out.append(Segment(match.group(0), citation))
        position = match.end()
    if position < len(line):
        out.append(Segment(line[position:]))
    return tuple(out)


def blocks(answer: Answer) -> list[Block]:
    """The answer body (without its sources list), the emergency block apart."""
    body = answer.text.split("\nSources :\n")[0].rstrip()
    by_n = {c.n: c for c in answer.citations}
    paragraphs = body.split("\n\n")
    result: list[Block] = []
    for index, paragraph in enumerate(paragraphs):
        kind = "emergency" if index == 0 and answer.emergency and paragraph.startswith("⚠️") else "text"
        result.append(Block(kind, tuple(segments(line, by_n) for line in paragraph.splitlines())))
    return result


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
