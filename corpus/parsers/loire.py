"""Loire « Fiches actions recensées » (bilan du schéma 2017-2021): 107 fiches « NN. Titre » with
fixed fields (Objectifs, Territoire, ..., Services départementaux) -> one Section per fiche."""

from __future__ import annotations

import re

from corpus.clean import fold, join_wrapped, make_lines, merge_repeated_labels
from corpus.model import Field, Line, Section
from corpus.parsers.labels import LabelMatch, match_label

FIELD_LABELS = (
    "Objectifs",
    "Territoire",
    "Type d'action",
    "Suivi",
    "Public visé",
    "Contenu et objectifs de l'action",
    "Pilotage",
    "Partenaires",
    "Ressources et moyens mobilisés",
    "Financements",
    "Évaluation de l'action",
    "Services départementaux",
)
# Other wordings some fiches use for a field: variant -> canonical label.
# « Suivi de l'action » (left empty in fiche 41) is the « Suivi » label, not « Suivi » with « de l'action » as
# the action's status: variants are tried first.
_VARIANTS = {"Contenu de l'action": "Contenu et objectifs de l'action", "Suivi de l'action": "Suivi"}
# Labels that a page break may repeat inside their own field.
_REPEATABLE = frozenset(FIELD_LABELS[5:])
_FICHE_START = re.compile(r"^\s*(\d{2,3})\.\s+(\S.*)$")


def _is_body_start(raw_lines: list[str], index: int) -> bool:
    """A fiche heading (not a table-of-contents entry) is followed shortly by its 'Objectifs' field."""
    seen = 0
    for cursor in range(index + 1, min(index + 14, len(raw_lines))):
        line = raw_lines[cursor]
        if not line.strip():
            continue
        if fold(line).startswith("objectifs"):
            return True
        if _FICHE_START.match(line):
            return False
        seen += 1
        if seen > 3:
            return False
    return False


def _split_fields(raw_lines: list[str], start: int, end: int) -> list[Field]:
    fields: list[Field] = []
    label_index = -1
    label, lines = "", list[Line]()
    index = start
    while index < end:
        found = None
        for candidate in (*_VARIANTS, *FIELD_LABELS):
            canonical = _VARIANTS.get(candidate, candidate)
            candidate_index = FIELD_LABELS.index(canonical)
            if candidate_index < label_index or (candidate_index == label_index and canonical not in _REPEATABLE):
                continue
            found = match_label(raw_lines, index, candidate)
            if found:
                found = LabelMatch(canonical, found.consumed, found.value)
                label_index = candidate_index
                break
        if found:
            fields.append(Field(label, tuple(lines)))
            label, lines = found.label, []
            if found.value:
                lines.append(Line(index + found.consumed, found.value))
            index += found.consumed
            continue
        lines.extend(make_lines(raw_lines, index, index + 1))
        index += 1
    fields.append(Field(label, tuple(lines)))
    return merge_repeated_labels([f for f in fields if f.label or f.lines])


def parse(text: str, doc_id: str, source: str) -> list[Section]:
    raw_lines = text.splitlines()
    starts = [i for i, line in enumerate(raw_lines) if _FICHE_START.match(line) and _is_body_start(raw_lines, i)]
    sections: list[Section] = []
    for position, start in enumerate(starts):
        end = starts[position + 1] if position + 1 < len(starts) else len(raw_lines)
        match = _FICHE_START.match(raw_lines[start])
        assert match is not None
        number = match.group(1)
        title_lines, cursor = [match.group(2)], start + 1
        while cursor < end and not fold(raw_lines[cursor]).startswith("objectifs"):
            if raw_lines[cursor].strip():
                title_lines.append(raw_lines[cursor])
            cursor += 1
        fields = _split_fields(raw_lines, cursor, end)
        values = {f.label: " ".join(line.text for line in f.lines) for f in fields}
        last = max((line.number for f in fields for line in f.lines), default=start + 1)
        title = join_wrapped(title_lines)
        sections.append(
            Section(
                doc_id=doc_id,
                section_id=f"{doc_id}/fiche-{number}",
                source=source,
                kind="fiche",
                number=number,
                title=title,
                start_line=start + 1,
                end_line=last,
                fields=tuple(fields),
                territory=values.get("Territoire") or None,
                public=values.get("Public visé") or None,
                breadcrumb=(),
            )
        )
    return sections
