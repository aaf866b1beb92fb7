"""Answer stage: question (+ audience, history) -> grounded Answer with blocks and citations.

The engine orchestrates small modules, in order: the question read (`intake`) and analysed
(`understand`); an injection refused; a child in danger gets the emergency block first
(`danger_answer`); a topic of another service, a place outside the corpus or a named person refused
with where to turn (`answerable.screen`); the evidence (`evidence`) and what it cannot answer
(`answerable`); every sentence of the best sections scored (`compose`), shaped into a lead and cards
(`shape`) and written as blocks (`writer`); or, when configured, a chat model over the same passages
(`model_answer`). The per-index tables (sentences of every section, IDF, glossary) are built once here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date

from langchain_core.language_models import BaseChatModel

from assistant.acronyms import listed_acronyms
from assistant.answerable import Answerability, Calibration, screen
from assistant.blocks import Block, BlockKind, Cited
from assistant.citations import SourceContacts
from assistant.compose import Candidate, Selection, Unit, booster, candidates, met_only_by_place, warm_up
from assistant.conversation import Turn
from assistant.danger import default_lexicon
from assistant.danger_answer import DangerAnswer
from assistant.evidence import Evidence
from assistant.fiche import Fiche, of_siblings_only, read_fiche
from assistant.intake import clean_question
from assistant.model_answer import ModelAnswer, collected
from assistant.reply import Answer, Numbering, Reason, emergency_block, finish
from assistant.rerank import Reranker
from assistant.rerank import warm_up as rerank_warm_up
from assistant.scope_score import ScopeModel
from assistant.scope_score import load_model as load_scope_model
from assistant.shape import Shape, score, shape
from assistant.understand import Audience, Question, analyse, asked_kinds, asking_form, asks_how_to_report
from assistant.writer import Writer, whom_to_ask
from corpus.clean import fold
from prompts.render import load_datum_messages, load_profile, render
from retrieval.analyze import Query
from retrieval.retrieve import Retriever, SectionHit, fiche_number

# Refusals of a datum, a commune or a period that the fiche the question names does not give.
NEARBY_REASONS = frozenset({Reason.NO_DATUM, Reason.UNNAMED_PLACE, Reason.OUT_OF_PERIOD})

# Under a danger signal, the fiches found are shown only when the message also asks for something they
# can answer (« y a une asso pour partir avec mes enfants ? »); a message that tells the danger, or asks
# what to do, gets the danger block and no unrelated local resource.
REQUESTS = frozenset(
    {
        "list_actions",
        "contact",
        "hours_address",
        "who_pilots",
        "partners",
        "public",
        "definition",
        "difference",
        "cost_amount",
        "procedure",
    }
)


class AnswerEngine:
    """Answers from the corpus only; deterministic and offline unless a chat model is configured."""

    def __init__(
        self,
        retriever: Retriever,
        k: int = 5,
        chat_model: BaseChatModel | None = None,
        min_coverage: float | None = None,
        selection: Selection | None = None,
        datum_coverage: float | None = None,
        today: date | None = None,
        scope_model: bool = True,
        rerank: bool = True,
    ) -> None:
        calibration = Calibration.load()
        self.retriever = retriever
        self.chat_model = chat_model
        self.selection = selection or Selection.load()
        cover = min_coverage if min_coverage is not None else calibration.min_coverage
        # The sections found re-ranked for the question (`assistant/rerank.py`); the retriever's order without
        # it (the ranker's tuner, which labels the retriever's candidates).
        self.reranker = Reranker.load() if rerank else None
        rerank_warm_up(self.reranker)
        self.evidence = Evidence(retriever, k, cover, self.reranker)
        datum = datum_coverage if datum_coverage is not None else calibration.datum_coverage
        self.answerability = Answerability(self.evidence, datum)
        # The rules alone without it (the scope tuner's baseline).
        self.scope: ScopeModel | None = load_scope_model() if scope_model else None
        kinds = {str(m["section_id"]): str(m["section_kind"]) for m in retriever.meta}
        # Every section read whole once (this index's sentence table; rebuilt with the engine on a new index).
        self.fiches: dict[str, Fiche] = {
            sid: read_fiche(sid, retriever.section_passages(sid), kinds.get(sid) == "glossaire")
            for sid in retriever.section_ids
        }
        warm_up(retriever.analyzer, self.fiches)
        for model in self.selection.trees.values():
            booster(model)  # read once at start-up, not on the first question (a stale model fails here)
        default_lexicon()  # the danger lexicon and model read at start-up, not on the first question
        self.danger = DangerAnswer(retriever)
        reviewed = (
            t for m, t in zip(retriever.meta, retriever.texts, strict=True) if m["doc_id"] not in retriever.unreviewed
        )
        self.source_contacts = SourceContacts(reviewed)  # what an earlier answer of Repère can have given
        self.writer = Writer(retriever, self.fiches, today or date.today())

    def analyse(self, question: str, audience: str = "famille", history: Sequence[Turn] = ()) -> Question:
        """The question analysis (danger, injection, what is asked, places, years…)."""
        question = clean_question(question)
        load_profile(audience)  # an unknown audience is refused here, in French
        return analyse(question, audience, self.retriever.analyzer, history)

    def ask(self, question: str, audience: str = "famille", history: Sequence[Turn] = ()) -> Answer:
        """The answer. With a chat model it is the collected stream of `events`: one path, so the streamed
        and the whole answer cannot drift."""
        if self.chat_model is not None:
            return collected(self.events(question, audience, history))
        return self._extractive(question, audience, history)

    def _extractive(self, question: str, audience: str, history: Sequence[Turn]) -> Answer:
        """The checked extractive answer (also what a chat model's answer falls back to)."""
        q = self.analyse(question, audience, history)
        if not q.injection and self.source_contacts.forged(q.history):
            q = replace(q, injection=True)
        danger = q.danger.signalled
        numbering = Numbering(self.retriever.unreviewed)
        screened = screen(q)
        if screened.reason == Reason.INJECTION:
            emergency = self.danger.emergency(q, numbering) if danger else ""
            text = render("injection.j2", audience=audience, emergency="")
            blocks = [*emergency_block(emergency), Block(BlockKind.REFUSAL, text)]
            return finish(q, blocks, numbering.citations, True, Reason.INJECTION)
        if q.helpline and not danger:  # « c'est quoi le 119 ? c'est gratuit ? »: what the law and the service say
            lines = [line for line in render("helpline.j2", audience=audience).splitlines() if line.strip()]
            # the answer in bold, then what the call is like (none of it from the sources: a notice's place)
            blocks = [Block(BlockKind.LEAD, items=(Cited(lines[0]),)), Block(BlockKind.NOTICE, "\n".join(lines[1:]))]
            return finish(q, blocks, [], False, Reason.ANSWERED)
        # The answer is about the danger: the numbers and what to do first, then what the sources hold on it.
        emergency = self.danger.block(q, numbering) if danger else ""
        if screened.reason:
            return self._refuse(q, emergency, screened.message, numbering, screened.reason)
        found = self.evidence.found(q)
        # What decides a refusal, or a danger message answered by its block alone, reads the sections in the
        # retriever's order (the ranker is fitted on questions the sources answer); the answer, in the ranker's.
        hits, retrieved = found.ranked, found.retrieved
        # « à qui parler ? » is what to do; « ya quelqu'un à appeler près de Montbrison ? » asks for a local service.
        asks_more = q.asked in REQUESTS and not q.what_to_do and (q.asked != "contact" or bool(q.places))
        if danger and not (retrieved and (asks_more or self.evidence.names_the_fiche(q, retrieved[0]))):
            # The answer is the danger block: no unrelated fiche when the message tells the danger or asks
            # what to do; a request the sources do not answer is said so. Refused: the sources hold nothing.
            reason = Reason.ANSWERED if hits else Reason.NO_EVIDENCE
            if q.asked in REQUESTS and not q.what_to_do:
                return replace(self._refuse(q, emergency, "", numbering, reason), refused=not hits)
            return finish(q, emergency_block(emergency), numbering.citations, not hits, reason)
        # Under a danger signal, « whom do I call? » is answered by the danger block.
        # A local contact asked beside the danger (« le numéro de la police municipale de Vienne ? ») must be
        # held by the sources like any datum; « qui appeler ? » alone is the danger block's.
        whom_only = q.what_to_do or (q.asked == "contact" and not asks_more)
        refusal = None if danger and whom_only else self.answerability.unanswerable(q, retrieved)
        # « le Relais Écoute de Saint-Genest-Malifaux, c'est ouvert quand ? »: the fiche the question names is
        # said, with what is missing (a rule's refusal, not the scope model's guess).
        by_rule = refusal is not None and refusal[0] in NEARBY_REASONS and not danger
        if refusal is None and not danger and self.scope is not None:
            refusal = self.answerability.outside_scope(q, retrieved, self.scope)
        notice = ""
        datum_missing = bool(refusal and refusal[0] == Reason.NO_DATUM and q.asks_besides_datum)
        if refusal and datum_missing:
            notice = refusal[1]  # « c'est quoi la CRIP et comment la joindre ? »: the rest, and what is missing
        elif refusal:
            where = self._named_fiche(q, retrieved, numbering) if by_rule else ""
            return self._refuse(q, emergency, refusal[1], numbering, refusal[0], where)
        elif "still" in q.asks:
            notice = load_datum_messages()["still"]  # « ça existe encore ? »: what the fiche said, and when
        report = q.audience == Audience.PROFESSIONNEL and asks_how_to_report(q.text)
        plan = self._plan(q, hits)
        if plan.lead is None:
            return self._refuse(q, emergency, "", numbering, Reason.NO_EVIDENCE)
        lead = plan.lead.candidate.unit.text
        # the datum the lead gives is not said to be missing (« c a quelle adresse ? » led by the address)
        if datum_missing and self.answerability.gives_datum(q, lead):
            notice = ""
        if not notice and not danger:
            notice = self.answerability.missing_datum(q, hits, lead)  # « on appelle quand ? c'est quel numéro ? »
        # « a-t-il été créé ? »: a plan says what it intends, not what came of it (a fiche's status says it)
        if not notice and "done" in q.asks and not self.fiches[plan.cards[0][0].section_id].status:
            notice = load_datum_messages()["done"]
        if not notice:
            notice = self.elsewhere(q, [hit for hit, _ in plan.cards]) or self.homonyms(q, plan)
        cards = tuple(hit.section_id for hit, _ in plan.cards)
        # « comment faire une IP ? » asked by a professional: the steps first (the danger block holds them too)
        steps = [self.danger.report_steps(numbering)] if report and not danger else []
        blocks = emergency_block(emergency) + steps + self.writer.blocks(q, plan, load_profile(audience), numbering)
        if notice:
            blocks.append(Block(BlockKind.NOTICE, notice))
        return finish(q, blocks, numbering.citations, False, Reason.ANSWERED, "extractive", cards)

    def homonyms(self, q: Question, plan: Shape) -> str:
        """« la clef c pr quel âge ? »: when the answer quotes services of two départements that bear the name asked
        about (La Clef in Isère, La CLEF in the Lunévillois), what tells them apart; "" otherwise."""
        if q.homonym is None:
            return ""
        quoted = {self.evidence.departement(hit) for hit, _ in plan.cards}.intersection(q.homonym.departements)
        return q.homonym.notice if len(quoted) > 1 else ""

    def elsewhere(self, q: Question, cards: Sequence[SectionHit]) -> str:
        """« Les fiches citées sont celles de la Loire, pas de l'Isère » when the question names a place of a
        département and every card is another's; "" otherwise."""
        asked = fold(q.departement or "")
        # a place read within a typo (« berlin » for Bernin) is not enough to say where the person is
        named = any(not place.typo and fold(place.departement) == asked for place in q.query.places)
        if not asked or not named or not cards:
            return ""
        found = {self.evidence.departement(hit) for hit in cards}
        if asked in found or "" in found:
            return ""
        names = {fold(d.departement_name()): d.departement_name() for d in self.retriever.documents.values()}
        return load_datum_messages()["elsewhere"].format(
            found=" et ".join(_of(names.get(d, d)) for d in sorted(found)),
            asked=_of(names.get(asked, q.departement or "")),
        )

    def stream(self, question: str, audience: str = "famille", history: Sequence[Turn] = ()) -> Iterator[str]:
        """The answer as pieces of text, as they are produced (see `events`), then its sources list."""
        for piece in self.events(question, audience, history):
            if isinstance(piece, str):
                yield piece
            elif piece.citations:
                yield "\n\n" + render("sources.j2", citations=piece.citations)

    def events(self, question: str, audience: str = "famille", history: Sequence[Turn] = ()) -> Iterator[str | Answer]:
        """Pieces of the answer's body as they are produced, then the complete Answer (blocks, citations,
        flags) last; the sources list is the Answer's, not a piece. With a chat model, its lines are
        streamed as they come after the emergency block; otherwise, and on any model failure before the
        first line, the checked extractive answer is sent whole."""
        extractive = self._extractive(clean_question(question), audience, history)
        if self.chat_model is None or extractive.refused or not extractive.sections:
            yield extractive.body
            yield extractive
            return
        model = ModelAnswer(self.chat_model, self.retriever, self.fiches, self.danger, self.evidence.k)
        yield from model.events(extractive)

    def selection_candidates(self, question: str, audience: str) -> tuple[list[SectionHit], list[Candidate]]:
        """What the composer chooses from for a question (no history): the sections and their scored
        units; empty when the question is refused before composition. Used to fit the selection."""
        q = self.analyse(question, audience)
        if screen(q).reason:
            return [], []
        hits = self.evidence.sections(q)
        return hits, self._candidates(q, hits)

    def evidence_coverage(self, query: Query, candidates: int = 20) -> float:
        """Share of the question's information found together in one passage (see `Evidence.coverage`)."""
        return self.evidence.coverage(query, candidates)

    def _plan(self, q: Question, hits: Sequence[SectionHit]) -> Shape:
        """The lead and the cards of the answer: every sentence of the best sections scored."""
        profile = load_profile(q.audience)
        scored = score(self._candidates(q, hits), self.selection, profile.name)
        # Left out: what the fiche says of a sibling of the service asked (« à La Clef, les parents sont
        # impliqués ? »: not « « La Clef des Petits » accueille… »), and a section met only through the place named.
        by_section: dict[int, list[Unit]] = {}
        for s in scored:
            by_section.setdefault(s.candidate.section, []).append(s.candidate.unit)
        asked_services = {i: self.fiches[hits[i].section_id].services_asked(q.text) for i in by_section}
        analyzer = self.retriever.analyzer
        off = {i for i, units in by_section.items() if met_only_by_place(analyzer, hits[i].title, units, q.query)}
        own = [
            s
            for s in scored
            if not of_siblings_only(s.candidate.unit.text, asked_services[s.candidate.section])
            # nor what it says in a paragraph on a sibling (« Cet accueil provisoire… n'excédant pas un an » under
            # « « La Clef des Petits » : »)
            and not of_siblings_only(
                self.fiches[hits[s.candidate.section].section_id].service_of(s.candidate.unit.order),
                asked_services[s.candidate.section],
            )
            and s.candidate.section not in off
        ]
        scored = own or scored
        # « qui pilote la fiche n°14 ? »: who runs the fiches a question names by number, not who runs the other
        # fiches that scored (a question on the contents may name one fiche and describe another)
        if q.asked in ("who_pilots", "partners"):
            named = [
                s
                for s in scored
                if hits[s.candidate.section].kind == "fiche"
                and fiche_number(hits[s.candidate.section].number) in q.query.fiches
            ]
            scored = named or scored
        # « le num de la Clef ? »: the lead is the contact line that holds a phone number, not the address
        asked = asking_form(q.text)
        datum = tuple(p for kind in asked_kinds() if kind.id == q.asked and kind.datum for p in kind.datum_for(asked))
        budget = self.selection.budget(profile.name)
        # « que signifient TISF, MECS et ODPE ? »: each acronym asked gets its glossary line
        # (not « l'AEMO/AED …, que signifie la « double référence » ? », which asks another term)
        defined = listed_acronyms(q.text, q.query.acronyms) if q.asked == "definition" else frozenset()
        if q.defined and not defined & set(q.defined.split()):
            defined = frozenset()
        return shape(hits, scored, budget, profile.max_sections, q.asked, datum, q.text, defined)

    def _candidates(self, q: Question, hits: Sequence[SectionHit]) -> list[Candidate]:
        profile = load_profile(q.audience)
        best = [p for h in hits[: profile.max_sections] for p in self.fiches[h.section_id].passages]
        scores = self.evidence.passage_scores(q.query, best)
        analyzer, idf = self.retriever.analyzer, self.evidence.idf
        return candidates(hits, q.query, analyzer, profile, idf, self.fiches, scores)

    def _named_fiche(self, q: Question, hits: Sequence[SectionHit], numbering: Numbering) -> str:
        """The reviewed fiche a refused question names, cited (`Writer.nearby`); "" when it names none."""
        top = hits[0] if hits else None
        if top is None or top.doc_id in self.retriever.unreviewed or not self.evidence.names_the_fiche(q, top):
            return ""
        return self.writer.nearby(top, numbering)

    def _refuse(
        self, q: Question, emergency: str, orientation: str, numbering: Numbering, reason: Reason, nearby: str = ""
    ) -> Answer:
        """The sources do not answer: the danger block first when there is one, then why and where to turn,
        and the fiche the question is about when it names one (`nearby`, already cited)."""
        whom = whom_to_ask(q.text)  # a family's « à qui s'adresser », for the age or situation named
        text = render("refusal.j2", audience=q.audience, orientation=orientation, nearby=nearby, whom=whom)
        blocks = [*emergency_block(emergency), Block(BlockKind.REFUSAL, text)]
        return finish(q, blocks, numbering.citations, True, reason)


def _of(departement: str) -> str:
    """« de la Loire », « de l'Isère », « de la Meurthe-et-Moselle »."""
    name = departement.strip()
    return f"de l'{name}" if fold(name)[:1] in "aeiouy" else f"de la {name}"
