"""The extractive answer written as blocks (see `assistant/blocks.py`): the lead said of its fiche (every
pilot of its field when it says who pilots), a definition (one per acronym asked together) or a difference
first, then a card per fiche with its place, period and status, a contact (dated when old), and whom to ask.
Sentences are quoted as the sources wrote them, acronyms spelled out for families with their section's sense,
each cited."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date

from assistant.acronyms import sense_in, senses, spell_out
from assistant.blocks import Block, BlockKind, Card, Cited
from assistant.citations import (
    addresses_assistant,
    dated_detail,
    discourages_emergency,
    has_contact,
    has_phone_email_or_address,
    neutralise,
)
from assistant.compose import (
    Unit,
    ages_told,
    contact_line,
    field_group,
    outside_ages,
    quotable_unit,
    redundant,
    shown_text,
)
from assistant.fiche import Fiche, FicheUnit, another_service, glossary_term, points_back, union, value_of
from assistant.reply import Numbering
from assistant.safety import normalise
from assistant.shape import Scored, Shape
from assistant.understand import Question, defining, naming
from corpus.clean import fold
from prompts.render import Profile, load_whom, render
from retrieval.retrieve import Passage, Retriever, SectionHit

OLD_CONTACT_YEARS = 5  # contact details from a document older than this are flagged « à vérifier »
MAX_TITLE_WORDS = 12  # a longer fiche title is named by its number in the lead
_NAMING = re.compile(r"^(?:(?:le|la|les|l) )?(?:sigle|acronyme|abreviation|terme|mot)s? ")  # « sigle clas » -> « clas »
_SEVERAL = re.compile(r"\b(ces|les|deux|trois) (deux |trois )?(sigles|acronymes|termes|mots|abreviations)\b")
_NAMES_SIDE_BY_SIDE = re.compile(r"»\s*«")  # « La Clef » « La Clef des Petits »: a title that lists names
MAX_PUBLIC_WORDS = 8  # a card's « Pour : » line, when the public is said briefly
MIN_LEAD_WORDS = 6  # a sentence that says something (not a heading or a list item of a few words)
MAX_COMPARE_WORDS = 60  # longer, a sentence naming two things is a run of table cells, not a comparison
MIN_VALUE_WORDS = 3  # a field's value that says something (« Le protocole périnatalité à risque. »)
MAX_DEFINED = 3  # acronyms defined in one lead
MAX_PILOTS = 4  # pilots said in a « pilotée par » lead
# « … ça veut dire quoi AED et c'est qui qui vient chez nous ? »: a second question joined to the first
_ASKS_MORE = re.compile(r"\bet (comment|qui|quel|quels|quelle|quelles|ou|quand|combien|pourquoi|c est qui|est ce)\b")
MAX_FOLLOW_WORDS = 40  # a sentence going on from the lead is said with it up to this length
MAX_PARTNERS = 12  # partners said in a lead that answers who they are
MAX_PARTNER_WORDS = 30  # each line of a field of partners names some; a longer one tells a story
STEP_FIELDS = frozenset({"modalities", "calendar"})


class Writer:
    def __init__(self, retriever: Retriever, fiches: Mapping[str, Fiche], today: date) -> None:
        self.retriever = retriever
        self.fiches = fiches
        self.today = today
        kinds = {str(m["section_id"]): str(m["section_kind"]) for m in retriever.meta}
        self._doc_ids = {str(m["section_id"]): str(m["doc_id"]) for m in retriever.meta}
        # The glossaries' entries by acronym (« aed » -> the line « AED : Action éducative à domicile »).
        self.glossary: dict[str, list[tuple[str, FicheUnit]]] = {}
        for sid, fiche in fiches.items():
            if kinds.get(sid) == "glossaire":
                for unit in fiche.units:
                    self.glossary.setdefault(glossary_term(unit.text), []).append((sid, unit))
        # The sentences a definition may be (whole sentences of the sections that are not glossaries),
        # normalised, and by the words they hold: a definition question reads only those with its words.
        # (read as shown: « Contenu et objectifs de l'action : Le PPAF est… » opens with « Le PPAF est »)
        self._sentences: list[tuple[str, FicheUnit, str]] = [
            (sid, unit, normalise(shown_text(unit.text, unit.field)))
            for sid, fiche in fiches.items()
            if kinds.get(sid) != "glossaire"
            for unit in fiche.units
            if _may_define(unit.text)
        ]
        self._by_word: dict[str, set[int]] = {}
        for i, (_, _, text) in enumerate(self._sentences):
            for word in set(text.split()):
                self._by_word.setdefault(_singular(word), set()).add(i)

    def blocks(self, q: Question, plan: Shape, profile: Profile, numbering: Numbering) -> list[Block]:
        """The lead, then a card per fiche (its place, period, status, best sentences, contacts)."""
        assert plan.lead is not None
        lexicon = self.retriever.analyzer.acronyms
        # families: every acronym on its first use; professionals: the one a definition question asks about
        # when no glossary line says it (« UGO, c'est quoi ? »: the fiche's own « UGO – logiciel urgence… »)
        acronyms = (
            lexicon
            if profile.spell_out_acronyms
            else {a: lexicon[a] for a in q.query.acronyms if "definition" in q.asks and a not in self.glossary}
        )
        # an acronym asked whose glossary sense is another document's: spelled out as the fiche uses it
        misread = self.misread(q, plan)
        if misread:
            acronyms = {**acronyms, misread: lexicon.get(misread, [])}
        explained: set[str] = set()
        dated: set[str] = set()  # the documents whose old contact details the answer has dated

        def date_note(hit: SectionHit, text: str) -> str:
            """« coordonnées de 2009, à vérifier » on the first quoted line of a document more than five years
            old that holds a contact detail or a web address; once per document."""
            if hit.doc_id in dated or not dated_detail(text):
                return ""
            note = self.old_contacts(hit)
            if note:
                dated.add(hit.doc_id)
            return note

        def cite(hit: SectionHit, text: str, passages: Sequence[Passage]) -> Cited | None:
            if not quotable(text, hit.doc_id not in self.retriever.unreviewed):
                return None
            note = date_note(hit, text)
            if acronyms and hit.kind != "glossaire":  # a glossary line already defines it
                text = spell_out(text, acronyms, explained, self.section_text(hit.section_id))
            return Cited(neutralise(text), tuple(numbering.cite(hit, p) for p in passages), note)

        lead_hit = plan.cards[0][0]
        lead = plan.lead.candidate.unit
        fiche = self.fiches[lead_hit.section_id]
        group = field_group(lead.field)
        finished = ended(fiche.status)
        value = value_of(lead.text)
        # « pilotée par » says every pilot the field lists (« Le pilote : Chef de service PMI… » and the item
        # under it « Chef du Service action sociale… »), not the first one with the next among the partners;
        # asked who the partners are, the partners' field is said whole the same way (« DDCS » is not dropped
        # for being the fourth item)
        field_units = [u for u in fiche.units if u.field == lead.field]
        # a list of partners (names), not a story that names some; asked when, the calendar's steps are said
        # together (« Etat des lieux… : Semestre 1 / 2020 ; Mise en place du dispositif : Semestre 1 – Semestre 2 /
        # 2021 »)
        short_lines = all(len(u.text.split()) <= MAX_PARTNER_WORDS for u in field_units)
        partners = group == "partners" and q.asked == "partners" and short_lines
        calendar = group == "calendar" and q.asked == "when" and short_lines
        listed = (group == "pilot" or partners or calendar) and "?" not in value and bool(fiche_name(lead_hit))
        most = MAX_PARTNERS if partners or calendar else MAX_PILOTS
        others = [u for u in field_units if u.order != lead.order and (u.item or not partners)] if listed else []
        joined = others[: most - 1]  # the field's other lines said in the lead
        if joined:  # in the field's order
            in_order = sorted([(lead.order, lead.text), *((u.order, u.text) for u in joined)])
            # a line is said without its field's label, not without its own (« Élaboration du budget : … »)
            value = " ; ".join(
                (value_of(text) if text.startswith(lead.field) else text).rstrip(" ,;") for _, text in in_order
            )
        # « Cet accueil provisoire est pour… un an » is said after the sentence it points back to (« « La Clef
        # des Petits » : Il s'agit d'un accueil… »): alone, it would be read as said of the fiche's other service.
        before = fiche.antecedent(lead.order) if group not in ("pilot", "contact") else None
        contact_lead = group == "contact" or has_contact(lead.text)  # « Tél : … » under any label
        # A difference or a definition: the defining sentences first (and cited first).
        pairs = self.compared(q, plan) if q.compared else self.defined(q, plan)
        said = [unit.text for _, unit in pairs]
        said_before = before is not None and redundant(before.text, said)  # the lead's first sentences say it
        if before is not None and (
            said_before or not quotable_unit(self.retriever.analyzer, before.text, before.field)
        ):
            before = None
        name = fiche_name(lead_hit)
        # « Ils sont co-animés par… » with nothing before it to say who: said of its section (« « Les Comités
        # opérationnels » : Ils sont… »), as the sentence's own words, not as a pilot or a contact; so is a
        # table's cell (« « Programme de réussite éducative » : Favoriser la réussite éducative des enfants… »)
        subject = (
            ""
            if name or before is not None or said_before or not needs_its_section(lead_hit, lead.text)
            else section_subject(lead_hit)
        )
        sentence = render(
            "lead.j2",
            fiche=name or subject,
            # « Qui a été à l'initiative de l'action ? Public… »: a questionnaire's answer is quoted with its
            # question, not said to be the pilot
            group=""
            if subject
            or (group == "pilot" and "?" in value)
            or (group == "partners" and not partners)
            or (group == "calendar" and not calendar)
            else group,
            value=value,
            text=f"{shown_text(before.text, before.field)} {lead.text}" if before else lead.text,
            status=fiche.status.lower() if finished else "",
        )
        # a term the lead defines from a glossary is not defined again by another glossary's line (the 2016
        # glossary's « AEMO Action éducative… » under the 2020 one's « AEMO : Assistance éducative… »)
        terms = {glossary_term(unit.text) for hit, unit in pairs if hit.kind == "glossaire"}
        if lead_hit.kind == "glossaire":
            terms.add(glossary_term(lead.text))
        # a difference's side read in a section titled by its name is said of that section (« « Le Comité
        # technique » : Animé par la Caf, il a pour rôle de… »)
        leads = [
            cite(
                hit,
                said_of(
                    hit,
                    shown_text(unit.text, unit.field),  # « Contenu et objectifs de l'action : » not repeated
                    titled(hit, q.compared) and not names_any(unit.text, q.compared),
                ),
                unit.passages,
            )
            for hit, unit in pairs
        ]
        # Beside a sentence that says what the thing asked is (a defining sentence or a glossary line), the
        # best-scored sentence stays only when it speaks of that thing too (by its name or its expansion), and so do
        # the lines of its fiche: « un LAEP, c'est quoi ? » is not followed by a court-ordered visit that scored well.
        # A question that asks more than what it is (« c quoi la Clef des Petits et on peut y aller combien de
        # temps ») keeps them: they hold what else was asked.
        only_defined = (
            bool(pairs)
            and not q.compared
            and bool(q.defined)
            and not set(q.asks) - {"definition"}
            and not _ASKS_MORE.search(normalise(q.text))
        )
        namings = [naming(t) for t in self.names_of(_NAMING.sub("", q.defined))]  # « le sigle CRIP » -> « crip »
        names_it = any(n.search(normalise(lead.text)) for n in namings)
        beside = not only_defined or names_it
        if beside and not redundant(lead.text, said):
            held = union(before.passages, lead.passages) if before else lead.passages
            for unit in joined:
                held = union(held, unit.passages)
            # the answer's next sentence that goes on from the lead (« … le samedi de 13 H 30 à 17 H. Il permet aussi
            # l'accueil durant les vacances… ») is said with it, not as a card line read apart
            follow = next(
                (
                    s.candidate.unit
                    for s in plan.cards[0][1]
                    if s.candidate.unit.order == lead.order + 1
                    and points_back(s.candidate.unit.text)
                    and len(s.candidate.unit.text.split()) <= MAX_FOLLOW_WORDS
                ),
                None,
            )
            if follow is not None and not joined:
                sentence = f"{sentence} {follow.text}"
                held = union(held, follow.passages)
                said.append(follow.text)
            leads.append(cite(lead_hit, sentence, held))
            if before is not None:
                said.append(before.text)
        said.extend([lead.text, *(u.text for u in joined)])
        named = beside and bool(fiche_name(lead_hit))  # the lead said « Fiche 03 « … » : »
        blocks = [Block(BlockKind.LEAD, items=tuple(c for c in leads if c))]
        cards = []
        told = ages_told(q.text) if profile.contact_first else []  # the ages a family tells
        for rank, (hit, lines) in enumerate(plan.cards):
            card_fiche = self.fiches[hit.section_id]
            services = card_fiche.services_asked(q.text)  # a sibling's contact line is left out
            kept_lines = [
                s.candidate.unit
                for s in lines
                if not redundant(s.candidate.unit.text, said)
                and (beside or rank > 0 or any(n.search(normalise(s.candidate.unit.text)) for n in namings))
                and not (hit.kind == "glossaire" and glossary_term(s.candidate.unit.text) in terms)
                and not another_service(s.candidate.unit.text, services)
            ]
            cited = [cite(hit, *self.with_antecedent(card_fiche, unit, kept_lines, said)) for unit in kept_lines]
            contacts: list[Cited] = []
            shown = {lead.text, *(s.candidate.unit.text for s in lines)}
            if rank == 0 and profile.contact_first and hit.doc_id not in self.retriever.unreviewed:
                # one contact line, all of them when the question asks how to reach or where to go
                wanted = 3 if {"contact", "hours_address"} & set(q.asks) else 1
                for unit in card_fiche.contacts(wanted, q.text):
                    if unit.text not in shown:
                        line = neutralise(contact_line(unit.text))
                        numbers = tuple(numbering.cite(hit, p) for p in unit.passages)  # a block over two chunks
                        label = "Contact" if has_phone_email_or_address(unit.text) else "Horaires"
                        contacts.append(Cited(line, numbers, date_note(hit, unit.text), label))
            document = self.retriever.documents.get(hit.doc_id)
            place = document.departement_name() if document else ""
            public = (hit.public or "").replace(";", ",")
            public = public if profile.contact_first and len(public.split()) <= MAX_PUBLIC_WORDS else ""
            # one child's age told (« mon garçon de 10 ans ») that the fiche's public leaves out: said on the card
            age_note = (
                f"cette action ne vise pas un enfant de {told[0][1]}"
                if len(told) == 1 and public and outside_ages(public, told[0][0])
                else ""
            )
            cards.append(
                Card(
                    title=fiche_name(hit) or short_title(hit.title),
                    # the lead names its fiche in full (« Fiche 03 « Groupes de soutien… » : … »): its card,
                    # just below, by its number in the text answer
                    short=f"Fiche {hit.number.strip()}" if rank == 0 and named and hit.number else "",
                    document=self.place_and_period(hit),
                    territory=hit.territory if hit.territory and fold(hit.territory) != fold(place) else "",
                    public=public,
                    status=card_fiche.status,
                    ended=ended(card_fiche.status),
                    lines=tuple(c for c in cited if c),
                    contacts=tuple(contacts),
                    section_id=hit.section_id,
                    steps=rank == 0 and "procedure" in q.asks and _steps(lines),
                    age_note=age_note,
                )
            )
        # A card says where the lead comes from (place, period, status) and what else the fiche holds; a
        # section that is not a fiche (a glossary, a part of a schéma) with nothing more to say is left out.
        # (nor is a fiche whose lines were all left out beside a definition, its lead not said)
        cards = [
            c
            for i, c in enumerate(cards)
            if c.lines or c.contacts or (plan.cards[i][0].kind == "fiche" and (beside or i > 0))
        ]
        blocks.append(Block(BlockKind.CARDS, cards=tuple(cards)))
        if profile.contact_first and not any(card.contacts for card in cards) and not contact_lead:
            blocks.append(Block(BlockKind.CONTACTS, "", "À qui s'adresser :", (Cited(whom_to_ask(q.text)),)))
        return blocks

    def names_of(self, term: str) -> list[str]:
        """A term asked about and, for an acronym, its expansions (normalised)."""
        if not term:
            return []
        return [term, *(normalise(e) for e in self.retriever.analyzer.acronyms.get(term, []))]

    def defined(self, q: Question, plan: Shape) -> list[tuple[SectionHit, FicheUnit]]:
        """For « c'est quoi le PPE ? »: the glossary line of the first acronym asked that has one, unless the
        question spells it out already; then a sentence of the sources that says what the thing is
        (« … conférences familiales, à savoir des réunions regroupant… », « l'information préoccupante qui
        avise le Département… »), from the answer's fiches first."""
        if "definition" not in q.asks:
            return []
        together = named_together(q.text, q.query.acronyms)
        if len(together) > 1 and (not q.defined or q.defined in together or _SEVERAL.search(q.defined)):
            # « le GED et la SPAR, c'est quoi ? », « AED / AEMO, ces deux sigles ? »: each, a sentence once
            each: list[tuple[SectionHit, FicheUnit]] = []
            for acronym in together[:MAX_DEFINED]:
                found_one = self.acronym_defined(acronym, q, plan)
                if found_one is not None and all(found_one[1] is not unit for _, unit in each):
                    each.append(found_one)
            return each
        found: list[tuple[SectionHit, FicheUnit]] = []
        terms = [q.defined] if q.defined else []
        listed = [a for a in q.query.acronyms if a in self.glossary]
        # The acronym asked about (« que signifie RAM ? », « que signifie le sigle CLAS ? »), or the first one
        # when the question names no term. « le sigle IP dans « Personnel PMI : IP » » asks a sense in a
        # sentence, not the glossary's.
        term = _NAMING.sub("", q.defined)
        acronym = (term if term in listed else "") if q.defined else next(iter(listed), "")
        own = term != q.defined or not (q.defined or "difference" in q.asks)
        # « le sigle IP dans la fiche de la maison kangourou »: the glossary's sense only if it is the fiche's; so
        # too when the question names no term, unless it asks whether two uses are the same thing
        if acronym and not self.sense_of_fiche(acronym, q, plan) and (own or "difference" not in q.asks):
            # « que veut dire IP dans les fiches de la Loire ? »: asked by name, the acronym is said as the answer's
            # fiche uses it (its sense spelled out after it, `misread`), not with another document's glossary line;
            # asked whether two uses are the same thing, the glossary's sense stays beside the fiche's
            used = None if own else self.used_in(acronym, plan)
            if used is not None:
                return [used]
            acronym = ""
        if acronym:
            section_id, unit = self.glossary_entry(acronym, q)
            found.append((self.retriever.section_hit(section_id), unit))
            terms += [normalise(e) for e in self.retriever.analyzer.acronyms.get(acronym, [])]
        # « Le GED (grille d'évaluation du développement) est un outil… »: the acronym with its expansion after it
        terms += [f"{term} {normalise(e)}" for e in self.retriever.analyzer.acronyms.get(term, [])]
        sentence = self.defining_sentence([t for t in dict.fromkeys(terms) if t], plan)
        return found + ([sentence] if sentence else [])

    def misread(self, q: Question, plan: Shape) -> str:
        """The acronym a definition question names whose glossary sense is not the one of the answer's first fiche
        (« IP » in the Loire's PMI fiches is an infirmière puéricultrice, the Isère glossary's an information
        préoccupante), or ""."""
        term = _NAMING.sub("", q.defined)
        if "definition" not in q.asks or "difference" in q.asks or term not in self.glossary or term not in senses():
            return ""
        return "" if self.sense_of_fiche(term, q, plan) else term

    def used_in(self, acronym: str, plan: Shape) -> tuple[SectionHit, FicheUnit] | None:
        """The first sentence of the answer's first fiche that uses the acronym (not a glossary's)."""
        word = re.compile(rf"\b{re.escape(acronym.upper())}\b")
        for hit, _ in plan.cards:
            if hit.kind == "glossaire":
                continue
            unit = next((u for u in self.fiches[hit.section_id].units if word.search(u.text)), None)
            return (hit, unit) if unit is not None else None
        return None

    def with_antecedent(
        self, fiche: Fiche, unit: Unit, lines: Sequence[Unit], said: Sequence[str]
    ) -> tuple[str, tuple[Passage, ...]]:
        """A card line as said: after the sentence it points back to (« La signature… . Elle n'est cependant pas
        un frein… »), when the card does not say that sentence just before it nor the lead says it."""
        before = fiche.antecedent(unit.order)
        if (
            before is None
            or any(u.order == before.order for u in lines)
            or redundant(before.text, said)
            or not quotable_unit(self.retriever.analyzer, before.text, before.field)
        ):
            return unit.text, unit.passages
        return f"{shown_text(before.text, before.field)} {unit.text}", union(before.passages, unit.passages)

    def acronym_defined(self, acronym: str, q: Question, plan: Shape) -> tuple[SectionHit, FicheUnit] | None:
        """One acronym of several asked together: its glossary line; else a sentence saying what it is (by its
        name or its expansion); else the first sentence of the section its title spells out (« Fiche 74 « La
        situation Périnatale à risque SPAR » »)."""
        if acronym in self.glossary and self.sense_of_fiche(acronym, q, plan):
            section_id, unit = self.glossary_entry(acronym, q)
            return self.retriever.section_hit(section_id), unit
        expansions = [normalise(e) for e in self.retriever.analyzer.acronyms.get(acronym, [])]
        names = [acronym, *expansions]
        sentence = self.defining_sentence(names, plan) or self.spelled_out(acronym, expansions, plan)
        if sentence is not None:
            return sentence
        for hit in self.retriever.search(" ".join(names), k=5):
            if hit.doc_id in self.retriever.unreviewed or not titled(hit, names):
                continue
            # what the fiche is about (« Contenu et objectifs : Le protocole périnatalité à risque. »), not its
            # short fields (« Public visé : Mineur 0<6 ans »)
            units = [u for u in self.fiches[hit.section_id].units if not has_contact(u.text)]
            about = [
                u
                for u in units
                if field_group(u.field) == "objectives" and len(value_of(u.text).split()) >= MIN_VALUE_WORDS
            ]
            about += [u for u in units if _may_define(u.text) and not u.field]
            if about:
                return hit, about[0]
        return None

    def sense_of_fiche(self, acronym: str, q: Question, plan: Shape) -> bool:
        """Whether the glossary's sense of an acronym with several senses (`data/senses.toml`) is the one of the
        answer's first fiche (in a PMI fiche « IP » is an infirmière puéricultrice)."""
        first = next((hit for hit, _ in plan.cards if hit.kind != "glossaire"), None)  # a glossary has every sense
        if acronym not in senses() or first is None:
            return True
        fiche = " ".join(u.text for u in self.fiches[first.section_id].units)
        return normalise(sense_in(acronym, fiche, [])) in normalise(self.glossary_entry(acronym, q)[1].text)

    def spelled_out(self, acronym: str, expansions: Sequence[str], plan: Shape) -> tuple[SectionHit, FicheUnit] | None:
        """A sentence that spells the acronym out (« Centre Psychothérapique Nord Dauphiné (CPND), … »), in the
        answer's fiches first, from a reviewed document."""
        names = [naming(e) for e in expansions]
        return self._first_sentence(
            [f"{acronym} {e}" for e in expansions], plan, lambda text: any(n.search(text) for n in names)
        )

    def defining_sentence(self, terms: Sequence[str], plan: Shape) -> tuple[SectionHit, FicheUnit] | None:
        """The first sentence that says what one of the terms is, in the answer's fiches then the others
        in document order (glossaries aside: their lines are expansions), from a reviewed document."""
        acronyms = self.retriever.analyzer.acronyms
        patterns = [defining(term, len(term.split()) > 1 or term in acronyms) for term in terms]
        return self._first_sentence(terms, plan, lambda text: any(p.search(text) for p in patterns))

    def _first_sentence(
        self, phrases: Sequence[str], plan: Shape, says: Callable[[str], bool]
    ) -> tuple[SectionHit, FicheUnit] | None:
        """The first sentence that holds every word of one of the phrases (a plural allowed) and of which `says`
        holds (its normalised text), in the answer's fiches then the others in document order, from a reviewed
        document."""
        found: set[int] = set()
        for phrase in phrases:
            sets = [self._by_word.get(_singular(w), set()) for w in phrase.split()]
            found |= set.intersection(*sets) if sets else set()
        rank = {hit.section_id: i for i, (hit, _) in enumerate(plan.cards)}
        for i in sorted(found, key=lambda i: (rank.get(self._sentences[i][0], len(rank)), i)):
            sid, unit, text = self._sentences[i]
            if says(text):
                hit = self.retriever.section_hit(sid)
                if hit.doc_id not in self.retriever.unreviewed:
                    return hit, unit
        return None

    def glossary_entry(self, acronym: str, q: Question) -> tuple[str, FicheUnit]:
        """The glossary line of an acronym: that of the document whose period holds a year the question names
        (« dans le schéma des services aux familles 2016-2018, AEMO ? »: its « Action éducative en milieu
        ouvert », not the 2020 schéma's « Assistance éducative… »), else the first glossary's."""
        entries = self.glossary[acronym]
        for sid, unit in entries:
            period = self.period(self._doc_ids.get(sid, ""))
            if period and any(period[0] <= year <= period[1] for year in q.years):
                return sid, unit
        return entries[0]

    def compared(self, q: Question, plan: Shape) -> list[tuple[SectionHit, FicheUnit]]:
        """For a difference question, from the answer's fiches then from those a search for the two terms
        finds: a sentence that names both things and says what one of them is; else what each is (the first
        sentence of a section titled by its name, or a sentence that says what it is; from the document that
        names both together, if one does); else a sentence naming both, with what either is; else the first
        sentence on each."""
        entries = [self.glossary.get(term.replace(" ", "")) for term in q.compared]
        if all(entries):  # two acronyms: their glossary lines
            lines = [self.glossary_entry(term.replace(" ", ""), q) for term in q.compared]
            return [(self.retriever.section_hit(sid), unit) for sid, unit in lines]
        analyzer = self.retriever.analyzer
        names = [(term, *(normalise(e) for e in analyzer.acronyms.get(term, []))) for term in q.compared]
        forms = [[set(analyzer.tokens(name)) for name in term_names] for term_names in names]
        says_what = [[defining(name) for name in term_names if name] for term_names in names]
        # « La Clef » and « La Clef des Petits »: a sentence names the first only outside the second's name
        wider = [
            [other for j, other in enumerate(q.compared) if j != i and forms[i][0] < forms[j][0]]
            for i in range(len(q.compared))
        ]
        pool = [hit for hit, _ in plan.cards]
        seen = {hit.section_id for hit in pool}
        pool += [h for h in self.retriever.search(" ".join(q.compared), k=5) if h.section_id not in seen]
        first: list[tuple[SectionHit, FicheUnit] | None] = [None] * len(forms)
        # a section titled by one name and not the other speaks of it (« 6.1.2 – Le Comité technique »): its
        # first sentence says what it is
        defined: list[tuple[SectionHit, FicheUnit] | None] = [
            self.titled_by(term, [t for t in q.compared if t != term], pool) for term in q.compared
        ]
        both: tuple[SectionHit, FicheUnit] | None = None
        for hit in pool:
            if hit.doc_id in self.retriever.unreviewed:
                continue
            for unit in self.fiches[hit.section_id].units:
                # an address naming both services compares nothing
                if has_contact(unit.text) or len(unit.text.split()) < MIN_LEAD_WORDS:
                    continue
                flat = normalise(unit.text)
                texts = [_outside(flat, out) if out else flat for out in wider]
                tokens_of = {text: set(analyzer.tokens(text)) for text in texts}  # each distinct text tokenised once
                has = [
                    any(form and form <= tokens_of[text] for form in term_forms)
                    for term_forms, text in zip(forms, texts, strict=True)
                ]
                says = [
                    found and any(p.search(text) for p in patterns)
                    for found, patterns, text in zip(has, says_what, texts, strict=True)
                ]
                if all(has) and len(unit.text.split()) <= MAX_COMPARE_WORDS:
                    if any(says):
                        return [(hit, unit)]
                    both = both or (hit, unit)
                    continue
                for i in range(len(forms)):
                    first[i] = first[i] or ((hit, unit) if has[i] else None)
                    defined[i] = defined[i] or ((hit, unit) if says[i] else None)
        if both is not None:  # the two are named together there: what is said of either elsewhere is not theirs
            defined = [x if x is not None and x[0].doc_id == both[0].doc_id else None for x in defined]
        if all(defined):
            return [x for x in defined if x is not None]
        if both is not None:
            return [both, *(x for x in defined if x is not None)]
        return [x for x in (d or f for d, f in zip(defined, first, strict=True)) if x is not None]

    def titled_by(
        self, term: str, others: Sequence[str], pool: Sequence[SectionHit]
    ) -> tuple[SectionHit, FicheUnit] | None:
        """The first sentence of the first section whose title names the term and none of the others: among
        the sections found, then the other sections of their documents. Not a fiche's: its first sentences
        are fields (« Public visé : … »), and its title names an action, not a thing to define; nor a table
        row's (« Comité de pilotage de l'aide à domicile »): its first cell is a mission, not what it is."""
        documents = {hit.doc_id for hit in pool}
        found = {hit.section_id for hit in pool}
        rest = [
            self.retriever.section_hit(sid)
            for sid in self.fiches
            if sid not in found and self._doc_ids.get(sid) in documents
        ]
        for hit in [*pool, *rest]:
            if hit.kind in ("fiche", "glossaire", "tableau") or hit.doc_id in self.retriever.unreviewed:
                continue
            if titled(hit, [term]) and not titled(hit, others):
                unit = next(
                    (
                        u
                        for u in self.fiches[hit.section_id].units
                        if MIN_LEAD_WORDS <= len(u.text.split()) <= MAX_COMPARE_WORDS and not has_contact(u.text)
                    ),
                    None,
                )
                if unit is not None:
                    return hit, unit
        return None

    def place_and_period(self, hit: SectionHit) -> str:
        """Its document's département and period (« Loire, 2017-2021 »), as a card and a refusal give them."""
        document = self.retriever.documents.get(hit.doc_id)
        return ", ".join(x for x in (document.departement_name(), document.period) if x) if document else ""

    def nearby(self, hit: SectionHit, numbering: Numbering) -> str:
        """The fiche a refused question is about, as a refusal names it (« Fiche 33 « … » (Loire, 2017-2021) [1] »):
        what the sources do say near the missing datum, cited on the passage that opens it."""
        where = self.place_and_period(hit)
        title = short_title(hit.title)
        name = fiche_name(hit) or (title if "«" in title else f"« {title} »")
        n = numbering.cite(hit, self.fiches[hit.section_id].passages[0])
        return f"{name}{f' ({where})' if where else ''} [{n}]"

    def section_text(self, section_id: str) -> str:
        fiche = self.fiches.get(section_id)
        return " ".join(u.text for u in fiche.units) if fiche else ""

    def period(self, doc_id: str) -> tuple[int, int] | None:
        """A document's period (« 2003-2009 » -> (2003, 2009)), None when unknown."""
        document = self.retriever.documents.get(doc_id)
        return document.years() if document else None

    def old_contacts(self, hit: SectionHit) -> str:
        """« coordonnées de 2009, à vérifier » when the document is more than five years old."""
        years = self.period(hit.doc_id)
        if years and self.today.year - years[1] > OLD_CONTACT_YEARS:
            return f"coordonnées de {years[1]}, à vérifier"
        return ""


def _may_define(text: str) -> bool:
    """A whole sentence that says something: it opens a sentence (not the rest of a broken one), has at
    least MIN_LEAD_WORDS words and does not only introduce a list (« … vise à : »)."""
    opens = text[:1].isupper() or text[:1] in "«\"'"
    return opens and len(text.split()) >= MIN_LEAD_WORDS and not text.rstrip().endswith(":")


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word[-1] in "sx" else word


def _steps(lines: Sequence[Scored]) -> bool:
    """Whether a card's sentences are the steps of a procedure: at least two, all from its modalities or
    calendar (« Les modalités de mise en œuvre », « Le calendrier »)."""
    return len(lines) >= 2 and all(field_group(s.candidate.unit.field) in STEP_FIELDS for s in lines)


def named_together(text: str, acronyms: Sequence[str]) -> list[str]:
    """The acronyms a message names side by side (« AED et AEMO », « le GED et la SPAR », « « LAEP » et
    « RAM » », « AED / AEMO »), in its order; fewer than two when it names none so."""
    # joined by « et », « ou », « / » or « , » (« Personnel PMI : IP » names two, it does not list them)
    link = r"\W*(?:\s(?:et|ou)\s|/|,)\W*(?:(?:le|la|les|l|du|des|un|une)\W+)?"
    together: list[str] = []
    for sentence in re.split(r"[?!.;]+", text):  # « c quoi le PPE ? l'ASE veut… » names them apart
        flat = fold(sentence).lower()
        for a in acronyms:
            for b in acronyms:
                if a != b and re.search(rf"\b{re.escape(a)}{link}{re.escape(b)}\b", flat):
                    together += [x for x in (a, b) if x not in together]
    flat = normalise(text)
    return sorted(together, key=lambda a: _position(a, flat))


def _position(word: str, text: str) -> int:
    """Where a word first stands in a text as a whole word (« ram » not inside « programme »)."""
    match = re.search(rf"\b{re.escape(word)}\b", text)
    return match.start() if match else len(text)


def said_of(hit: SectionHit, text: str, of_section: bool = False) -> str:
    """A sentence with the fiche it comes from (« Fiche n°32 « … » : … »); other sections' as they are,
    unless it opens by pointing back (« Il est garant… »), is a table's cell or is said `of_section`: then
    with its section's title."""
    name = fiche_name(hit) or (section_subject(hit) if of_section or needs_its_section(hit, text) else "")
    return f"{name} : {text}" if name else text


def needs_its_section(hit: SectionHit, text: str) -> bool:
    """Whether a sentence says nothing of whom without its section's title: it opens by pointing back
    (« Ils sont co-animés par… ») or is a table's cell (« Favoriser la réussite éducative des enfants… »)."""
    return points_back(text) or hit.kind == "tableau"


def titled(hit: SectionHit, terms: Sequence[str]) -> bool:
    """Whether the section's title names one of the terms (normalised)."""
    title = normalise(hit.title)
    return any(naming(term).search(title) for term in _shortened(terms))


def names_any(text: str, terms: Sequence[str]) -> bool:
    """Whether the text names one of the terms (normalised) or their heads."""
    flat = normalise(text)
    return any(naming(term).search(flat) for term in _shortened(terms))


def _shortened(terms: Sequence[str]) -> list[str]:
    """Each term and its heads down to two words that do not end on a little word (« comite technique du
    sdsf » -> « comite technique », never « comite de »): a question qualifies what a title names alone."""
    heads = [t.split()[:n] for t in terms for n in range(len(t.split()), min(2, len(t.split())) - 1, -1)]
    return [" ".join(h) for h in heads if len(h) == 1 or h[-1] not in _LITTLE_WORDS]


_LITTLE_WORDS = frozenset({"de", "du", "des", "d", "la", "le", "les", "l", "et", "a", "au", "aux", "en", "pour"})


def _outside(text: str, names: Sequence[str]) -> str:
    """A normalised text once the given names (normalised) are taken out of it."""
    flat = f" {text} "
    for name in names:
        flat = flat.replace(f" {name} ", " ")
    return flat.strip()


def short_title(title: str) -> str:
    """A section's title as a card heading: its head (before « : »), at most MAX_TITLE_WORDS words."""
    head = _NAMES_SIDE_BY_SIDE.sub("», «", re.split(r"\s+:\s+", title)[0])
    if _word_count(head) > MAX_TITLE_WORDS:
        head = head.split(" – ")[0]  # « … » – accueils de jour: the names, without the subtitle
    words = head.split()
    counted = [i for i, w in enumerate(words) if any(ch.isalnum() for ch in w)]  # « and » are not words
    if len(counted) <= MAX_TITLE_WORDS:
        return head
    cut = " ".join(words[: counted[MAX_TITLE_WORDS - 1] + 1])
    if cut.count("«") > cut.count("»"):  # never end inside a name: « La Clef », « La Clef des Petits »…
        cut = cut[: cut.rfind("«")].rstrip(" ,")
    return cut + "…"


def _word_count(text: str) -> int:
    return sum(1 for w in text.split() if any(ch.isalnum() for ch in w))


def ended(status: str) -> bool:
    return "termin" in fold(status)


def fiche_name(hit: SectionHit) -> str:
    """« Fiche 07 « La maison kangourou » » for a fiche (its number alone when the title is long)."""
    if hit.kind != "fiche":
        return ""
    title = re.sub(r"^\s*(n°\s*)?\d+[.)]?\s*", "", hit.title).strip()
    short = re.split(r"\s+[:–-]\s+|\s*\(", title)[0].strip()  # « Groupe Parents : comment rester… » -> its head
    title = short if len(short.split()) >= 2 else title
    number = (hit.number or "").strip()
    if not number:
        return f"« {title} »" if len(title.split()) <= MAX_TITLE_WORDS else ""
    return f"Fiche {number} « {title} »" if len(title.split()) <= MAX_TITLE_WORDS else f"Fiche {number}"


def section_subject(hit: SectionHit) -> str:
    """A section's title as the subject of its sentences, numbering left out (« 6.1.3 – Les Comités
    opérationnels » -> « « Les Comités opérationnels » »), or "" when it is too long to be one."""
    title = _SECTION_NUMBER.sub("", short_title(hit.title)).strip()
    # « « La Clef », « La Clef des Petits »… »: several names are no one subject
    return f"« {title} »" if title and not title.endswith("…") and "«" not in title else ""


_SECTION_NUMBER = re.compile(r"^[\d.\s]*[–-]?\s*")


def whom_to_ask(question: str) -> str:
    """A family's « à qui s'adresser » when the fiches give no contact, for the age or situation named."""
    rules, default = load_whom()
    normalised = normalise(question)
    return next((rule.line for rule in rules if rule.matches(normalised)), default)


def quotable(text: str, reviewed: bool) -> bool:
    """Whether a source sentence may be quoted: never one that tells people not to call the emergency
    numbers or that reads as instructions to the assistant, nor contact details from an unreviewed document."""
    if discourages_emergency(text) or addresses_assistant(text):
        return False
    return reviewed or not has_contact(text)
