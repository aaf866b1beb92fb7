"""Grounded extractive composer (pure): retrieved sections -> the sentences that answer the question,
grouped per section, each tied to the numbered passage it comes from. No word is generated."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from assistant.citations import CONTACT_PATTERNS
from corpus.clean import fold
from prompts.render import Profile
from retrieval.analyze import Analyzer, Query
from retrieval.retrieve import Passage, SectionHit

_UNIT_SPLIT = re.compile(r"(?<=[.!?;])\s+(?=[A-ZÀ-Ý«\-])|\n(?=- )|\n(?=[A-ZÀ-Ý][^\n]{0,60} : )")


@dataclass(frozen=True, slots=True)
class Unit:
    text: str
    passage: Passage
    field: str
    score: float
    order: int


@dataclass(frozen=True, slots=True)
class SectionAnswer:
    hit: SectionHit
    units: tuple[Unit, ...]


MAX_UNIT_CHARS = 320
# Fields already shown in a section's heading line, or bookkeeping: not worth a sentence of their own.
HEADER_FIELDS = frozenset({"Territoire", "Public visé", "Type d'action", "Suivi", "Services départementaux"})


def split_lines(text: str) -> list[str]:
    """One unit per line: glossaries and lists, where each line is an entry."""
    return [u for u in (" ".join(line.split()) for line in text.splitlines()) if u]


def split_units(text: str) -> list[str]:
    """Sentences and bullet items of a passage, PDF line breaks inside them joined; run-on table text
    (no sentence ends) is cut at line breaks into pieces of about MAX_UNIT_CHARS."""
    units = []
    for raw in _UNIT_SPLIT.split(text):
        pieces = [raw] if len(raw) <= MAX_UNIT_CHARS else _cut(raw)
        for piece in pieces:
            unit = " ".join(piece.split())
            unit = unit[2:] if unit.startswith("- ") else unit
            unit = re.sub(
                r"^([^:]{2,80}) : - ", r"\1 : ", unit
            )  # "Objectifs : - Accompagner" -> "Objectifs : Accompagner"
            if unit:
                units.append(unit)
    return units


def _cut(text: str) -> list[str]:
    pieces, current = [], ""
    for line in text.split("\n"):
        if current and len(current) + len(line) > MAX_UNIT_CHARS:
            pieces.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        pieces.append(current)
    return pieces


def has_contact(text: str) -> bool:
    return any(p.search(text) for p in CONTACT_PATTERNS.values())


def _field_of(unit: str, passage: Passage) -> str:
    label = unit.split(" : ", 1)[0] if " : " in unit[:70] else ""
    return label or passage.field


def score_unit(
    unit: str, field: str, query: Query, analyzer: Analyzer, profile: Profile, idf: Mapping[str, float]
) -> float:
    """Question words in the unit (rare words count more; expansions half), preferred fields, contacts."""
    tokens = set(analyzer.tokens(unit))
    default = max(idf.values(), default=1.0)
    score = sum(idf.get(t, default) for t in set(query.tokens) if t in tokens)
    score += sum(0.5 * idf.get(t, default) for t in set(query.expansions) if t in tokens)
    if field in profile.preferred_fields:
        score += (
            0.5
            * (len(profile.preferred_fields) - profile.preferred_fields.index(field))
            / len(profile.preferred_fields)
        )
    if profile.contact_first and has_contact(unit):
        score += 1.0
    return score


def _similar(a: str, b: str) -> bool:
    wa, wb = set(a.lower().split()), set(b.lower().split())
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) > 0.7


def contact_units(hit: SectionHit, passages: Sequence[Passage], limit: int = 3) -> list[Unit]:
    """Contact details (phone, e-mail, address, hours) found anywhere in a section, in document order."""
    found: list[Unit] = []
    for order, passage in enumerate(passages):
        for unit in split_units(passage.text):
            if has_contact(unit) and all(not _similar(unit, u.text) for u in found):
                found.append(Unit(unit, passage, _field_of(unit, passage), 1.0, order))
                if len(found) >= limit:
                    return found
    return found


def compose(
    hits: Sequence[SectionHit],
    query: Query,
    analyzer: Analyzer,
    profile: Profile,
    idf: Mapping[str, float],
    top_passages: Sequence[Passage] = (),
) -> list[SectionAnswer]:
    """For each of the best sections, its best units (question words, preferred fields, contacts).

    `top_passages`, when given, are all the passages of the best section: its answer may come from
    any part of the fiche, not only from the passages that ranked it first."""
    if not hits:
        return []
    top = hits[0].score
    chosen: list[SectionAnswer] = []
    kept_texts: list[str] = []
    budget = profile.max_sentences
    for hit in hits[: profile.max_sections]:
        if hit.score < profile.min_relative_score * top or budget <= 0:
            break
        candidates: list[Unit] = []
        order = 0
        glossary = hit.kind == "glossaire"
        best_ids = {p.chunk_id for p in hit.passages[: profile.best_passages]}
        for passage in top_passages if (hit is hits[0] and top_passages) else hit.passages:
            for unit in split_lines(passage.text) if glossary else split_units(passage.text):
                order += 1
                if glossary and query.acronyms and fold(unit.split(" ", 1)[0]).strip(":") not in query.acronyms:
                    continue  # in a glossary, only the entries of the acronyms asked about
                field = _field_of(unit, passage)
                if field in HEADER_FIELDS or (len(unit.split()) < 3 and not has_contact(unit)):
                    continue
                score = score_unit(unit, field, query, analyzer, profile, idf)
                if passage.chunk_id in best_ids and not glossary:
                    score += profile.best_passage_bonus  # retrieval's best passage is most often the answer
                candidates.append(Unit(unit, passage, field, score, order))
        best: list[Unit] = []
        per_field: dict[str, int] = {}
        # The best fiche is summarised more fully (its fields are the answer); the others briefly.
        limit = profile.top_section_sentences if hit is hits[0] else profile.sentences_per_section
        for candidate in sorted(candidates, key=lambda u: (-u.score, u.order)):
            if len(best) >= min(limit, budget):
                break
            if candidate.score <= 0 or any(_similar(candidate.text, seen) for seen in kept_texts):
                continue
            if per_field.get(candidate.field, 0) >= profile.units_per_field:
                continue
            per_field[candidate.field] = per_field.get(candidate.field, 0) + 1
            best.append(candidate)
            kept_texts.append(candidate.text)
        if best:
            budget -= len(best)
            chosen.append(SectionAnswer(hit, tuple(sorted(best, key=lambda u: u.order))))
    return chosen
