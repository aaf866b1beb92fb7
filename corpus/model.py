"""Typed output of the corpus stage: a Section per fiche / objective / part, made of Fields of Lines.

Every line keeps its 1-based line number in the raw source file, so any passage built from a
section can be traced back to the exact span of the original document.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Line:
    number: int  # 1-based line number in the raw source file
    text: str  # cleaned text


@dataclass(frozen=True, slots=True)
class Field:
    label: str  # "Public visé", "Le pilote", "" when the section has no labelled parts
    lines: tuple[Line, ...]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@dataclass(frozen=True, slots=True)
class Section:
    doc_id: str
    section_id: str  # f"{doc_id}/{slug}", stable across rebuilds
    source: str  # corpus path of the raw file, e.g. "corpus/sources/loire_fiches_actions_2017_2021.txt"
    kind: str  # "fiche" | "objectif" | "partie" | "glossaire" | "annexe" | "tableau" (a table's row) | "section"
    number: str | None  # fiche / action number as printed ("07", "n°32", "5.1.1")
    title: str
    start_line: int
    end_line: int
    fields: tuple[Field, ...]
    page: int | None = None
    territory: str | None = None
    public: str | None = None
    breadcrumb: tuple[str, ...] = field(default=())  # enclosing headings, outermost first

    @property
    def text(self) -> str:
        parts = []
        for fld in self.fields:
            body = fld.text
            label = fld.label.rstrip(" :")
            parts.append(f"{label} : {body}" if label else body)
        return "\n\n".join(parts)

    @property
    def display_title(self) -> str:
        return f"{self.number}. {self.title}" if self.number and self.kind == "fiche" else self.title
