"""Answer stage: question (+ audience, history) -> grounded Answer with citations.

Order of checks: empty question -> error; injection -> refusal; danger signal -> emergency block
first; out-of-scope topic, out-of-area place or no evidence -> refusal that points to the right kind
of service; otherwise the extractive composer (default) or an optional LangChain chat model.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

import numpy as np
from langchain_core.language_models import BaseChatModel

from assistant.citations import (
    CONTACT_PATTERNS,
    Citation,
    addresses_assistant,
    discourages_emergency,
    markers,
    neutralise,
)
from assistant.compose import (
    Candidate,
    SectionAnswer,
    Selection,
    Unit,
    candidates,
    compose,
    contact_line,
    contact_units,
    has_contact,
    split_units,
    warm_up,
)
from assistant.conversation import Turn
from assistant.llm import LLMError, generate, stream_lines
from assistant.safety import normalise
from assistant.understand import AskedKind, Audience, Question, analyse, asked_kinds, datum_words, organisations
from corpus.clean import fold
from prompts.render import (
    Profile,
    load_datum_messages,
    load_named_person_message,
    load_orientations,
    load_out_of_area_message,
    load_profile,
    render,
)
from retrieval.analyze import Query
from retrieval.retrieve import Passage, Retriever, SectionHit

MAX_QUESTION_CHARS = 2000
CALIBRATION_FILE = Path(__file__).resolve().parent / "calibration.json"
FALLBACK_NOTE = (
    "(Le modèle de langue n'a pas répondu correctement : cette réponse est construite directement "
    "à partir des passages des documents.)"
)
# Under a danger signal, the fiches found are shown only when the message also asks for something they
# can answer (« y a une asso pour partir avec mes enfants ? »); a message that tells the danger, or asks
# what to do, gets the danger block and no unrelated local resource.
REQUESTS = frozenset(
    {"list_actions", "contact", "hours_address", "who_pilots", "definition", "difference", "cost_amount", "procedure"}
)
COMMON_IDF = 1.5  # log(1 + passages / df): below, a word in over ~30 % of the passages (« enfant »)
# For professionals, what to do about a child in danger (the procedure of art. L226-3 and L226-4 CASF).
PROFESSIONAL_STEPS = (
    "Transmettez sans délai une information préoccupante à la cellule de recueil des informations "
    "préoccupantes (CRIP) du Département où vit l'enfant, en décrivant les faits observés ou rapportés.",
    "Si l'enfant est en danger grave ou immédiat, faites un signalement directement au procureur de la "
    "République (parquet du tribunal judiciaire) et informez-en la CRIP ; en urgence, le 17 ou le 112.",
    "Informez les parents de la transmission, sauf si c'est contraire à l'intérêt de l'enfant. En cas de "
    "doute, le 119 conseille aussi les professionnels.",
)


class AskError(ValueError):
    """A question that cannot be asked (empty, too long, unknown audience); message in French."""


# Control characters (but tab and newline), the bidirectional embedding / override / isolate controls
# (they would reorder how the question reads back on a page or in the trainers' lists) and the BOM.
_INVISIBLE_RANGES = r"\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff"
_INVISIBLE = re.compile(f"[{_INVISIBLE_RANGES}]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# A question must hold at least one character matching this (same in Python and ECMA-262 regexes):
# the API spec documents it as the question's `pattern`.
READABLE_PATTERN = rf"[^\s{_INVISIBLE_RANGES}]"


def has_text(text: str) -> bool:
    """Whether `clean_question` would find something to read in `text`."""
    return bool(_INVISIBLE.sub(" ", text).strip())


def clean_question(question: str) -> str:
    """The question as the engine reads it: control and bidi-override characters become spaces, then
    stripped. A lone UTF-16 surrogate (not a character) is refused, like an empty or too long question."""
    if _SURROGATE.search(question):
        raise AskError("La question contient un caractère invalide.")
    question = _INVISIBLE.sub(" ", question).strip()
    if not question:
        raise AskError("La question est vide.")
    if len(question) > MAX_QUESTION_CHARS:
        raise AskError(f"La question est trop longue ({len(question)} caractères, {MAX_QUESTION_CHARS} au plus).")
    return question


class Reason(StrEnum):
    """Why an answer is what it is (a refusal's reason, or "answered")."""

    ANSWERED = "answered"
    INJECTION = "injection"
    OUT_OF_SCOPE = "out_of_scope"  # a topic of another service (allowances, health, school, justice…)
    OUT_OF_AREA = "out_of_area"  # a place or département the corpus does not cover
    NO_EVIDENCE = "no_evidence"  # too little of the question is in any passage
    NO_DATUM = "no_datum"  # asks for a number, hours, an amount, a delay or a figure no passage about it holds
    OUT_OF_PERIOD = "out_of_period"  # a year after the sources' period, or one no passage mentions


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    audience: str
    text: str
    citations: tuple[Citation, ...]
    refused: bool
    emergency: bool
    reason: str  # a Reason
    engine: str = "extractive"  # "extractive" | "llm" | "extractive-fallback" (the model failed)
    query: str = ""
    sections: tuple[str, ...] = field(default=())
    analysis: Question | None = None  # what the question analysis found


@dataclass(frozen=True, slots=True)
class Calibration:
    """Refusal threshold set on the eval set by `python -m evals.calibrate`."""

    min_coverage: float = 0.0
    datum_coverage: float = 0.5  # share of the question's subject a passage holding the asked datum must cover

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        from retrieval.tuned import read_tuned  # a missing file is an error naming it, not a 0.0 threshold

        return cls(**read_tuned(path, "python -m evals.calibrate --write"))


@dataclass(frozen=True, slots=True)
class Screen:
    """A question screened before retrieval: why it is refused (None when it is not), with the
    orientation message to show."""

    reason: Reason | None = None
    message: str = ""


class Numbering:
    """Gives each cited passage one [n], in order of first use."""

    def __init__(self, unreviewed: frozenset[str] = frozenset()) -> None:
        self.citations: list[Citation] = []
        self._by_chunk: dict[str, int] = {}
        self.unreviewed = unreviewed

    def cite(self, hit: SectionHit, passage: Passage) -> int:
        if passage.chunk_id not in self._by_chunk:
            n = len(self.citations) + 1
            self._by_chunk[passage.chunk_id] = n
            fiche = f"Fiche {hit.title}" if hit.kind == "fiche" else hit.title
            self.citations.append(
                Citation(
                    n,
                    passage.chunk_id,
                    hit.section_id,
                    hit.document,
                    fiche,
                    hit.page,
                    hit.source,
                    passage.start_line,
                    passage.end_line,
                    passage.text,
                    hit.territory,
                    hit.doc_id not in self.unreviewed,
                )
            )
        return self._by_chunk[passage.chunk_id]


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
    ) -> None:
        self.retriever = retriever
        self.k = k
        self.chat_model = chat_model
        self._recall: tuple[SectionHit, Passage, str] | None = None
        self._crip: tuple[SectionHit, Passage, str] | None = None
        self.datum_coverage = datum_coverage if datum_coverage is not None else Calibration.load().datum_coverage
        self._datum_tokens = frozenset(retriever.analyzer.tokens(" ".join(datum_words())))
        # Each passage with its context header, folded, padded with spaces: for phrase look-ups.
        self._folded_chunks = [
            f" {normalise(m['header'] + ' ' + t)} " for m, t in zip(retriever.meta, retriever.texts, strict=True)
        ]
        chunk_tokens = [
            retriever.analyzer.tokens(f"{m['header']}\n{t}")
            for m, t in zip(retriever.meta, retriever.texts, strict=True)
        ]
        self.idf = _idf(chunk_tokens)
        self.unknown_idf = max(self.idf.values(), default=1.0)  # weight of a word no chunk has
        self.chunk_token_sets = [set(tokens) for tokens in chunk_tokens]
        self.min_coverage = min_coverage if min_coverage is not None else Calibration.load().min_coverage
        self.selection = selection or Selection.load()
        self._chunk_index = {chunk_id: i for i, chunk_id in enumerate(retriever.ids)}
        warm_up(retriever)

    def analyse(self, question: str, audience: str = "famille", history: Sequence[Turn] = ()) -> Question:
        """The question analysis (danger, injection, what is asked, places, years…)."""
        load_profile(audience)
        return analyse(clean_question(question), audience, self.retriever.analyzer, history)

    def ask(self, question: str, audience: str = "famille", history: Sequence[Turn] = ()) -> Answer:
        question = clean_question(question)
        profile = load_profile(audience)  # an unknown audience is refused here, in French
        q = analyse(question, audience, self.retriever.analyzer, history)
        danger = q.danger.signalled
        numbering = Numbering(self.retriever.unreviewed)
        screen = self._screen(q)
        if screen.reason == Reason.INJECTION:
            emergency = self._emergency(q, numbering) if danger else ""
            text = render("injection.j2", audience=audience, emergency=emergency)
            return self._done(q, text, numbering, True, Reason.INJECTION)
        # The answer is about the danger: the numbers and what to do first, then what the sources hold on it.
        emergency = self._danger_block(q, numbering) if danger else ""
        if screen.reason:
            text = render("refusal.j2", audience=audience, emergency=emergency, orientation=screen.message)
            return self._done(q, text, numbering, True, screen.reason)
        hits = self._evidence(q)
        # « à qui parler ? » is what to do; « ya quelqu'un à appeler près de Montbrison ? » asks for a local service.
        asks_more = q.asked in REQUESTS and not q.what_to_do and (q.asked != "contact" or bool(q.places))
        if danger and not (hits and (asks_more or self._names_the_fiche(q, hits[0]))):
            # The answer is the danger block: no unrelated fiche when the message tells the danger or asks
            # what to do; a request the sources do not answer is said so. Refused: the sources hold nothing.
            text = emergency
            if q.asked in REQUESTS and not q.what_to_do:
                text = render("refusal.j2", audience=audience, emergency=emergency, orientation="")
            reason = Reason.ANSWERED if hits else Reason.NO_EVIDENCE
            return self._done(q, text, numbering, not hits, reason)
        # Under a danger signal, « whom do I call? » is answered by the danger block.
        refusal = None if danger and (q.what_to_do or q.asked == "contact") else self._unanswerable(q, hits)
        notice = ""
        if refusal and refusal[0] == Reason.NO_DATUM and q.asks_besides_datum:
            # « c'est quoi la CRIP et comment la joindre ? »: answer the rest, say the datum is missing
            notice = refusal[1]
        elif refusal:
            reason, message = refusal
            text = render("refusal.j2", audience=audience, emergency=emergency, orientation=message)
            return self._done(q, text, numbering, True, reason)
        query = q.query
        whole = self._whole_sections(hits, profile)
        sections = compose(
            hits,
            query,
            self.retriever.analyzer,
            profile,
            self.idf,
            whole,
            self.selection,
            self._passage_scores(query, whole),
        )
        if not sections:
            text = render("refusal.j2", audience=audience, emergency=emergency, orientation="")
            return self._done(q, text, numbering, True, Reason.NO_EVIDENCE)
        if self.chat_model is not None:
            llm_answer = self._llm_answer(q, sections, emergency, numbering)
            if llm_answer is not None:
                return llm_answer
            numbering = Numbering(self.retriever.unreviewed)  # the extractive fallback numbers its own passages
            emergency = self._danger_block(q, numbering) if danger else ""
            fallback_note = FALLBACK_NOTE
        else:
            fallback_note = ""
        contacts: list[Unit] = []
        top = sections[0].hit
        if profile.contact_first and top.doc_id not in self.retriever.unreviewed:
            # a family needs the contact details of the best fiche, wherever they are (never from an
            # unreviewed added document)
            contacts = contact_units(top, self.retriever.section_passages(top.section_id))
        text = self._render_answer(sections, contacts, query, profile.answer_template, audience, emergency, numbering)
        if notice:
            text = f"{text.rstrip()}\n\n{notice}"
        if fallback_note:  # after the emergency block, which always comes first
            head = f"{emergency}\n\n" if emergency and text.startswith(emergency) else ""
            text = f"{head}{fallback_note}\n\n{text[len(head) :]}"
        answer = self._done(q, text, numbering, False, Reason.ANSWERED)
        engine = "extractive-fallback" if fallback_note else "extractive"
        return replace(answer, sections=tuple(s.hit.section_id for s in sections), engine=engine)

    def _evidence(self, q: Question) -> list[SectionHit]:
        """The sections an answer may quote (none when the corpus covers too little of the question);
        the département the question names ranks its own documents first."""
        hits = self._usable(self.retriever.search(q.query_text, k=self.k, audience=q.audience, query=q.query))
        if q.departement:
            dep = fold(q.departement)
            hits.sort(key=lambda h: self._departement(h) != dep)  # stable: the ranking within each group stays
        if self.evidence_coverage(q.query) < self.min_coverage:  # too little of the question is in any passage
            return []
        return hits

    def _names_the_fiche(self, q: Question, hit: SectionHit) -> bool:
        """Whether the question names what the fiche is about (« la Clef des Petits peut nous accueillir ? »):
        two words of its title, or half of them, are in the question (words in most passages aside)."""
        title = {t for t in self.retriever.analyzer.tokens(hit.title) if self.idf.get(t, 0.0) >= COMMON_IDF}
        shared = title.intersection(q.query.tokens)
        return len(shared) >= 2 or (bool(title) and 2 * len(shared) >= len(title))

    def _in_place(self, q: Question, hit: SectionHit) -> bool:
        """Whether a fiche serves the place the question names (its territory, or its whole département)."""
        if not q.places:
            return True
        served = {fold(hit.territory or ""), self._departement(hit)}
        return any({fold(p.name), fold(p.departement)} & served for p in q.places)

    def _departement(self, hit: SectionHit) -> str:
        document = self.retriever.documents.get(hit.doc_id)
        return fold(document.departement_name()) if document else ""

    def _unanswerable(self, q: Question, hits: Sequence[SectionHit]) -> tuple[Reason, str] | None:
        """Why the evidence cannot answer what is asked: a year after the sources' period (or one that no
        retrieved passage mentions, for a figure), or a datum (number, hours, amount, delay, figure)
        that no retrieved passage about the question holds. None when it can."""
        messages = load_datum_messages()
        best = hits[: load_profile(q.audience).max_sections]  # the sections an answer quotes
        ends = [y[1] for d in self.retriever.documents.values() if (y := d.years())]
        texts = [p.text for h in best for p in self.retriever.section_passages(h.section_id)] if q.years else []
        for year in q.years:
            late = bool(ends) and year > max(ends)
            since = re.search(rf"\b(depuis|a partir de|since)\s+{year}\b", fold(q.text)) is not None
            unmentioned = q.wants_datum and not since and not any(_figure_for_year(year, text) for text in texts)
            if late or unmentioned:
                periods = ", ".join(sorted({d.period for d in self.retriever.documents.values() if d.period}))
                return Reason.OUT_OF_PERIOD, messages["period"].format(periods=periods, year=year)
        kinds = [kind for kind in asked_kinds() if kind.datum and kind.id in q.asks]
        if kinds and not self._holds_datum(q, best, kinds):
            return Reason.NO_DATUM, messages[kinds[0].id]
        return None

    def _holds_datum(self, q: Question, hits: Sequence[SectionHit], kinds: Sequence[AskedKind]) -> bool:
        """Whether one passage of the given (best) sections holds a datum of an asked kind and is about the
        question (its words, the datum words aside, weigh at least `datum_coverage` of the question's)."""
        subject = [t for t in dict.fromkeys(q.query.tokens) if t not in self._datum_tokens]
        # Whose contact or hours: a passage that does not name the organisation asked about is about another one.
        whose = q.organisation and any(kind.id in ("contact", "hours_address") for kind in kinds)
        forms = organisations().get(q.organisation or "", ()) if whose else ()
        weights = {t: self.idf.get(t, self.unknown_idf) for t in subject}
        total = sum(weights.values())
        for hit in hits:
            if hit.doc_id in self.retriever.unreviewed:
                continue  # a datum from an unreviewed added document cannot be given
            if not self._in_place(q, hit):
                continue  # hours of a service elsewhere are not the hours asked
            for passage in self.retriever.section_passages(hit.section_id):
                if not any(pattern.search(passage.text) for kind in kinds for pattern in kind.datum):
                    continue
                if total == 0:
                    return True
                index = self._chunk_index[passage.chunk_id]
                if forms and not any(f" {form} " in self._folded_chunks[index] for form in forms):
                    continue  # « les horaires de la CAF »: a passage that does not name the CAF is about something else
                tokens = self.chunk_token_sets[index]
                if sum(w for t, w in weights.items() if t in tokens) / total >= self.datum_coverage:
                    return True
        return False

    @staticmethod
    def _usable(hits: Sequence[SectionHit]) -> list[SectionHit]:
        return [h for h in hits if h.channels.get("bm25_chunk", 0) > 0 or h.channels.get("territory", 0) > 0]

    def _passage_scores(self, query: Query, whole: dict[str, list[Passage]]) -> dict[str, float]:
        """BM25 of every passage of the given sections for the question (expansions at half weight)."""
        wanted = [self._chunk_index[p.chunk_id] for passages in whole.values() for p in passages]
        if not wanted:
            return {}
        scores = self.retriever.bm25_chunks.get_scores(query.tokens or ["\u2205"])
        if query.expansions:
            scores = scores + 0.5 * self.retriever.bm25_chunks.get_scores(query.expansions)
        return {self.retriever.ids[i]: float(scores[i]) for i in wanted}

    def _whole_sections(self, hits: Sequence[SectionHit], profile: Profile) -> dict[str, list[Passage]]:
        return {h.section_id: self.retriever.section_passages(h.section_id) for h in hits[: profile.max_sections]}

    def selection_candidates(self, question: str, audience: str) -> tuple[list[SectionHit], list[Candidate]]:
        """What the composer chooses from for a question (no history): the sections and their scored
        units; empty when the question is refused before composition. Used to fit the selection."""
        profile = load_profile(audience)
        q = self.analyse(question, audience)
        if self._screen(q).reason:
            return [], []
        hits = self._evidence(q)
        whole = self._whole_sections(hits, profile)
        found = candidates(
            hits, q.query, self.retriever.analyzer, profile, self.idf, whole, self._passage_scores(q.query, whole)
        )
        return hits, found

    def _llm_answer(
        self, q: Question, sections: list[SectionAnswer], emergency: str, numbering: Numbering
    ) -> Answer | None:
        """The chat model's answer over the numbered passages of the best sections, or None to fall back."""
        assert self.chat_model is not None
        profile = load_profile(q.audience)
        before = len(numbering.citations)
        for section in sections:
            for passage in section.hit.passages:
                numbering.cite(section.hit, passage)
        top = sections[0].hit if sections else None
        if profile.contact_first and top and top.doc_id not in self.retriever.unreviewed:
            for unit in contact_units(top, self.retriever.section_passages(top.section_id)):
                numbering.cite(top, unit.passage)  # families: the best fiche's contact details too
        passages = [for_model(c) for c in numbering.citations[before:]]
        try:
            text, cited = generate(self.chat_model, q.text, profile, passages)
        except LLMError:
            return None
        kept = numbering.citations[:before] + cited
        body = f"{emergency}\n\n{text}" if emergency else text
        body = f"{body}\n\n{render('sources.j2', citations=kept)}"
        return Answer(
            q.text,
            q.audience,
            body,
            tuple(kept),
            False,
            q.danger.signalled,
            Reason.ANSWERED,
            "llm",
            q.query_text,
            tuple(s.hit.section_id for s in sections),
            q,
        )

    def evidence_coverage(self, query: Query, candidates: int = 20) -> float:
        """Share of the question's information (IDF-weighted tokens) found together in one passage,
        best over the passages BM25 ranks first. Low values mean the corpus does not cover the question."""
        tokens = list(dict.fromkeys(query.tokens))
        if not tokens:
            return 0.0
        weights = {t: self.idf.get(t, self.unknown_idf) for t in tokens}
        total = sum(weights.values())
        scores = np.asarray(self.retriever.bm25_chunks.get_scores(tokens))
        best = 0.0
        for i in np.argsort(-scores, kind="stable")[:candidates]:
            best = max(best, sum(w for t, w in weights.items() if t in self.chunk_token_sets[i]) / total)
        return best

    def stream(self, question: str, audience: str = "famille", history: Sequence[Turn] = ()) -> Iterator[str]:
        """The answer as pieces of text, as they are produced (see `events`)."""
        for piece in self.events(question, audience, history):
            if isinstance(piece, str):
                yield piece

    def events(self, question: str, audience: str = "famille", history: Sequence[Turn] = ()) -> Iterator[str | Answer]:
        """Pieces of text as they are produced, then the complete Answer (citations, flags) last.

        With a chat model, its lines are streamed as they come, each checked for citations and
        contacts, after the emergency block; otherwise, and on any model failure before the first
        line, the checked extractive answer is sent whole."""
        question = clean_question(question)
        if self.chat_model is None:
            answer = self.ask(question, audience, history)
            yield answer.text
            yield answer
            return
        plain = copy.copy(self)  # same indexes and calibration, no chat model
        plain.chat_model = None
        extractive = plain.ask(question, audience, history)
        if extractive.refused or not extractive.sections:
            yield extractive.text
            yield extractive
            return
        q = extractive.analysis
        assert q is not None
        numbering = Numbering(self.retriever.unreviewed)
        head = ""
        if q.danger.signalled:
            head = self._danger_block(q, numbering) + "\n\n"
            yield head
        before = len(numbering.citations)
        hits = [
            h
            for h in self.retriever.search(extractive.query, k=self.k, audience=audience)
            if h.section_id in extractive.sections
        ]
        for hit in hits:
            for passage in hit.passages:
                numbering.cite(hit, passage)
        passages = [for_model(c) for c in numbering.citations[before:]]
        sent: list[str] = []
        try:
            for line in stream_lines(self.chat_model, question, load_profile(audience), passages):
                sent.append(line)
                yield line
        except LLMError:
            fallback = replace(extractive, text=f"{FALLBACK_NOTE}\n\n{extractive.text}", engine="extractive-fallback")
            yield fallback.text
            yield fallback
            return
        cited = {n for line in sent for n in markers(line)}
        kept = numbering.citations[:before] + [c for c in numbering.citations[before:] if c.n in cited]
        tail = "\n\n" + render("sources.j2", citations=kept) if kept else ""
        if tail:
            yield tail
        yield Answer(
            question,
            audience,
            head + "".join(sent) + tail,
            tuple(kept),
            False,
            extractive.emergency,
            Reason.ANSWERED,
            "llm",
            extractive.query,
            extractive.sections,
            q,
        )

    # -- pieces ---------------------------------------------------------------------------------

    def _done(self, q: Question, text: str, numbering: Numbering, refused: bool, reason: Reason) -> Answer:
        if numbering.citations:
            text = f"{text}\n\n{render('sources.j2', citations=numbering.citations)}"
        return Answer(
            q.text,
            q.audience,
            text,
            tuple(numbering.citations),
            refused,
            q.danger.signalled,
            reason,
            "extractive",
            q.query_text,
            analysis=q,
        )

    def _emergency(self, q: Question, numbering: Numbering) -> str:
        recall = None
        if q.audience == Audience.PROFESSIONNEL:
            found = self._ip_recall()
            if found:
                hit, passage, sentence = found
                recall = {"text": sentence, "n": numbering.cite(hit, passage)}
        return render("emergency.j2", audience=q.audience, recall=recall, level=q.danger.level)

    def _danger_block(self, q: Question, numbering: Numbering) -> str:
        """The emergency numbers, then what to do about the danger."""
        return f"{self._emergency(q, numbering)}\n\n{self._what_to_do(q, numbering)}".rstrip()

    def _what_to_do(self, q: Question, numbering: Numbering) -> str:
        """What to do about the danger: for families, what the 119 does; for professionals, the steps
        from the information préoccupante to the CRIP to the signalement, with the sources' sentence."""
        steps: list[dict[str, str | int | None]] = [{"text": step, "n": None} for step in PROFESSIONAL_STEPS]
        found = self._crip_sentence()
        if found and q.audience == Audience.PROFESSIONNEL:
            hit, passage, sentence = found
            role = f"Le rôle de la cellule, selon le schéma de l'Isère : {sentence}"
            steps.insert(1, {"text": role, "n": numbering.cite(hit, passage)})
        return render(
            "danger.j2", audience=q.audience, label=q.danger.label, minor=q.danger.minor_writing, steps=steps
        ).strip()

    def _ip_recall(self) -> tuple[SectionHit, Passage, str] | None:
        """The sources' own sentence on information préoccupante vs signalement (found once)."""
        if self._recall is None:
            self._recall = self._source_sentence(
                "distinction information préoccupante signalement autorité judiciaire", ("distinction", "signalement")
            )
        return self._recall

    def _crip_sentence(self) -> tuple[SectionHit, Passage, str] | None:
        """The sources' sentence on the cell that centralises the informations préoccupantes (found once)."""
        if self._crip is None:
            self._crip = self._source_sentence(
                "cellule centraliser les informations préoccupantes traitement", ("cellule", "centraliser")
            )
        return self._crip

    def _source_sentence(self, query: str, words: tuple[str, ...]) -> tuple[SectionHit, Passage, str] | None:
        for hit in self.retriever.search(query, k=5):
            if hit.doc_id in self.retriever.unreviewed:
                continue
            for passage in hit.passages:
                for unit in split_units(passage.text):
                    folded = unit.lower()
                    if all(word in folded for word in words):
                        return hit, passage, _without_connective(unit)
        return None

    def _screen(self, q: Question) -> Screen:
        """What is refused before retrieval (an injection, a topic of another service, a place outside
        the corpus' areas) with its orientation message."""
        if q.injection:
            return Screen(Reason.INJECTION)
        normalised = normalise(q.query_text)
        for topic in load_orientations():
            if topic.matches(normalised) and not (q.danger.signalled and not topic.with_danger):
                return Screen(Reason.OUT_OF_SCOPE, topic.message)
        if q.outside:
            return Screen(Reason.OUT_OF_AREA, render_place_message(q.outside))
        if q.named_person and not q.danger.signalled:
            return Screen(Reason.OUT_OF_SCOPE, load_named_person_message())
        return Screen()

    def _render_answer(
        self,
        sections: list[SectionAnswer],
        contact_list: list[Unit],
        query: Query,
        template: str,
        audience: str,
        emergency: str,
        numbering: Numbering,
    ) -> str:
        profile = load_profile(audience)
        acronyms = self.retriever.analyzer.acronyms if profile.spell_out_acronyms else {}
        explained: set[str] = set()
        view, contacts, legal = [], [], []
        for unit in contact_list:
            if quotable(unit.text, True):
                text = neutralise(contact_line(unit.text))
                contacts.append({"text": text, "n": numbering.cite(sections[0].hit, unit.passage)})
        for section in sections:
            units = []
            reviewed = section.hit.doc_id not in self.retriever.unreviewed
            for unit in section.units:
                if not quotable(unit.text, reviewed):
                    continue
                spell = acronyms and section.hit.kind != "glossaire"  # a glossary line already defines it
                text = neutralise(_spell_out(unit.text, acronyms, explained) if spell else unit.text)
                contact = profile.contact_first and has_contact(unit.text)
                entry = {
                    "text": contact_line(text) if contact else text,
                    "n": numbering.cite(section.hit, unit.passage),
                }
                if contact:
                    if all(c["text"] != entry["text"] for c in contacts):
                        contacts.append(entry)
                elif profile.show_legal and _is_legal(unit.text):
                    legal.append(entry)
                else:
                    units.append(entry)
            hit = section.hit
            heading = f"Fiche {hit.title}" if hit.kind == "fiche" else hit.title
            if hit.document:
                heading = f"{heading} — {hit.document}"
            view.append(
                {
                    "title": hit.title,
                    "heading": heading,
                    "territory": hit.territory,
                    "public": hit.public,
                    "page": hit.page,
                    "units": units,
                }
            )
        place = ", ".join(p.name for p in query.places)
        return render(
            template,
            sections=[v for v in view if v["units"]] or view,
            contacts=contacts,
            legal=legal,
            emergency=emergency,
            place=place,
        )


def _idf(documents: list[list[str]]) -> dict[str, float]:
    """Inverse document frequency of every token over the chunks (log-scaled, always positive)."""
    counts: dict[str, int] = {}
    for tokens in documents:
        for token in set(tokens):
            counts[token] = counts.get(token, 0) + 1
    n = len(documents)
    return {token: math.log(1 + n / df) for token, df in counts.items()}


def for_model(citation: Citation) -> Citation:
    """A passage as the chat model sees it: markers and markup neutralised, and no contact details when
    it comes from an added document nobody has reviewed yet."""
    quote = neutralise(citation.quote)
    if not citation.reviewed:
        for pattern in CONTACT_PATTERNS.values():
            quote = pattern.sub("[coordonnée non vérifiée retirée]", quote)
    return replace(citation, quote=quote)


def quotable(text: str, reviewed: bool) -> bool:
    """Whether a source sentence may be quoted: never one that tells people not to call the emergency
    numbers or that reads as instructions to the assistant, nor contact details from an unreviewed document."""
    if discourages_emergency(text) or addresses_assistant(text):
        return False
    return reviewed or not has_contact(text)


_SENTENCE = re.compile(r"[^.;•Á]+")  # PDF lines are wrapped: a sentence runs over line breaks
_FIGURE = re.compile(r"(?<![\d/])\d[\d\s.,]*\d(?![\d/])|(?<![\d/])\d(?![\d/])")


_CONNECTIVE = re.compile(r"^(En outre|Par ailleurs|De plus|Ainsi|Enfin|Aussi),\s*")


def _without_connective(sentence: str) -> str:
    """A sentence quoted alone, without the « En outre, » that tied it to the one before."""
    rest = _CONNECTIVE.sub("", sentence)
    return rest[:1].upper() + rest[1:] if rest != sentence else sentence


def _figure_for_year(year: int, text: str) -> bool:
    """Whether a sentence of `text` gives a figure for `year`: it names the year and another number
    (« en 2018, 4 500 IP… »), not only a date (« Bilan : semestre 1 / 2023 »)."""
    for sentence in _SENTENCE.findall(text):
        if str(year) not in sentence:
            continue
        numbers = [n.replace(" ", "") for n in _FIGURE.findall(sentence.replace(str(year), " "))]
        if any(len(n.strip(".,")) >= 2 and not re.fullmatch(r"(19|20)\d\d", n.strip(".,")) for n in numbers):
            return True
    return False


def render_place_message(place: str) -> str:
    return load_out_of_area_message().format(place=place.title())


_LEGAL = re.compile(r"\b(loi du|loi n°|article [LRD]\.?\s?\d|CASF|code de l.action sociale)", re.IGNORECASE)


def _is_legal(text: str) -> bool:
    return bool(_LEGAL.search(text))


def _spell_out(text: str, acronyms: dict[str, list[str]], explained: set[str]) -> str:
    """Families: the sentence stays as the source wrote it; the first use of each acronym is explained
    after it, in parentheses ("… une AED … (AED : action éducative à domicile)")."""
    notes = []
    for word in dict.fromkeys(re.findall(r"\b[A-Z]{2,6}\b", text)):
        key = word.casefold()
        if key in explained or not acronyms.get(key):
            continue
        explained.add(key)
        notes.append(f"{word} : {acronyms[key][0]}")
    return f"{text} ({' ; '.join(notes)})" if notes else text
