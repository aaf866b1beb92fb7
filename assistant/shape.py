"""The shape of an extractive answer (pure): scored sentences of the best sections -> the lead (the
sentence most likely to hold what was asked) and a few cards (one per fiche, its best sentences).

The selection model (`assistant/compose.py`, weights fitted by `python -m evals.tune_answers`) gives
each sentence the probability that it holds an expected fact. The lead is the most probable sentence,
or, when the question asks for the pilot, a contact or hours, the best sentence of that field in the
best fiche (the one of the service the question names, when the fiche gives several); when it asks for
another datum (an amount, a delay, a figure), a sentence of the lead's fiche that holds one, if it is
nearly as likely. The likeliest sentence of all is said after the lead when a field, a datum or its length
kept it from leading. A card keeps the sentences whose probability is close enough to the lead's, within the
audience's word budget, and the items next to a list item it says; a numbered sequence (« 1ère partie… »,
« Phase 2… ») one of whose parts is said is said whole, its first part leading; a fiche with none is left out. A
lead's length is counted without its asides in parentheses."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.citations import has_contact
from assistant.compose import Budget, Candidate, Selection, field_group, in_context, numbered_part, redundant
from assistant.fiche import asked_form, glossary_term, names_asked, points_back
from retrieval.retrieve import SectionHit

# What the question asks (assistant/data/asked.toml) -> the field group whose sentence leads the answer.
LEAD_WORDS = 35  # a lead longer than this many words counts as less likely, in proportion
GLOSSARY_LEADS = frozenset({"definition", "difference", "general"})  # what a glossary line may lead
LEAD_FIELDS = {
    "who_pilots": ("pilot",),
    "partners": ("partners",),
    "contact": ("contact",),
    "hours_address": ("contact",),
    "when": ("calendar",),
}
# « ça coûte combien ? », « en combien de temps ? »: when the lead holds no datum of the kind asked, the best
# sentence of its fiche that holds one leads instead, if the model gives it at least this share of the lead's
# probability. Chosen at stop 27 on the development sets and the check set (0.4-0.8 within 0.01 of each
# other; 0.6: professionals' lead fact 0.747 -> 0.766 on the check set, families' 0.696 -> 0.703).
DATUM_LEAD_SHARE = 0.6
# An item of a list next to one the answer says is said too when the model gives it at least this share of the
# audience's floor, beyond the card's line limit: a list is read whole (« 1ère partie… 2ème partie… »), not cut
# after its likeliest item. Chosen at stop 32 on the development sets and the check set (0: professionals'
# precision −0.014; 1.0: no change; 0.5: families' recall +0.007, professionals' +0.002, precision −0.005).
SIBLING_SHARE = 0.5
MAX_PARTS = 8  # a numbered sequence of at most this many parts is said whole
SEQUENCE_WORDS = 80  # when its other parts hold at most this many words
BARE_ITEM_WORDS = 6  # a list item shorter than this names a thing; it leads only when nothing said is near as likely
BARE_ITEM_SHARE = 0.5  # …as this share of its probability


@dataclass(frozen=True, slots=True)
class Scored:
    candidate: Candidate
    probability: float


@dataclass(frozen=True, slots=True)
class Shape:
    lead: Scored | None
    cards: tuple[tuple[SectionHit, tuple[Scored, ...]], ...]  # in order: the lead's fiche first


def score(found: Sequence[Candidate], selection: Selection, audience: str) -> list[Scored]:
    if not found:
        return []
    found = in_context(found, selection.vector(audience))
    rows = np.array([c.features for c in found], dtype=np.float64)
    probabilities = selection.probabilities(audience, rows)
    return [Scored(c, float(p)) for c, p in zip(found, probabilities.tolist(), strict=True)]


def shape(
    hits: Sequence[SectionHit],
    scored: Sequence[Scored],
    budget: Budget,
    max_sections: int,
    asked: str = "general",
    datum: Sequence[re.Pattern[str]] = (),
    question: str = "",
    defined: frozenset[str] = frozenset(),
) -> Shape:
    """Lead and cards within the budget (words of quoted sentences, lines per card), at most
    `max_sections` cards. `datum`: what the answer to the question looks like (a phone number, hours),
    which the lead should hold when the question asks for a contact or hours. `defined`: the acronyms whose
    meaning is asked (« que signifient TISF, MECS et ODPE ? »): a glossary line for each is said."""
    if not scored:
        return Shape(None, ())
    ranked = sorted(scored, key=lambda s: (-s.probability, s.candidate.section, s.candidate.unit.order))
    # The lead is read first: of sentences about as likely, the shorter one (a long one is discounted).
    # A glossary line (« TISF Technicienne… ») answers what a word means, not how many hours or who pilots.
    leads = [s for s in ranked if asked in GLOSSARY_LEADS or hits[s.candidate.section].kind != "glossaire"]
    # A list item of a few words (« Activités favorisant le lien enfant-parent ») names a thing without saying
    # anything of it: a sentence about as likely leads instead, the item goes to the card.
    pool = leads or ranked
    said_something = [s for s in pool if not _bare_item(s)]
    top = max(s.probability for s in pool)
    if said_something and max(s.probability for s in said_something) >= BARE_ITEM_SHARE * top:
        pool = said_something
    lead = likeliest = max(pool, key=lambda s: s.probability * min(1.0, LEAD_WORDS / _read_words(s)))
    wanted = LEAD_FIELDS.get(asked, ())
    if wanted:
        # the best sentence of that field in the best fiche; of those, one holding the datum asked first
        fields = [s for s in ranked if s.candidate.section == 0 and _in_field(s.candidate, wanted)]
        holding = [s for s in fields if _holds(s, datum)]
        candidates = holding or fields or [lead]
        # « la Clef des Petits, c'est ouvert quand ? »: the hours of the service the question names, not those
        # of « La Clef » (the longest « name » of the sentence that the question holds; ties keep the order)
        asked = asked_form(question)
        lead = max(candidates, key=lambda s: names_asked(s.candidate.unit.text, asked))
    elif datum and not _holds(lead, datum):
        holding = [s for s in ranked if s.candidate.section == lead.candidate.section and _holds(s, datum)]
        if holding and holding[0].probability >= DATUM_LEAD_SHARE * lead.probability:
            lead = holding[0]
    words_left = budget.max_words - _words(lead)
    kept = [lead.candidate.unit.text]
    chosen: dict[int, list[Scored]] = {}
    floor = max(budget.min_probability, budget.relative_probability * lead.probability)
    # The sentences the model finds likeliest are said even when a field or a datum took the lead from them
    # (« c'est ouvert pendant les vacances ? »: the hours lead, the holidays sentence follows), or the length
    # discount did (« c'est pour quel âge ? »: the 90-word sentence that gives the ages follows a shorter lead),
    # whatever words are left.
    said = [lead]
    # A lead taken for its field or its datum (the hours) answers part of the question: the sentence that goes on
    # from it (« Il permet aussi l'accueil durant les vacances… ») is said too when it holds a word of the question
    # the lead does not (« c'est fermé à Noël ? »).
    goes_on = _goes_on(lead, scored, question) if wanted or datum else []
    glossed = {  # each glossary term's likeliest line (read only when acronyms are listed)
        glossary_term(s.candidate.unit.text): s
        for s in reversed(ranked if defined else [])
        if hits[s.candidate.section].kind == "glossaire"
    }
    meanings = [glossed[term] for term in sorted(defined) if term in glossed]
    for s in (likeliest, ranked[0], *goes_on, *meanings):
        if all(s is not t for t in said) and not redundant(s.candidate.unit.text, kept):
            said.append(s)
            kept.append(s.candidate.unit.text)
            words_left -= _words(s)
            chosen.setdefault(s.candidate.section, []).append(s)
    for s in ranked:
        c = s.candidate
        if any(s is t for t in said) or words_left <= 0:
            continue
        lines = chosen.get(c.section, [])
        sections = {lead.candidate.section, *chosen}
        limit = budget.lead_card_lines if c.section == lead.candidate.section else budget.card_lines
        sibling = s.probability >= SIBLING_SHARE * budget.min_probability and _next_item(c, [*said, *lines])
        crowded = len(lines) >= limit or (c.section not in sections and len(sections) >= max_sections)
        if not sibling and (s.probability < floor or crowded):
            continue
        if _words(s) > words_left or redundant(c.unit.text, kept):
            continue
        kept.append(c.unit.text)
        words_left -= _words(s)
        chosen.setdefault(c.section, []).append(s)
    for section, part in _parts_said([*said, *(x for lines in chosen.values() for x in lines)]):
        # a numbered sequence one of whose parts is said is said whole (« 1ère partie… 4ème partie »), not the
        # first and the third: its other parts follow, whatever their probability, within SEQUENCE_WORDS
        rest = [
            s
            for s in scored
            if s.candidate.section == section
            and (numbered_part(s.candidate.unit.text) or ("", 0))[0] == part
            and all(s is not t for t in said)
            and all(s is not t for t in chosen.get(section, []))
        ]
        if 0 < len(rest) < MAX_PARTS and sum(_words(s) for s in rest) <= SEQUENCE_WORDS:
            chosen.setdefault(section, []).extend(rest)
    lead_part = numbered_part(lead.candidate.unit.text)
    if lead_part is not None:
        # read in order: the sequence's first part leads (« 1ère partie… »), the lead's part goes to its place
        same = [
            s
            for s in chosen.get(lead.candidate.section, [])
            if (numbered_part(s.candidate.unit.text) or ("", 0))[0] == lead_part[0]
        ]
        first = min(same, key=lambda s: s.candidate.unit.order, default=None)
        if first is not None and first.candidate.unit.order < lead.candidate.unit.order:
            lines = chosen[lead.candidate.section]
            lines[lines.index(first)] = lead
            lead = first
    order = [lead.candidate.section] + sorted(k for k in chosen if k != lead.candidate.section)
    cards = tuple((hits[k], tuple(sorted(chosen.get(k, []), key=lambda s: s.candidate.unit.order))) for k in order)
    return Shape(lead, cards)


def _bare_item(s: Scored) -> bool:
    """A list item of fewer than BARE_ITEM_WORDS words that is not a contact (« Formation de professionnels »)."""
    unit = s.candidate.unit
    return unit.item and len(unit.text.split()) < BARE_ITEM_WORDS and not has_contact(unit.text)


def _goes_on(lead: Scored, scored: Sequence[Scored], question: str) -> list[Scored]:
    """The sentence right after the lead in its fiche when it points back to it and holds a word of the question
    (four letters or more) that the lead does not."""
    c = lead.candidate
    after = next(
        (s for s in scored if s.candidate.section == c.section and s.candidate.unit.order == c.unit.order + 1), None
    )
    if after is None or not points_back(after.candidate.unit.text):
        return []
    asked = {w for w in asked_form(question).split() if len(w) >= 4}
    new = set(asked_form(after.candidate.unit.text).split()) - set(asked_form(c.unit.text).split())
    return [after] if asked & new else []


def _parts_said(said: Sequence[Scored]) -> list[tuple[int, str]]:
    """The (section, kind of part) of the numbered parts an answer says, once each."""
    found: list[tuple[int, str]] = []
    for s in said:
        part = numbered_part(s.candidate.unit.text)
        if part is not None and (s.candidate.section, part[0]) not in found:
            found.append((s.candidate.section, part[0]))
    return found


def _next_item(c: Candidate, said: Sequence[Scored]) -> bool:
    """A list item right before or after an item the answer says, in the same fiche and field."""
    u = c.unit
    return u.item and any(
        t.candidate.section == c.section
        and t.candidate.unit.item
        and t.candidate.unit.field == u.field
        and abs(t.candidate.unit.order - u.order) == 1
        for t in said
    )


def _in_field(candidate: Candidate, wanted: Sequence[str]) -> bool:
    """A sentence of the field asked (« Pilotage »), or any contact line when contacts are asked (« Tél. : … »
    under whatever label the source gives it)."""
    unit = candidate.unit
    return field_group(unit.field) in wanted or ("contact" in wanted and has_contact(unit.text))


def _holds(s: Scored, datum: Sequence[re.Pattern[str]]) -> bool:
    return any(p.search(s.candidate.unit.text) for p in datum)


_ASIDE = re.compile(r"\([^()]*\)")


def _read_words(s: Scored) -> int:
    """Words of a sentence outside its asides in parentheses (« (compréhension, logique, langage) »): what a
    reader has to take in before the point, for the lead's length discount."""
    return max(1, len(_ASIDE.sub(" ", s.candidate.unit.text).split()))


def _words(s: Scored) -> int:
    return len(s.candidate.unit.text.split())
