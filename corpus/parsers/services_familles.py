"""Isère « Schéma départemental des services aux familles » (2016-2018): parts « – II – » … « – VII – »,
numbered sub-parts (« 5.1.1 – Orientation stratégique n° 1 »), annexes (glossary, instances, the
flattened action-plan table split per orientation) -> one Section each. The instances' table of annex 2
gives one Section per instance (kind « tableau », its name over « Missions Composition Fonctionnement », the
annex in its breadcrumb) whose cells stay apart (one field per block of lines between blank lines: a cell
never runs into the next)."""

from __future__ import annotations

import re

from corpus.clean import fold, is_page_number, join_wrapped, make_lines, slugify, squash
from corpus.model import Field, Section

_PART = re.compile(r"^\s*–\s*([IVX]+)\s*–\s*$")
_SUBPART = re.compile(r"^\s*(\d\.\d(?:\.\d)?)\s*–\s*(.*\S)\s*$")
_ANNEX = re.compile(r"^\s*Annexe\s+(\d+)\s*$")
_TABLE = re.compile(r"^\s*TABLEAU DES ORIENTATIONS STRATÉGIQUES")
_TABLE_BLOCK = re.compile(r"^\s*Orientations\s*$")
_ORIENTATION_HEADING = re.compile(r"^\s*5\.1\.(\d)\s*–\s*Orientation stratégique")
_CONTEXT = re.compile(r"^\s*Contexte et enjeux pour une\s*$")
_AGREED = re.compile(r"^\s*Il est convenu et arrêté ce qui suit")
NAME_LINES = 3  # an instance's name wraps over at most this many lines
_COLUMNS = re.compile(r"^\s*Missions\s+Composition\s+Fonctionnement\s*$")  # an instance's table header
# A heading over a group of instances (« PETITE ENFANCE », « SOUTIEN À LA PARENTALITÉ »): capitals only.
_GROUP = re.compile(r"^[^a-zà-ÿ]*[A-ZÀ-Ý]{3}[^a-zà-ÿ]*$")


def _short_title(raw_lines: list[str], start: int, limit: int = 4, width: int = 45) -> tuple[str, int]:
    """Title made of the short lines after a heading marker (blank lines allowed between them)."""
    parts: list[str] = []
    cursor = start
    while cursor < len(raw_lines) and len(parts) < limit:
        text = squash(raw_lines[cursor])
        if text:
            if len(text) > width or _SUBPART.match(text):
                break
            parts.append(text)
        cursor += 1
    return join_wrapped(parts), cursor


def _paragraph(raw_lines: list[str], start: int, limit: int = 3) -> tuple[str, int]:
    """The first paragraph at or after `start` (skipping blank lines), at most `limit` lines."""
    cursor = start
    while cursor < len(raw_lines) and not raw_lines[cursor].strip():
        cursor += 1
    parts: list[str] = []
    while cursor < len(raw_lines) and raw_lines[cursor].strip() and len(parts) < limit:
        parts.append(raw_lines[cursor])
        cursor += 1
    return join_wrapped(parts), cursor


def _lowercase_continuation(raw_lines: list[str], start: int) -> tuple[str, int]:
    """Lines directly below a heading that continue it (they start in lower case)."""
    parts: list[str] = []
    cursor = start
    while cursor < len(raw_lines) and (text := squash(raw_lines[cursor])) and text[0].islower():
        parts.append(text)
        cursor += 1
    return join_wrapped(parts), cursor


def _orientation_titles(raw_lines: list[str]) -> dict[int, str]:
    """Orientation wording from the « 5.1.N – Orientation stratégique n° N : » headings."""
    titles: dict[int, str] = {}
    for index, line in enumerate(raw_lines):
        if m := _ORIENTATION_HEADING.match(line):
            title, _ = _paragraph(raw_lines, index + 1)
            titles[int(m.group(1))] = title.strip("«» ")
    return titles


def _block_orientation(raw_lines: list[str], start: int, end: int, titles: dict[int, str]) -> int | None:
    """Which orientation a block of the flattened action-plan table belongs to (best word overlap)."""
    header = next((i for i in range(start, end) if "calendrier" in fold(raw_lines[i])), start)
    column = [squash(line) for line in raw_lines[header + 1 : end] if squash(line)][:10]
    words = set(fold(" ".join(column)).split())
    scored = [(len(words & set(fold(title).split())), number) for number, title in titles.items()]
    best = max(scored, default=(0, None))
    return best[1] if best[0] >= 3 else None


def _blocks(raw_lines: list[str], start: int, end: int, skip: frozenset[int]) -> list[Field]:
    """The lines of raw_lines[start:end], one unlabelled field per run of lines between blank lines (a
    table's cells, flattened by the text extraction, stay apart)."""
    fields: list[Field] = []
    cursor = start
    while cursor < end:
        while cursor < end and not raw_lines[cursor].strip():
            cursor += 1
        stop = cursor
        while stop < end and raw_lines[stop].strip():
            stop += 1
        if lines := make_lines(raw_lines, cursor, stop, skip):
            fields.append(Field("", tuple(lines)))
        cursor = stop
    return fields


def _instances(raw_lines: list[str], start: int, end: int) -> list[tuple[int, int, str]]:
    """(start, body start, name) of each instance in an annex's table: its name is the lines over its
    « Missions Composition Fonctionnement » header, back to a blank line or a group heading (which the
    instance starts with, so that the instance before ends above it)."""
    found: list[tuple[int, int, str]] = []
    for index in range(start, end):
        if not _COLUMNS.match(raw_lines[index]):
            continue
        top = index
        while top > start and not raw_lines[top - 1].strip():
            top -= 1  # the name may stand a blank line above the header
        cursor = top
        while cursor > max(start, top - NAME_LINES) and raw_lines[cursor - 1].strip():
            if _GROUP.match(raw_lines[cursor - 1]):
                break
            cursor -= 1
            if raw_lines[cursor][:1].isspace():
                break  # a line indented by a page break starts the name; above it is the last cell
        name = join_wrapped([squash(line) for line in raw_lines[cursor:top]])
        if name:
            above = cursor
            while above > start and not raw_lines[above - 1].strip():
                above -= 1
            above = above - 1 if above > start and _GROUP.match(raw_lines[above - 1]) else cursor
            found.append((above, index + 1, name))  # a group heading over the name ends the instance before
    return found


def parse(text: str, doc_id: str, source: str) -> list[Section]:
    raw_lines = text.splitlines()
    skip = frozenset(i for i, line in enumerate(raw_lines) if is_page_number(line))
    orientations = _orientation_titles(raw_lines)
    # (index, body_start, kind, number, title)
    heads: list[tuple[int, int, str, str | None, str]] = [(0, 0, "partie", None, "Signataires du schéma")]
    part, in_table = "", False
    for index, line in enumerate(raw_lines):
        if _AGREED.match(line):
            heads.append((index + 1, index + 1, "partie", None, "Préambule"))
        elif _CONTEXT.match(line):
            title, body = _short_title(raw_lines, index)
            heads.append((index, body, "partie", "I", f"I – {title}"))
        elif m := _PART.match(line):
            part = m.group(1)
            title, body = _short_title(raw_lines, index + 1)
            heads.append((index, body, "partie", part, f"{part} – {title}"))
        elif m := _SUBPART.match(line):
            title = squash(m.group(2))
            # "5.1.1 – Orientation stratégique n° 1 :" carries its wording in the next paragraph.
            if title.endswith(":"):
                extra, body = _paragraph(raw_lines, index + 1)
                title = f"{title.rstrip(' :')} : {extra}"
            else:
                extra, body = _lowercase_continuation(raw_lines, index + 1)
                title = join_wrapped([title, extra])
            heads.append((index, body, "partie", m.group(1), f"{m.group(1)} – {title}"))
        elif m := _ANNEX.match(line):
            in_table = False
            first, body = _paragraph(raw_lines, index + 1, limit=1)
            extra, body = _lowercase_continuation(raw_lines, body)
            heads.append((index, body, "annexe", m.group(1), f"Annexe {m.group(1)} – {join_wrapped([first, extra])}"))
        elif _TABLE.match(line):
            in_table = True
            heads.append(
                (
                    index,
                    index + 1,
                    "annexe",
                    "3",
                    "Annexe 3 – Tableau des orientations stratégiques et du plan d'actions",
                )
            )
        elif in_table and _TABLE_BLOCK.match(line):
            heads.append((index, index, "annexe", None, "Plan d'actions"))

    boundaries = [h[0] for h in heads[1:]] + [len(raw_lines)]
    # (heading, end, the annex a table's row is in: its text is cells)
    rows: list[tuple[tuple[int, int, str, str | None, str], int, str]] = []
    for head, end in zip(heads, boundaries, strict=True):
        index, body, kind, number, title = head
        instances = _instances(raw_lines, body, end) if kind == "annexe" else []
        if not instances:
            rows.append((head, end, ""))
            continue
        # The annex's own text (its title, a group heading) before the first instance is not a section.
        ends = [start for start, _, _ in instances[1:]] + [end]
        for (start, inner, name), stop in zip(instances, ends, strict=True):
            rows.append(((start, inner, "tableau", number, name), stop, title))

    sections: list[Section] = []
    seen: set[str] = set()
    for (index, body, kind, number, title), end, table in rows:
        lines = make_lines(raw_lines, body, end, skip)
        if not lines:  # a heading with no text of its own (e.g. an annex whose table was an image)
            continue
        if title == "Plan d'actions":
            orientation = _block_orientation(raw_lines, index, end, orientations)
            if orientation is not None:
                title = f"Plan d'actions – orientation stratégique n°{orientation} : {orientations[orientation]}"
                number = f"3-{orientation}"
            else:
                number = f"3-{index + 1}"
        if fold(title).startswith("annexe 1"):
            kind = "glossaire"
        section_id = f"{doc_id}/{slugify(title, 50)}"
        while section_id in seen:
            section_id += "-bis"
        seen.add(section_id)
        sections.append(
            Section(
                doc_id=doc_id,
                section_id=section_id,
                source=source,
                kind=kind,
                number=number,
                title=title,
                start_line=index + 1,
                end_line=lines[-1].number,
                fields=tuple(_blocks(raw_lines, body, end, skip)) if table else (Field("", tuple(lines)),),
                territory="Isère",
                breadcrumb=(table,) if table else (),
            )
        )
    return sections
