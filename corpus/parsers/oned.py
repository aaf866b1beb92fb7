"""ONED « fiche action » (accueils de jour La Clef, Isère): one fiche whose form fields are
sub-headings on their own line, grouped under upper-case part headings -> one Section."""

from __future__ import annotations

import re

from corpus.clean import fold, join_wrapped, make_lines, squash, undouble
from corpus.model import Field, Line, Section

# The ONED collection form: these headings open a field (matched on the start of the folded line).
FORM_LABELS = (
    "Intitulé, ancienneté et lieu d'implantation",
    "Service gérant l'action",
    "Personne à contacter",
    "Echelle de l'action",
    "Cadre juridique",
    "Financement",
    "Critères ayant motivé le projet",
    "Personne(s) à l'initiative du projet",
    "Références à un projet du même type",
    "Références théoriques",
    "Public visé",
    "Moyens en personnels",
    "Objectifs du projet",
    "Date de début du projet",
    "Date de démarrage de l'action",
    "Description de l'action effective",
    "Professionnels participant à l'action",
    "Implication des professionnels",
    "Implication de la hiérarchie",
    "Temps et modalités de régulation",
    "Modalités d'entrée en contact avec le public",
    "Implication des usagers",
    "Amplitude d'ouverture et d'accueil des usagers",
    "Modalités pour faire connaître le dispositif",
    "Place de l'action par rapport au système",
    "Autre projet actuel",
    "L'action a-t-elle fait l'objet d'une évaluation",
    "Autres modalités de régulation de l'action",
    "Modalités d'analyse de la structure",
)
_FOOTER = re.compile(r"^\s*(Oned – .*|mailto:\S+)\s*$")
_PART = re.compile(r"^\s*[A-ZÉÈÀÂÔ’' ]{8,}(?:\(.*)?$")


def _label(raw: str) -> str | None:
    text = fold(raw)
    if len(text) > 110:
        return None
    for label in FORM_LABELS:
        if text.startswith(fold(label)):
            return undouble(squash(raw).rstrip(" :"))
    return None


def parse(text: str, doc_id: str, source: str, territory: str | None = None) -> list[Section]:
    raw_lines = text.splitlines()
    skip = set()
    for index, line in enumerate(raw_lines):
        if _FOOTER.match(line):
            skip.add(index)
            if index + 1 < len(raw_lines) and re.fullmatch(r"\s*\d{1,3}\s*", raw_lines[index + 1]):
                skip.add(index + 1)
    first_part = next(
        i for i, line in enumerate(raw_lines) if _PART.match(line) and fold(line).startswith("presentation")
    )
    title = join_wrapped(
        [squash(line) for line in raw_lines[:first_part] if squash(line) and not fold(line).startswith("dep.")]
    )
    fields: list[Field] = []
    label, lines = "", list[Line]()
    part = ""
    for index in range(first_part, len(raw_lines)):
        if index in skip:
            continue
        raw = raw_lines[index]
        found = _label(raw)
        if _PART.match(raw) and not found:
            part = squash(raw).rstrip(" :").capitalize()
            fields.append(Field(label, tuple(lines)))
            label, lines = part, []
            continue
        if found:
            fields.append(Field(label, tuple(lines)))
            label, lines = found, []
            continue
        lines.extend(make_lines(raw_lines, index, index + 1))
    fields.append(Field(label, tuple(lines)))
    fields = [f for f in fields if f.lines]
    last = max(line.number for f in fields for line in f.lines)
    return [
        Section(
            doc_id=doc_id,
            section_id=f"{doc_id}/fiche",
            source=source,
            kind="fiche",
            number=None,
            title=f"{title} – accueils de jour" if title else "Fiche ONED",
            start_line=1,
            end_line=last,
            fields=tuple(fields),
            territory=territory,
        )
    ]
