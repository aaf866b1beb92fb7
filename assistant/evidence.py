"""Evidence for a question, through the Retriever's public methods: the sections an answer may quote,
how much of the question the corpus covers, BM25 of passages, and the per-index tables they need
(IDF of every token, each passage's tokens and folded text). Built once per index."""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.citations import addresses_assistant, discourages_emergency
from assistant.safety import normalise
from assistant.understand import Locality, Question
from corpus.clean import fold
from prompts.render import load_profile
from retrieval.analyze import Query
from retrieval.retrieve import Passage, Retriever, SectionHit

if TYPE_CHECKING:
    from assistant.rerank import Reranker

COMMON_IDF = 1.5  # log(1 + passages / df): below, a word in over ~30 % of the passages (« enfant »)
CONTEXT_FILE = Path(__file__).resolve().parent / "data" / "context_sections.toml"
RERANK_CANDIDATES = 10  # sections the retriever proposes when a ranker orders them (the answer reads `k`)
NAMED_TITLE_SHARE = 0.75  # of a document's title words that a question must hold to name it
NAMED_TITLE_WORDS = 3


@dataclass(frozen=True, slots=True)
class Found:
    """The sections found for a question, in two orders (see `Evidence.found`)."""

    ranked: list[SectionHit]  # the ranker's (what the answer reads)
    retrieved: list[SectionHit]  # the retriever's (what decides a refusal)


class Evidence:
    def __init__(self, retriever: Retriever, k: int, min_coverage: float, reranker: Reranker | None = None) -> None:
        self.retriever = retriever
        self.k = k
        self.min_coverage = min_coverage
        self.reranker = reranker  # orders the retriever's candidates for the question (`assistant/rerank.py`)
        self._section_tokens: dict[str, frozenset[str]] = {}
        pairs = list(zip(retriever.meta, retriever.texts, strict=True))
        # Each passage with its context header, folded, padded with spaces: for phrase look-ups.
        self.folded_chunks = [f" {normalise(m['header'] + ' ' + t)} " for m, t in pairs]
        chunk_tokens = [retriever.analyzer.tokens(f"{m['header']}\n{t}") for m, t in pairs]
        self.idf = idf(chunk_tokens)
        self.unknown_idf = max(self.idf.values(), default=1.0)  # weight of a word no chunk has
        self.chunk_token_sets = [set(tokens) for tokens in chunk_tokens]
        self.chunk_index = {chunk_id: i for i, chunk_id in enumerate(retriever.ids)}
        self._coverage = lru_cache(maxsize=256)(self._covered)  # per index: the engine is rebuilt with it
        self._named_communes: dict[int, frozenset[str]] = {}
        # Each document's title words, its département and years left out: a question that holds most of them
        # names the document (« le schéma départemental des services aux familles », « le SDSF »).
        shared = _place_and_year_words(retriever)
        self.title_words = {
            doc_id: frozenset(retriever.analyzer.tokens(document.title)) - shared
            for doc_id, document in retriever.documents.items()
        }
        # An added document nobody has reviewed that speaks to the assistant or tells people not to call the
        # emergency numbers is an attack, not a source: none of it is evidence (its other lines — a « slogan »,
        # a « new number » — are what the attack wants quoted). A reviewed document is a trainer's decision.
        self.untrusted = frozenset(
            m["doc_id"]
            for m, t in pairs
            if m["doc_id"] in retriever.unreviewed and (addresses_assistant(t) or discourages_emergency(t))
        )

    def sections(self, q: Question) -> list[SectionHit]:
        """The sections an answer may quote, in the ranker's order (see `found`)."""
        return self.found(q).ranked

    def found(self, q: Question) -> Found:
        """The sections an answer may quote (none when the corpus covers too little of the question, none
        from an untrusted document); the département the question names ranks its own documents first. In the
        ranker's order, and in the retriever's: the ranker is fitted on questions the sources answer, so what
        decides a refusal (the rules, the scope model, fitted on the retriever's order) reads the latter."""
        if self.reranker is None:
            found = self.retriever.search(q.query_text, k=self.k, audience=q.audience, query=q.query)
            ranked = found
        else:
            found = self.retriever.search(q.query_text, k=RERANK_CANDIDATES, audience=q.audience, query=q.query)
            ranked = self.reranker.order(self, q, found)[: self.k]
            found = found[: self.k]
        covered = self.coverage(q.query)
        if not q.danger.signalled:
            # A story, then the question (« … j'ai entendu parler des TISF, c'est payant ? », « notre fille
            # pleure le soir, est-ce qu'il y a un endroit… ? »): the clause that asks counts alone too. Under a
            # danger signal the story is what the answer is about.
            for clause in (q.clause_query, q.story_query):
                if clause:
                    covered = max(covered, self.coverage(clause))
        if covered < self.min_coverage:  # too little of the question is in any passage
            return Found([], [])
        named = self.named_documents(q.query)
        # The document the question names first, its sections ranked by the rest of the question: its title's
        # words are in all of them (« le schéma des services aux familles court jusqu'à quand ? »)
        within = [h for h in self.within(q, named) if h.doc_id not in self.untrusted] if named else []
        arranged = self._arranged(q, ranked, named, within)
        return Found(arranged, arranged if ranked is found else self._arranged(q, found, named, within))

    def _arranged(
        self, q: Question, found: Sequence[SectionHit], named: set[str], within: list[SectionHit]
    ) -> list[SectionHit]:
        """The usable sections of trusted documents, those of the département and of the document named first
        (`within`: its sections for the question), context parts last for whom asked no figure (families)."""
        hits = [h for h in usable(found) if h.doc_id not in self.untrusted]
        if q.departement:
            dep = fold(q.departement)
            hits.sort(key=lambda h: self.departement(h) != dep)  # stable: the ranking within each group stays
        if within:
            hits = within + [h for h in hits if h.doc_id not in named]
        if load_profile(q.audience).context_last and not context_asked(q.asks):
            hits.sort(key=lambda h: context_section(h.title))  # figures and context after the services
        return hits

    def within(self, q: Question, named: set[str]) -> list[SectionHit]:
        """The sections of the named documents, ranked for the question without its titles' words (nor an
        acronym of them: « SDSF »)."""
        title = set().union(*(self.title_words[d] for d in named))
        analyzer = self.retriever.analyzer
        spelled = {a for a in q.query.acronyms if any(set(analyzer.tokens(e)) <= title for e in analyzer.acronyms[a])}
        rest = replace(
            q.query,
            tokens=[t for t in q.query.tokens if t not in title and t not in spelled],
            expansions=[t for t in q.query.expansions if t not in title and t not in spelled],
        )
        if not rest.tokens and not rest.expansions:
            return []
        found = self.retriever.search(q.query_text, k=self.k * 3, audience=q.audience, query=rest)
        return [h for h in usable(found) if h.doc_id in named][: self.k]

    def named_documents(self, query: Query) -> set[str]:
        """The documents whose title the question says (at least NAMED_TITLE_SHARE of its words, and
        NAMED_TITLE_WORDS of them; an acronym counts with its expansion)."""
        asked = set(query.tokens) | set(query.expansions)
        return {
            doc_id
            for doc_id, words in self.title_words.items()
            if len(words & asked) >= max(NAMED_TITLE_WORDS, NAMED_TITLE_SHARE * len(words))
        }

    def coverage(self, query: Query, candidates: int = 20) -> float:
        """Share of the question's information (IDF-weighted tokens) found together in one passage,
        best over the passages BM25 ranks first. Low values mean the corpus does not cover the question.
        Asked twice per answer (the sections, then the scope cues): BM25 over every passage runs once."""
        return self._coverage(tuple(dict.fromkeys(query.tokens)), candidates)

    def _covered(self, tokens: tuple[str, ...], candidates: int) -> float:
        if not tokens:
            return 0.0
        weights = {t: self.idf.get(t, self.unknown_idf) for t in tokens}
        total = sum(weights.values())
        scores = np.asarray(self.retriever.bm25_chunks.get_scores(list(tokens)))
        best = 0.0
        for i in np.argsort(-scores, kind="stable")[:candidates]:
            best = max(best, sum(w for t, w in weights.items() if t in self.chunk_token_sets[i]) / total)
        return best

    def passage_scores(self, query: Query, passages: Sequence[Passage]) -> dict[str, float]:
        """BM25 of the given passages for the question (expansions at half weight)."""
        wanted = [self.chunk_index[p.chunk_id] for p in passages]
        if not wanted:
            return {}
        scores = self.retriever.bm25_chunks.get_scores(query.tokens or ["\u2205"])
        if query.expansions:
            scores = scores + 0.5 * self.retriever.bm25_chunks.get_scores(query.expansions)
        return {self.retriever.ids[i]: float(scores[i]) for i in wanted}

    def names_the_fiche(self, q: Question, hit: SectionHit) -> bool:
        """Whether the question names what the fiche is about (« la Clef des Petits peut nous accueillir ? »):
        two words of its title, or half of them, are in the question (words in most passages aside)."""
        title = self.distinctive_title(hit)
        shared = title.intersection(q.query.tokens)
        return len(shared) >= 2 or (bool(title) and 2 * len(shared) >= len(title))

    def distinctive_title(self, hit: SectionHit) -> set[str]:
        """The tokens of a section's title that are not in most passages (« enfant » aside)."""
        return {t for t in self.retriever.analyzer.tokens(hit.title) if self.idf.get(t, 0.0) >= COMMON_IDF}

    def in_place(self, q: Question, hit: SectionHit) -> bool:
        """Whether a fiche serves the place the question names (its territory, or its whole département)."""
        if not q.places:
            return True
        served = {fold(hit.territory or ""), self.departement(hit)}
        return any({fold(p.name), fold(p.departement)} & served for p in q.places)

    def serves_locality(self, locality: Locality, hit: SectionHit) -> bool:
        """Whether a section answers for the commune asked about: a fiche of the commune's own territory (not one
        for its whole département), or a passage of the section that names the commune."""
        place = locality.place
        if place and hit.territory and place.name != place.departement and fold(hit.territory) == fold(place.name):
            return True
        for passage in self.retriever.section_passages(hit.section_id):
            index = self.chunk_index[passage.chunk_id]
            if place is None and f" {locality.key} " in self.folded_chunks[index]:
                return True
            if place is not None and locality.key in self._communes(index):
                return True
        return False

    def _communes(self, index: int) -> frozenset[str]:
        """The gazetteer communes a passage (with its header) names; computed once per passage."""
        if index not in self._named_communes:
            meta, text = self.retriever.meta[index], self.retriever.texts[index]
            self._named_communes[index] = self.retriever.analyzer.gazetteer.communes(f"{meta['header']}\n{text}")
        return self._named_communes[index]

    def section_tokens(self, section_id: str) -> frozenset[str]:
        """The tokens of every passage of a section (with their headers); computed once per section."""
        if section_id not in self._section_tokens:
            passages = self.retriever.section_passages(section_id)
            held = (self.chunk_token_sets[self.chunk_index[p.chunk_id]] for p in passages)
            self._section_tokens[section_id] = frozenset().union(*held)
        return self._section_tokens[section_id]

    def share_held(self, tokens: Sequence[str], held: frozenset[str]) -> float:
        """IDF-weighted share of `tokens` (each once) that `held` holds; 0 without tokens."""
        unique = dict.fromkeys(tokens)
        total = math.fsum(self.idf.get(t, self.unknown_idf) for t in unique)
        return math.fsum(self.idf.get(t, self.unknown_idf) for t in unique if t in held) / total if total else 0.0

    def departement(self, hit: SectionHit) -> str:
        document = self.retriever.documents.get(hit.doc_id)
        return fold(document.departement_name()) if document else ""


@lru_cache(maxsize=1)
def _context_table() -> tuple[re.Pattern[str], frozenset[str]]:
    data = tomllib.loads(CONTEXT_FILE.read_text(encoding="utf-8"))
    return re.compile("|".join(f"(?:{p})" for p in data["patterns"])), frozenset(data["asked"])


def context_section(title: str) -> bool:
    """Whether a section describes the département (its figures, its context) rather than a service or an
    action (`data/context_sections.toml`)."""
    return bool(_context_table()[0].search(fold(title)))


def context_asked(asks: Sequence[str]) -> bool:
    """Whether the question asks for what such a section holds (a figure, a date, an amount)."""
    return bool(_context_table()[1].intersection(asks))


def usable(hits: Sequence[SectionHit]) -> list[SectionHit]:
    """Sections that share a word or the place with the question (the vector channel alone is not evidence)."""
    return [h for h in hits if h.channels.get("bm25_chunk", 0) > 0 or h.channels.get("territory", 0) > 0]


def idf(documents: list[list[str]]) -> dict[str, float]:
    """Inverse document frequency of every token over the chunks (log-scaled, always positive)."""
    counts: dict[str, int] = {}
    for tokens in documents:
        for token in set(tokens):
            counts[token] = counts.get(token, 0) + 1
    n = len(documents)
    return {token: math.log(1 + n / df) for token, df in counts.items()}


def _place_and_year_words(retriever: Retriever) -> frozenset[str]:
    """The tokens of the documents' départements and of the numbers in their titles: shared by titles or
    dates, they name no one document."""
    words: set[str] = set()
    for document in retriever.documents.values():
        words |= set(retriever.analyzer.tokens(document.departement_name()))
        words |= {w for w in retriever.analyzer.tokens(document.title) if w.isdigit()}
    return frozenset(words)
