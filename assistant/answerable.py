"""Whether the sources can answer (pure over the evidence): what is refused before retrieval (an
injection, a topic of another service, a place outside the corpus' areas, a named person), and what the
evidence cannot answer (a year after the sources' periods, a datum no passage about the question holds),
each with where to turn."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from assistant.danger import default_lexicon
from assistant.evidence import Evidence
from assistant.reply import Reason
from assistant.safety import normalise
from assistant.scope_score import ScopeModel, Signals, capitalised
from assistant.understand import (
    AskedKind,
    Locality,
    Question,
    asked_kinds,
    asking_form,
    datum_words,
    mentions,
    organisations,
)
from corpus.clean import fold
from prompts.render import (
    load_datum_messages,
    load_named_person_message,
    load_orientations,
    load_out_of_area_message,
    load_profile,
    locality_table,
)
from retrieval.analyze import Analyzer
from retrieval.elsewhere import written
from retrieval.retrieve import SectionHit

CALIBRATION_FILE = Path(__file__).resolve().parent / "calibration.json"
_SENTENCE = re.compile(r"[^.;•Á]+")  # PDF lines are wrapped: a sentence runs over line breaks
_DATUM_SENTENCE = re.compile(r"(?<=[.!?;:])\s+|\n+")
_RANGE = re.compile(r"\b((?:19|20)\d\d)\s*[-–/]\s*((?:19|20)\d\d)\b")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
# The kinds of `asked.toml` that ask a figure or an amount for a year: no passage naming a figure for the year
# asked, no answer.
COUNTED_KINDS = frozenset({"figures_dates", "cost_amount"})
_FIGURE = re.compile(r"(?<![\d/])\d[\d\s.,]*\d(?![\d/])|(?<![\d/])\d(?![\d/])")


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


def screen(q: Question) -> Screen:
    """What is refused before retrieval (an injection, a topic of another service, a place outside
    the corpus' areas) with its orientation message."""
    if q.injection:
        return Screen(Reason.INJECTION)
    normalised = normalise(q.query_text)
    if (q.compared or q.defined) and q.clause_query:
        # « quelle différence entre IP et signalement ? J'ai peur que ce soit comme une plainte » asks about
        # two notions of the sources: another service's topic counts only in the clause that asks.
        normalised = normalise(q.clause_query.text)
    # « le BAFA, ça veut dire quoi ? »: what a word the sources' glossaries spell out means is theirs to say,
    # whatever service the word belongs to.
    glossed = bool(q.defined) and q.defined in q.query.acronyms
    for topic in () if glossed else load_orientations():
        if topic.matches(normalised) and not (q.danger.signalled and not topic.with_danger):
            return Screen(Reason.OUT_OF_SCOPE, topic.message)
    if q.outside:
        return Screen(Reason.OUT_OF_AREA, render_place_message(q.outside))
    if q.named_person and not q.danger.signalled:
        return Screen(Reason.OUT_OF_SCOPE, load_named_person_message())
    return Screen()


class Answerability:
    def __init__(self, evidence: Evidence, datum_coverage: float) -> None:
        self.evidence = evidence
        self.retriever = evidence.retriever
        self.datum_coverage = datum_coverage
        self._datum_tokens = frozenset(self.retriever.analyzer.tokens(" ".join(datum_words())))

    def unanswerable(self, q: Question, hits: Sequence[SectionHit]) -> tuple[Reason, str] | None:
        """Why the evidence cannot answer what is asked: a year after the sources' period (or one that no
        retrieved passage mentions, for a figure), or a datum (number, hours, amount, delay, figure)
        that no retrieved passage about the question holds. None when it can."""
        messages = load_datum_messages()
        best = hits[: load_profile(q.audience).max_sections]  # the sections an answer quotes
        trusted = [h for h in best if h.doc_id not in self.retriever.unreviewed]
        if (
            q.locality
            and not q.danger.signalled
            and not any(self.evidence.serves_locality(q.locality, h) for h in trusted)
        ):
            return Reason.UNNAMED_PLACE, render_unnamed_message(q.locality)
        documents = list(self.retriever.documents.values())
        # « en 2023 dans la Loire » is after the Loire's period even though the Isère's runs to 2024.
        own = [d for d in documents if q.departement and fold(d.departement_name()) == fold(q.departement)]
        ends = [y[1] for d in own or documents if (y := d.years())]
        texts = [p.text for h in best for p in self.retriever.section_passages(h.section_id)] if q.years else []
        named = self.document_years(q)
        # « le budget du camp 2014 »: a fiche titled « Camps 2014 » is that year's, and so are its figures.
        titled = {int(y) for h in best for y in _YEAR.findall(h.title)}
        counted = bool(COUNTED_KINDS & set(q.asks))
        for year in (y for y in q.years if y not in named):
            late = bool(ends) and year > max(ends)
            since = re.search(rf"\b(depuis|a partir de|since)\s+{year}\b", fold(q.text)) is not None
            mentioned = year in titled or any(figure_for_year(year, text) for text in texts)
            # a year the figure asked is for (« combien d'IP en 2018 ? »), not one that names the plan or the
            # action (« jusqu'à quand court le schéma signé en 2016 ? », « le contact de la Clef en 2009 »)
            unmentioned = counted and not since and not mentioned
            if late or unmentioned:
                periods = ", ".join(sorted({d.period for d in own or documents if d.period}))
                key = "period" if late else "year_missing"  # « en 2017 » inside 2017-2021: no figure, not after
                return Reason.OUT_OF_PERIOD, messages[key].format(periods=periods, year=year)
        if "future" in q.asks:  # the next plan, beyond every source
            periods = ", ".join(sorted({d.period for d in documents if d.period}))
            return Reason.OUT_OF_PERIOD, messages["future"].format(periods=periods)
        if "person" in q.asks and q.now:
            # Who holds a post today: dated sources cannot say.
            periods = ", ".join(sorted({d.period for d in documents if d.period}))
            return Reason.OUT_OF_PERIOD, messages["now"].format(periods=periods)
        kinds = [kind for kind in asked_kinds() if kind.datum and kind.id in q.asks]
        if kinds and not self.holds_datum(q, best, kinds):
            key = kinds[0].message_key(asking_form(q.text))
            return Reason.NO_DATUM, messages.get(key, messages[kinds[0].id])
        return None

    def _periods(self) -> set[tuple[int, int] | None]:
        return {d.years() for d in self.retriever.documents.values()}

    def document_years(self, q: Question) -> set[int]:
        """The years of the question that name a document (« le schéma 2016-2018 »), not a year asked about."""
        periods = self._periods()
        return {int(y) for a, b in _RANGE.findall(q.text) if (int(a), int(b)) in periods for y in (a, b)}

    def scope_text(self, q: Question) -> str:
        """The question as the scope model reads it: normalised, without the years that name a document
        (« d'après le schéma 2020-2024 »: a year of the 2020s is otherwise read as one after the sources)."""
        periods = self._periods()
        text = _RANGE.sub(lambda m: "" if (int(m[1]), int(m[2])) in periods else m[0], q.text)
        return default_lexicon().normalise(text)

    def missing_datum(self, q: Question, hits: Sequence[SectionHit], lead: str) -> str:
        """« allo pmi on appelle quand ? c'est quel numéro ? »: what to say about a datum asked that neither a
        passage nor the lead holds when another datum asked is held (the answer gives that one), or when the
        question asks whether there is one (« y a un numéro ? »: the line is named, its digits are not); ""
        otherwise."""
        kinds = [kind for kind in asked_kinds() if kind.datum and kind.id in q.asks]
        if not kinds:
            return ""
        best = hits[: load_profile(q.audience).max_sections]
        missing = [k for k in kinds if not self.holds_datum(q, best, [k]) and not self.gives_datum(q, lead, [k])]
        if not missing and q.exists:
            # « ya un numéro pmi ? » is answered by the phone line the sources name (« Numéro unique
            # départemental »); that its digits are not in them is said too
            strict = replace(q, exists=False)
            missing = [
                k for k in kinds if not self.holds_datum(strict, best, [k]) and not self.gives_datum(q, lead, [k])
            ]
        elif len(missing) == len(kinds):
            return ""
        if not missing:
            return ""
        messages = load_datum_messages()
        return messages.get(missing[0].message_key(asking_form(q.text)), messages[missing[0].id])

    def gives_datum(self, q: Question, text: str, kinds: Sequence[AskedKind] = ()) -> bool:
        """Whether a sentence holds a datum of the kinds asked (all the datum kinds the question asks when
        none are given): « … Bourgoin-Jallieu » answers « c a quelle adresse ? »."""
        kinds = kinds or [kind for kind in asked_kinds() if kind.datum and kind.id in q.asks]
        asked = asking_form(q.text)
        return any(pattern.search(text) for kind in kinds for pattern in kind.datum_for(asked))

    def outside_scope(self, q: Question, hits: Sequence[SectionHit], model: ScopeModel) -> tuple[Reason, str] | None:
        """The scope model's refusal of what the rules let through: the missing datum's message when a
        datum is asked, else the general refusal (an empty message)."""
        if not model.outside(self.scope_text(q), self.signals(q, hits)):
            return None
        kind = next((k for k in asked_kinds() if k.datum and k.id in q.asks), None)
        if kind is None:
            return Reason.OUT_OF_SCOPE, ""
        messages = load_datum_messages()
        return Reason.NO_DATUM, messages.get(kind.message_key(asking_form(q.text)), messages[kind.id])

    def signals(self, q: Question, hits: Sequence[SectionHit]) -> Signals:
        """What the evidence says about the question, for the scope model."""
        evidence, analyzer = self.evidence, self.retriever.analyzer
        tokens = list(dict.fromkeys(q.query.tokens))
        unknown = [t for t in tokens if t not in evidence.idf]
        total = sum(evidence.idf.get(t, evidence.unknown_idf) for t in tokens)
        names = [w for w in capitalised(q.text) if not set(analyzer.tokens(w)) & evidence.idf.keys()]
        best = hits[: load_profile(q.audience).max_sections]
        kinds = [kind for kind in asked_kinds() if kind.datum and kind.id in q.asks]
        ends = [y[1] for d in self.retriever.documents.values() if (y := d.years())]
        return Signals(
            coverage=evidence.coverage(q.query),
            unknown=len(unknown),
            unknown_share=evidence.unknown_idf * len(unknown) / total if total else 0.0,
            unknown_names=len(names),
            hits=len(hits),
            asks=q.asks,
            datum_asked=bool(kinds),
            datum_held=bool(kinds) and self.holds_datum(q, best, kinds),
            datum_near=self.datum_near(q, best, kinds) if kinds else 1.0,
            year=bool(set(q.years) - self.document_years(q)),  # « d'après le schéma 2020-2024 » asks no year
            late_year=bool(ends) and any(year > max(ends) for year in q.years),
            place=bool(q.places),
            departement=q.departement is not None,
        )

    def holds_datum(self, q: Question, hits: Sequence[SectionHit], kinds: Sequence[AskedKind]) -> bool:
        """Whether one passage of the given (best) sections holds a datum of an asked kind and is about the
        question (its words, the datum words aside, weigh at least `datum_coverage` of the question's)."""
        evidence = self.evidence
        subject = [t for t in dict.fromkeys(q.query.tokens) if t not in self._datum_tokens]
        # Whose contact or hours: a passage that does not name the organisation asked about is about another one.
        whose = q.organisation and any(kind.id in ("contact", "hours_address") for kind in kinds)
        forms = organisations().get(q.organisation or "", ()) if whose else ()
        # « l'accueil d'urgence du Charmeyran »: the names the question gives (capitalised words the
        # sources know, places aside) must be in the passage that holds the contact or the hours.
        names = self._names(q) if any(kind.id in ("contact", "hours_address") for kind in kinds) else frozenset()
        weights = {t: evidence.idf.get(t, evidence.unknown_idf) for t in subject}
        total = sum(weights.values())
        patterns = _datum_patterns(q, kinds)
        for hit in hits:
            if hit.doc_id in self.retriever.unreviewed:
                continue  # a datum from an unreviewed added document cannot be given
            if not evidence.in_place(q, hit):
                continue  # hours of a service elsewhere are not the hours asked
            tokens: set[str] = set()  # the passage before's, in the section, while the loop reads the next
            for passage in self.retriever.section_passages(hit.section_id):
                index = evidence.chunk_index[passage.chunk_id]
                above, tokens = tokens, evidence.chunk_token_sets[index]
                if not any(pattern.search(passage.text) for pattern in patterns):
                    continue
                if total == 0:
                    return True
                if forms and not any(f" {form} " in evidence.folded_chunks[index] for form in forms):
                    continue  # « les horaires de la CAF »: a passage that does not name the CAF is about something else
                # a contact block cut by a chunk border keeps its heading (« Association « la Providence » ») above
                if not all(t in tokens or t in above for t in names):
                    continue
                if sum(w for t, w in weights.items() if t in tokens) / total >= self.datum_coverage:
                    return True
        return False

    def _names(self, q: Question) -> frozenset[str]:
        """The tokens of the capitalised words of the question that the sources know, places aside."""
        analyzer, idf = self.retriever.analyzer, self.evidence.idf
        places = {t for p in q.places for t in analyzer.tokens(p.matched)}
        words = (t for w in capitalised(q.text) for t in analyzer.tokens(w))
        return frozenset(t for t in words if t in idf and t not in places and t not in self._datum_tokens)

    def datum_near(self, q: Question, hits: Sequence[SectionHit], kinds: Sequence[AskedKind]) -> float:
        """The largest share of the question's subject (its words, the datum words aside, IDF-weighted) found
        in the sentence that holds an asked datum or the one before it (a heading, the service's name)."""
        evidence, analyzer = self.evidence, self.retriever.analyzer
        subject = [t for t in dict.fromkeys(q.query.tokens) if t not in self._datum_tokens]
        weights = {t: evidence.idf.get(t, evidence.unknown_idf) for t in subject}
        total = sum(weights.values())
        if total == 0:
            return 1.0
        patterns = _datum_patterns(q, kinds)
        best = 0.0
        for hit in hits:
            if hit.doc_id in self.retriever.unreviewed or not evidence.in_place(q, hit):
                continue
            title = _tokens(analyzer, hit.title)  # a fiche's datum is its service's (« Allo PMI » : « Numéro unique »)
            for passage in self.retriever.section_passages(hit.section_id):
                if not any(pattern.search(passage.text) for pattern in patterns):
                    continue  # no datum in the passage, so none in its sentences
                sentences = [s for s in _DATUM_SENTENCE.split(passage.text) if s.strip()]
                for i, sentence in enumerate(sentences):
                    if any(pattern.search(sentence) for pattern in patterns):
                        near = title | _tokens(analyzer, " ".join(sentences[max(0, i - 1) : i + 1]))
                        best = max(best, sum(w for t, w in weights.items() if t in near) / total)
        return best


def _datum_patterns(q: Question, kinds: Sequence[AskedKind]) -> list[re.Pattern[str]]:
    """What a datum of the asked kinds looks like in a passage; when the question asks whether one exists
    (« y a-t-il un numéro ? », « je peux appeler Allo PMI ? »), a line named without its digits too
    (« Numéro unique »)."""
    asked = asking_form(q.text)
    patterns = [pattern for kind in kinds for pattern in kind.datum_for(asked)]
    if q.exists:
        patterns += [pattern for kind in kinds for pattern in mentions(kind.id)]
    return patterns


@lru_cache(maxsize=65536)  # source sentences, read again for every datum question about their fiche
def _tokens(analyzer: Analyzer, text: str) -> frozenset[str]:
    return frozenset(analyzer.tokens(text))


def figure_for_year(year: int, text: str) -> bool:
    """Whether a sentence of `text` gives a figure for `year`: it names the year and another number
    (« en 2018, 4 500 IP… »), not only a date (« Bilan : semestre 1 / 2023 »)."""
    for sentence in _SENTENCE.findall(text):
        if str(year) not in sentence:
            continue
        numbers = [n.replace(" ", "") for n in _FIGURE.findall(sentence.replace(str(year), " "))]
        if any(len(n.strip(".,")) >= 2 and not re.fullmatch(r"(19|20)\d\d", n.strip(".,")) for n in numbers):
            return True
    return False


def render_unnamed_message(locality: Locality) -> str:
    """What to say when no source names the commune asked about (with its département when it is the gazetteer's)."""
    where = f" ({locality.place.departement})" if locality.place else ""
    return str(locality_table()["unnamed_message"]).format(place=written_commune(locality.name), where=where)


def written_commune(name: str) -> str:
    """A commune as the message writes it: the user's typing with its capitals (« st chamon » -> « St Chamon »)."""
    return name if any(c.isupper() for c in name) else name.title()


def render_place_message(place: str) -> str:
    return load_out_of_area_message().format(place=written(place))
