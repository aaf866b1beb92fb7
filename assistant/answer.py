"""Answer stage: question (+ audience, history) -> grounded Answer with citations.

Order of checks: empty question -> error; injection -> refusal; danger signal -> emergency block
first; out-of-scope topic, out-of-area place or no evidence -> refusal that points to the right kind
of service; otherwise the extractive composer (default) or an optional LangChain chat model.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from langchain_core.language_models import BaseChatModel

from assistant.citations import Citation, markers
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
from assistant.conversation import Turn, rewrite_query
from assistant.llm import LLMError, generate, stream_lines
from assistant.safety import is_injection, normalise, signals_danger
from prompts.render import Profile, load_orientations, load_out_of_area_message, load_profile, other_places, render
from retrieval.analyze import Query
from retrieval.retrieve import Passage, Retriever, SectionHit

MAX_QUESTION_CHARS = 2000
CALIBRATION_FILE = Path(__file__).resolve().parent / "calibration.json"
FALLBACK_NOTE = (
    "(Le modèle de langue n'a pas répondu correctement : cette réponse est construite directement "
    "à partir des passages des documents.)"
)
DANGER_TOPICS = {
    "famille": "protection de l'enfance violences enfant en danger aide aux familles",
    "professionnel": "information préoccupante CRIP signalement repérage des situations de danger",
}


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


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    audience: str
    text: str
    citations: tuple[Citation, ...]
    refused: bool
    emergency: bool
    reason: str  # "answered" | "injection" | "out_of_scope" | "out_of_area" | "no_evidence"
    engine: str = "extractive"  # "extractive" | "llm" | "extractive-fallback" (the model failed)
    query: str = ""
    sections: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Calibration:
    """Refusal threshold set on the eval set by `python -m evals.calibrate`."""

    min_coverage: float = 0.0

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        return cls(**json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else cls()


@dataclass(frozen=True, slots=True)
class Screen:
    """A question screened before retrieval: why it is refused ("" when it is not), with the orientation
    message to show; otherwise the analysed query."""

    reason: str
    query_text: str
    message: str = ""
    query: Query | None = None


class Numbering:
    """Gives each cited passage one [n], in order of first use."""

    def __init__(self) -> None:
        self.citations: list[Citation] = []
        self._by_chunk: dict[str, int] = {}

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
    ) -> None:
        self.retriever = retriever
        self.k = k
        self.chat_model = chat_model
        self._recall: tuple[SectionHit, Passage, str] | None = None
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

    def ask(self, question: str, audience: str = "famille", history: Sequence[Turn] = ()) -> Answer:
        question = clean_question(question)
        profile = load_profile(audience)
        danger = signals_danger(question)
        numbering = Numbering()
        emergency = self._emergency(audience, numbering) if danger else ""
        screen = self._screen(question, history)
        if screen.reason == "injection":
            text = render("injection.j2", audience=audience, emergency=emergency)
            return self._done(question, audience, text, numbering, True, danger, "injection", question)
        query_text, query = screen.query_text, screen.query
        if screen.reason or query is None:
            text = render("refusal.j2", audience=audience, emergency=emergency, orientation=screen.message)
            return self._done(question, audience, text, numbering, True, danger, screen.reason, query_text)
        hits = self._evidence(query_text, query, audience, danger)
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
            return self._done(question, audience, text, numbering, True, danger, "no_evidence", query_text)
        if self.chat_model is not None:
            llm_answer = self._llm_answer(question, audience, sections, emergency, numbering, danger, query_text)
            if llm_answer is not None:
                return llm_answer
            numbering = Numbering()  # the extractive fallback numbers its own passages
            emergency = self._emergency(audience, numbering) if danger else ""
            fallback_note = FALLBACK_NOTE
        else:
            fallback_note = ""
        contacts: list[Unit] = []
        if profile.contact_first:  # a family needs the contact details of the best fiche, wherever they are
            top = sections[0].hit
            contacts = contact_units(top, self.retriever.section_passages(top.section_id))
        text = self._render_answer(sections, contacts, query, profile.answer_template, audience, emergency, numbering)
        if fallback_note:  # after the emergency block, which always comes first
            head = f"{emergency}\n\n" if emergency and text.startswith(emergency) else ""
            text = f"{head}{fallback_note}\n\n{text[len(head) :]}"
        answer = self._done(question, audience, text, numbering, False, danger, "answered", query_text)
        engine = "extractive-fallback" if fallback_note else "extractive"
        return replace(answer, sections=tuple(s.hit.section_id for s in sections), engine=engine)

    def _evidence(self, query_text: str, query: Query, audience: str, danger: bool) -> list[SectionHit]:
        """The sections an answer may quote (none when the corpus covers too little of the question)."""
        # The question itself first: the emergency block already answers the danger, and the topic words
        # appended to a short question outweighed what it asked (« pilotes de la fiche violences
        # conjugales »). A danger signal steers retrieval towards what the sources say about protecting
        # a child only when the question alone finds nothing.
        hits = self._usable(self.retriever.search(query_text, k=self.k, audience=audience, query=query))
        if danger and not hits:
            search_text = f"{query_text} {DANGER_TOPICS[audience]}"
            hits = self._usable(self.retriever.search(search_text, k=self.k, audience=audience))
        if self.evidence_coverage(query) < self.min_coverage:  # too little of the question is in any passage
            return []
        return hits

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
        question = clean_question(question)
        screen = self._screen(question, ())
        if screen.query is None:
            return [], []
        query_text, query = screen.query_text, screen.query
        hits = self._evidence(query_text, query, audience, signals_danger(question))
        whole = self._whole_sections(hits, profile)
        found = candidates(
            hits, query, self.retriever.analyzer, profile, self.idf, whole, self._passage_scores(query, whole)
        )
        return hits, found

    def _llm_answer(
        self,
        question: str,
        audience: str,
        sections: list[SectionAnswer],
        emergency: str,
        numbering: Numbering,
        danger: bool,
        query_text: str,
    ) -> Answer | None:
        """The chat model's answer over the numbered passages of the best sections, or None to fall back."""
        assert self.chat_model is not None
        before = len(numbering.citations)
        for section in sections:
            for passage in section.hit.passages:
                numbering.cite(section.hit, passage)
        if load_profile(audience).contact_first and sections:  # families: the best fiche's contact details too
            top = sections[0].hit
            for unit in contact_units(top, self.retriever.section_passages(top.section_id)):
                numbering.cite(top, unit.passage)
        passages = numbering.citations[before:]
        try:
            text, cited = generate(self.chat_model, question, load_profile(audience), passages)
        except LLMError:
            return None
        kept = numbering.citations[:before] + cited
        body = f"{emergency}\n\n{text}" if emergency else text
        body = f"{body}\n\n{render('sources.j2', citations=kept)}"
        return Answer(
            question,
            audience,
            body,
            tuple(kept),
            False,
            danger,
            "answered",
            "llm",
            query_text,
            tuple(s.hit.section_id for s in sections),
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
        numbering = Numbering()
        head = self._emergency(audience, numbering) + "\n\n" if extractive.emergency else ""
        if head:
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
        sent: list[str] = []
        try:
            for line in stream_lines(self.chat_model, question, load_profile(audience), numbering.citations[before:]):
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
            "answered",
            "llm",
            extractive.query,
            extractive.sections,
        )

    # -- pieces ---------------------------------------------------------------------------------

    def _done(
        self,
        question: str,
        audience: str,
        text: str,
        numbering: Numbering,
        refused: bool,
        emergency: bool,
        reason: str,
        query: str,
    ) -> Answer:
        if numbering.citations:
            text = f"{text}\n\n{render('sources.j2', citations=numbering.citations)}"
        return Answer(
            question, audience, text, tuple(numbering.citations), refused, emergency, reason, "extractive", query
        )

    def _emergency(self, audience: str, numbering: Numbering) -> str:
        recall = None
        if audience == "professionnel":
            found = self._ip_recall()
            if found:
                hit, passage, sentence = found
                recall = {"text": sentence, "n": numbering.cite(hit, passage)}
        return render("emergency.j2", audience=audience, recall=recall)

    def _ip_recall(self) -> tuple[SectionHit, Passage, str] | None:
        """The sources' own sentence on information préoccupante vs signalement (found once)."""
        if self._recall is None:
            for hit in self.retriever.search(
                "distinction information préoccupante signalement autorité judiciaire", k=5
            ):
                for passage in hit.passages:
                    for unit in split_units(passage.text):
                        folded = unit.lower()
                        if "distinction" in folded and "signalement" in folded:
                            self._recall = (hit, passage, unit)
                            return self._recall
        return self._recall

    def _screen(self, question: str, history: Sequence[Turn]) -> Screen:
        """What is refused before retrieval (an injection, a topic of another service, a place outside
        the corpus' areas) with its orientation message; otherwise the query to retrieve with."""
        if is_injection(question):
            return Screen("injection", question)
        query_text = rewrite_query(question, history, self.retriever.analyzer)
        normalised = normalise(query_text)
        for topic in load_orientations():
            if topic.matches(normalised):
                return Screen("out_of_scope", query_text, topic.message)
        query = self.retriever.analyzer.query(query_text)
        place = self._out_of_area(normalised, query)
        if place:
            return Screen("out_of_area", query_text, render_place_message(place))
        return Screen("", query_text, query=query)

    def _out_of_area(self, normalised: str, query: Query) -> str | None:
        if query.places:
            return None
        padded = f" {normalised} "
        for place in other_places():
            if f" {place} " in padded and f" haut {place} " not in padded:
                return place
        return None

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
            contacts.append({"text": contact_line(unit.text), "n": numbering.cite(sections[0].hit, unit.passage)})
        for section in sections:
            units = []
            for unit in section.units:
                spell = acronyms and section.hit.kind != "glossaire"  # a glossary line already defines it
                text = _spell_out(unit.text, acronyms, explained) if spell else unit.text
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
