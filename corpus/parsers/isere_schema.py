"""Isère « Schéma en faveur de l'enfance et de la famille 2020-2024»: introduction parts, five strategic
objectives, 32 « Fiche action n°N » with fixed sub-headings, glossary -> one Section each.

Headings and pages come from the table of contents; running page headers are dropped and give pages.
"""

from __future__ import annotations

import re

from corpus.clean import fold, make_lines, merge_repeated_labels, slugify
from corpus.model import Field, Line, Section
from corpus.parsers.toc import consume_title, parse_toc

PAGE_HEADER = re.compile(
    r"^\s*Schéma en faveur de l.enfance et de la famille – Département de l.Isère - 2020-2024\s*(\d+)\s*$"
)
FIELD_LABELS = (
    "Les objectifs",
    "Les modalités de mise en œuvre",
    "Le pilote",
    "Les acteurs associés",
    "Le calendrier",
    "Les indicateurs d'évaluation",
)
_FICHE = re.compile(r"^\s*Fiche action n°\s*(\d+)\s*:?\s*(.*)$")
_OBJECTIVE = re.compile(r"^\s*Objectif stratégique n°\s*(\d+)\s*:?\s*(.*)$")
_PART = re.compile(r"^\s*Partie\s+(\d)\s*:")


_VARIANTS = {"Les pilotes": "Le pilote"}


def _label_of(raw: str) -> str | None:
    text = fold(raw).rstrip(" :")
    for label in (*FIELD_LABELS, *_VARIANTS):
        if text == fold(label):
            return _VARIANTS.get(label, label)
    return None


def _fields(raw_lines: list[str], start: int, end: int, skip: frozenset[int], labelled: bool) -> tuple[Field, ...]:
    if not labelled:
        return (Field("", tuple(make_lines(raw_lines, start, end, skip))),)
    fields: list[Field] = []
    label, lines = "", list[Line]()
    for index in range(start, end):
        found = _label_of(raw_lines[index])
        if found:
            fields.append(Field(label, tuple(lines)))
            label, lines = found, []
        else:
            lines.extend(make_lines(raw_lines, index, index + 1, skip))
    fields.append(Field(label, tuple(lines)))
    return tuple(merge_repeated_labels([f for f in fields if f.lines]))


def parse(text: str, doc_id: str, source: str) -> list[Section]:
    raw_lines = text.splitlines()
    headers = {i: int(m.group(1)) for i, line in enumerate(raw_lines) if (m := PAGE_HEADER.match(line))}
    skip = frozenset(headers)
    toc_start = next(i for i, line in enumerate(raw_lines) if fold(line) == "sommaire")
    # The table of contents lists "Introduction" too: the body starts at its second occurrence.
    body_start = [i for i in range(toc_start + 1, len(raw_lines)) if fold(raw_lines[i]) == "introduction"][1]
    toc = parse_toc(
        raw_lines,
        toc_start + 1,
        body_start,
        skip=re.compile(r"^(Schéma en faveur|Introduction$|Partie \d)"),
        entry_start=re.compile(r"^(Fiche action|Objectif stratégique|Glossaire)"),
    )
    pages = {fold(entry.title)[:40]: entry.page for entry in toc}
    fiche_pages = {int(m.group(1)): e.page for e in toc if (m := _FICHE.match(e.title))}
    objective_pages: dict[int, int | None] = {}
    for entry in toc:  # Partie 1 lists each objective with its page before Partie 2 lists it again
        if m := _OBJECTIVE.match(entry.title):
            objective_pages.setdefault(int(m.group(1)), entry.page)
    fiche_titles = {int(m.group(1)): m.group(2) for e in toc if (m := _FICHE.match(e.title))}
    objective_titles = {int(m.group(1)): m.group(2) for e in toc if (m := _OBJECTIVE.match(e.title))}
    intro_titles = [e for e in toc if not (_FICHE.match(e.title) or _OBJECTIVE.match(e.title) or _PART.match(e.title))]

    # (index, kind, number, title, labelled) for every heading that opens a section.
    heads: list[tuple[int, str, str | None, str, bool]] = []
    stops: list[int] = []  # headings that close a section without opening one
    part = 0
    for index in range(body_start, len(raw_lines)):
        line = raw_lines[index]
        if m := _PART.match(line):
            part = int(m.group(1))
            stops.append(index)
        elif m := _FICHE.match(line):
            num = int(m.group(1))
            heads.append((index, "fiche", str(num), fiche_titles.get(num, m.group(2)), True))
        elif m := _OBJECTIVE.match(line):
            num = int(m.group(1))
            title = f"Objectif stratégique n°{num} : {objective_titles.get(num, m.group(2))}"
            if part == 1:
                heads.append((index, "objectif", str(num), title, False))
            else:
                stops.append(index)
        elif fold(line) == "glossaire":
            heads.append((index, "glossaire", None, "Glossaire", False))
        elif part == 0:
            for entry in intro_titles:
                if fold(entry.title).startswith(fold(line)[:40]) and len(fold(line)) > 20:
                    heads.append((index, "partie", None, entry.title, False))

    # The editorial precedes the table of contents.
    editorial = next((i for i in range(toc_start) if fold(raw_lines[i]) == "editorial"), None)
    if editorial is not None:
        heads.insert(0, (editorial, "partie", None, "Éditorial", False))
        stops.append(toc_start)
    boundaries = sorted([h[0] for h in heads] + stops + [len(raw_lines)])
    sections: list[Section] = []
    for index, kind, number, title, labelled in heads:
        end = next(b for b in boundaries if b > index)
        body = consume_title(raw_lines, index, title if kind != "fiche" else f"Fiche action n°{number} : {title}")
        fields = _fields(raw_lines, body, end, skip, labelled)
        last = max((line.number for f in fields for line in f.lines), default=index + 1)
        if kind == "fiche":
            page = fiche_pages.get(int(number or 0))
        elif kind == "objectif":
            page = objective_pages.get(int(number or 0))
        else:
            page = pages.get(fold(title)[:40])
        page = page or _page_from_headers(headers, index)
        breadcrumb = (_objective_of(raw_lines, index, objective_titles),) if kind == "fiche" else ()
        sections.append(
            Section(
                doc_id=doc_id,
                section_id=f"{doc_id}/{kind}-{number}" if number else f"{doc_id}/{slugify(title)}",
                source=source,
                kind=kind,
                number=f"n°{number}" if kind == "fiche" else number,
                title=title,
                start_line=index + 1,
                end_line=last,
                fields=fields,
                page=page,
                territory="Isère",
                breadcrumb=tuple(b for b in breadcrumb if b),
            )
        )
    return sections


def _page_from_headers(headers: dict[int, int], index: int) -> int | None:
    before = [page for line, page in headers.items() if line < index]
    return before[-1] if before else None


def _objective_of(raw_lines: list[str], index: int, titles: dict[int, str]) -> str:
    for cursor in range(index, 0, -1):
        if m := _OBJECTIVE.match(raw_lines[cursor]):
            number = int(m.group(1))
            return f"Objectif stratégique n°{number} : {titles.get(number, m.group(2))}"
    return ""
