"""Fallback for added documents: sections opened by headings (Markdown '#', « Fiche action n°N »,
numbered or upper-case title lines); the whole text is one section when no heading is found."""

from __future__ import annotations

import re

from corpus.clean import make_lines, slugify, squash
from corpus.model import Field, Section

_HEADINGS = (
    re.compile(r"^\s*#{1,4}\s+(\S.{1,150})$"),
    re.compile(
        r"^\s*((?:Fiche action|Fiche|Action|Article|Objectif|Partie|Chapitre)\s+(?:n°\s*)?\d+\b.{0,150})$", re.I
    ),
    re.compile(r"^\s*(\d{1,2}(?:\.\d{1,2}){0,2}[.)]?\s+[A-ZÉÈÀÂ][^.!?]{3,100})$"),
    re.compile(r"^\s*([A-ZÉÈÀÂÔÇ][A-ZÉÈÀÂÔÇ0-9 ,'’«»()-]{5,100})$"),
)


def heading(raw: str) -> str | None:
    for pattern in _HEADINGS:
        if m := pattern.match(raw):
            return squash(m.group(1)).strip("#* ")
    return None


def parse(
    text: str, doc_id: str, source: str, title: str, territory: str | None = None, pages: list[int] | None = None
) -> list[Section]:
    """Sections of a document; `pages[i]` is the page of line i+1 when the text came from a PDF."""
    raw_lines = text.splitlines()
    heads = [(i, h) for i, line in enumerate(raw_lines) if (h := heading(line))]
    if not heads or heads[0][0] > 0:
        heads.insert(0, (-1, title))
    sections: list[Section] = []
    seen: set[str] = set()
    for position, (index, name) in enumerate(heads):
        end = heads[position + 1][0] if position + 1 < len(heads) else len(raw_lines)
        lines = make_lines(raw_lines, index + 1, end)
        if not lines:
            continue
        section_id = f"{doc_id}/{slugify(name, 50)}"
        while section_id in seen:
            section_id += "-bis"
        seen.add(section_id)
        start = max(index, 0)
        sections.append(
            Section(
                doc_id=doc_id,
                section_id=section_id,
                source=source,
                kind="section",
                number=None,
                title=name,
                start_line=start + 1,
                end_line=lines[-1].number,
                fields=(Field("", tuple(lines)),),
                page=pages[start] if pages and start < len(pages) else None,
                territory=territory,
            )
        )
    return sections
