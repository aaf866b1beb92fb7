"""Retrieve stage: question -> ranked sections (the fiches) with their best passages and scores.

Channels, each scored per chunk and normalised to [0, 1] before a weighted sum:
- bm25_chunk: French BM25 over each chunk with its context header;
- bm25_section: French BM25 over the whole section, so a fiche matching the question across fields wins;
- dense: cosine similarity to the embeddings stored in the chromadb collection (the configured embedder);
- territory: the chunk's section serves the territory (or département) of a place the question names.
Weights live in retrieval/weights.json and are set by `python -m evals.tune`, not by hand.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
from chromadb.api.models.Collection import Collection
from langchain_core.embeddings import Embeddings

from corpus.clean import fold
from corpus.documents import Document
from retrieval.analyze import Analyzer, Query, phrase_key

WEIGHTS_FILE = Path(__file__).resolve().parent / "weights.json"
DENSE_CANDIDATES = 50


@dataclass(frozen=True, slots=True)
class Weights:
    bm25_chunk: float = 1.0
    bm25_section: float = 0.5
    dense: float = 0.0
    territory: float = 0.3
    second_passage: float = 0.1
    expansion: float = 0.5  # weight of acronym / synonym / place expansion tokens relative to the question's
    # A fiche the question names by its number (« qui pilote la fiche n°14 ? »): its number is one token among
    # the question's, which « la loi du 14 mars » in another fiche matches as well. Not in weights.json: set at
    # stop 37 on the development sets (README, Retrieval).
    named_fiche: float = 1.0

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> Weights:
        """The tuned weights; a missing file is an error that names it (never silent defaults)."""
        from retrieval.tuned import read_tuned

        return cls(**read_tuned(path, "python -m evals.tune --write"))


class SummedBM25(bm25s.BM25):  # type: ignore[misc]
    """bm25s with the per-query sum of the precomputed term scores done by one np.bincount instead of
    np.add.at per term (unbuffered, and the hottest line of the server under load). Same scores."""

    @staticmethod
    def _compute_relevance_from_scores(
        data: np.ndarray,
        indptr: np.ndarray,
        indices: np.ndarray,
        num_docs: int,
        query_tokens_ids: np.ndarray,
        dtype: np.dtype,
    ) -> np.ndarray:
        spans = [slice(int(indptr[t]), int(indptr[t + 1])) for t in query_tokens_ids]
        if not spans:
            return np.zeros(num_docs, dtype=dtype)
        rows = np.concatenate([indices[s] for s in spans])
        weights = np.concatenate([data[s] for s in spans])
        return np.bincount(rows, weights=weights, minlength=num_docs).astype(dtype)


@dataclass(frozen=True, slots=True)
class Passage:
    chunk_id: str
    text: str
    start_line: int
    end_line: int
    field: str
    score: float


@dataclass(frozen=True, slots=True)
class SectionHit:
    section_id: str
    doc_id: str
    source: str
    title: str
    start_line: int
    end_line: int
    score: float
    passages: tuple[Passage, ...]
    number: str | None = None
    page: int | None = None
    territory: str | None = None
    public: str | None = None
    kind: str = ""
    document: str = ""
    channels: dict[str, float] = field(default_factory=dict)


def fiche_number(number: object) -> str:
    """A section's number as a question names it (« n°14 » -> "14", « 07 » -> "7"), "" when it has no digits."""
    digits = "".join(c for c in str(number or "") if c.isdigit())
    return str(int(digits)) if digits else ""


_QUOTED = re.compile(r"«\s*([^«»]+?)\s*»")
_TITLE_NUMBER = re.compile(r"^(n°\s*)?\d+\s*[.)-]?\s*")
NAME_TOKENS = (2, 5)  # a name of this many words (stopwords aside) names one section; one word names many


def title_names(analyzer: Analyzer, title: str, kind: str) -> tuple[str, ...]:
    """The names a section's title gives (phrase keys): each « quoted » name, and a fiche's whole title
    without its number or aside in parentheses (« 24. Massage des nourrissons ») and its part before a dash or
    a colon, when they are of NAME_TOKENS words."""
    low, high = NAME_TOKENS
    names = list(_QUOTED.findall(title))
    if kind == "fiche":
        whole = re.sub(r"\(.*?\)", " ", _TITLE_NUMBER.sub("", title))
        names += [whole, re.split(r"\s[-–:]\s|\s:", whole)[0]]  # « Le couple se sépare - réunion d'information »
    return tuple(
        dict.fromkeys(phrase_key(n) for n in names if low <= len(analyzer.tokens(n)) <= high and phrase_key(n))
    )


def _normalise(scores: np.ndarray) -> np.ndarray:
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else np.zeros_like(scores)


class Retriever:
    """In-memory lexical indexes and embedding matrix, built from the chromadb records (store of record)."""

    def __init__(
        self,
        collection: Collection,
        embedder: Embeddings,
        analyzer: Analyzer,
        weights: Weights | None = None,
        documents: Sequence[Document] = (),
    ) -> None:
        self.embedder = embedder
        self.documents = {d.id: d for d in documents}
        # Documents added with `repere ingest` and not yet reviewed: never a source of contact details.
        self.unreviewed = frozenset(d.id for d in documents if not d.is_reviewed())
        self.analyzer = analyzer
        self.weights = weights or Weights.load()
        records = collection.get(include=["documents", "metadatas", "embeddings"])
        self.ids: list[str] = list(records["ids"])
        self.texts: list[str] = [str(d) for d in records["documents"] or []]
        self.meta: list[dict[str, Any]] = [dict(m) for m in records["metadatas"] or []]
        vectors = np.asarray(records["embeddings"] if records["embeddings"] is not None else [], dtype=np.float32)
        order = sorted(
            range(len(self.ids)), key=lambda i: (str(self.meta[i]["section_id"]), int(self.meta[i]["ordinal"]))
        )
        self.ids = [self.ids[i] for i in order]
        self.texts = [self.texts[i] for i in order]
        self.meta = [self.meta[i] for i in order]
        # Exact cosine over the stored embeddings: deterministic (an HNSW search is approximate and its
        # results vary between builds) and fast at this corpus size.
        matrix = vectors[order] if len(vectors) else np.zeros((0, 1), dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True) if len(matrix) else np.ones((0, 1), dtype=np.float32)
        self.vectors = matrix / np.where(norms == 0, 1, norms)
        self.section_ids = sorted({str(m["section_id"]) for m in self.meta})
        section_index = {s: i for i, s in enumerate(self.section_ids)}
        self.chunk_section = np.array([section_index[str(m["section_id"])] for m in self.meta], dtype=np.int64)
        chunk_tokens = [analyzer.tokens(f"{m['header']}\n{t}") for m, t in zip(self.meta, self.texts, strict=True)]
        section_tokens: dict[int, list[str]] = defaultdict(list)
        for i, tokens in enumerate(chunk_tokens):
            section_tokens[int(self.chunk_section[i])].extend(tokens)
        self.bm25_chunks = self._bm25(chunk_tokens)
        self.bm25_sections = self._bm25([section_tokens[i] for i in range(len(self.section_ids))])
        self.territory_array = np.array([fold(str(m.get("territory", ""))) for m in self.meta], dtype=str)
        # the number of each chunk's fiche (« n°14 », « 07 » -> "14", "7"), "" outside fiches
        self.fiche_array = np.array(
            [fiche_number(m.get("number")) if m.get("section_kind") == "fiche" else "" for m in self.meta],
            dtype=str,
        )
        # the names each section's title gives its action or service (« La maison kangourou », « La Clef des
        # Petits »): a question that says one names the section
        titles = {
            str(m["section_id"]): (str(m.get("section_title", "")), str(m.get("section_kind", ""))) for m in self.meta
        }
        self.section_names = [title_names(analyzer, *titles[sid]) for sid in self.section_ids]
        self._section_passages: dict[str, list[Passage]] = defaultdict(list)  # in document order
        for i, section in enumerate(self.chunk_section.tolist()):
            self._section_passages[self.section_ids[section]].append(self._passage(i))

    @staticmethod
    def _bm25(corpus: list[list[str]]) -> bm25s.BM25:
        index = SummedBM25(k1=1.2, b=0.75)
        index.index(corpus, show_progress=False)
        return index

    def __len__(self) -> int:
        return len(self.ids)

    def _bm25_scores(self, index: bm25s.BM25, query: Query) -> np.ndarray:
        scores = np.asarray(index.get_scores(query.tokens or ["\u2205"]), dtype=np.float64)
        if query.expansions and self.weights.expansion:
            scores = scores + self.weights.expansion * np.asarray(index.get_scores(query.expansions), dtype=np.float64)
        return scores

    def channel_scores(self, query: Query) -> dict[str, np.ndarray]:
        """Per-chunk scores of each channel, normalised to [0, 1]."""
        n = len(self.ids)
        channels: dict[str, np.ndarray] = {}
        channels["bm25_chunk"] = _normalise(self._bm25_scores(self.bm25_chunks, query))
        section_scores = _normalise(self._bm25_scores(self.bm25_sections, query))
        channels["bm25_section"] = section_scores[self.chunk_section]
        dense = np.zeros(n)
        if self.weights.dense > 0 and n and len(self.vectors) == n:
            q = np.asarray(self.embedder.embed_query(query.text), dtype=np.float32)
            q_norm = float(np.linalg.norm(q))
            if q_norm:
                similarity = self.vectors @ (q / q_norm)
                top = np.argsort(-similarity, kind="stable")[
                    :DENSE_CANDIDATES
                ]  # the nearest, as a vector store returns
                dense[top] = np.maximum(similarity[top], 0.0)
        channels["dense"] = _normalise(dense)
        territory = np.zeros(n)
        for place in query.places:  # the place's territory 1, the rest of its département 0.5
            name, dep = fold(place.name), fold(place.departement)
            same_territory = self.territory_array == name
            same_departement = (self.territory_array == dep) & ~same_territory & (territory < 0.5)
            territory[same_territory] = 1.0
            territory[same_departement] = 0.5
        channels["territory"] = territory
        named = np.isin(self.fiche_array, list(query.fiches)).astype(np.float64)
        key = f" {phrase_key(query.text)} "
        said = [i for i, names in enumerate(self.section_names) if any(f" {name} " in key for name in names)]
        if said:
            named = np.maximum(named, np.isin(self.chunk_section, said).astype(np.float64))
        channels["named_fiche"] = named
        return channels

    def search(
        self,
        question: str,
        k: int = 10,
        audience: str | None = None,
        passages: int = 3,
        query: Query | None = None,
    ) -> list[SectionHit]:
        """The k best sections for a question, each with its `passages` best passages; a section scores
        its best chunk plus `second_passage` × its second best. `query` is the question already
        analysed, when the caller has it (`self.analyzer.query(question)`). The ranking is the
        same for both audiences: boosting fiches with contact details for families was measured and
        lowered their MRR (README, Answers); the audience shapes the answer instead."""
        query = query or self.analyzer.query(question)
        channels = self.channel_scores(query)
        w = self.weights
        score = (
            w.bm25_chunk * channels["bm25_chunk"]
            + w.bm25_section * channels["bm25_section"]
            + w.dense * channels["dense"]
            + w.territory * channels["territory"]
            + w.named_fiche * channels["named_fiche"]
        )
        if not len(score):
            return []
        # Each section's chunks, best first: the chunks ranked by score, then grouped by section (stable).
        order = np.argsort(-score, kind="stable")
        by_section = np.argsort(self.chunk_section[order], kind="stable")  # positions in `order`
        grouped = self.chunk_section[order][by_section]
        starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])  # each section's first (best)
        ends = np.r_[starts[1:], len(grouped)]
        first = by_section[starts]  # rank of each section's best chunk
        second = np.where(ends - starts > 1, score[order[by_section[np.minimum(starts + 1, len(grouped) - 1)]]], 0.0)
        section_score = score[order[first]] + w.second_passage * second
        ranked = np.lexsort((first, -section_score))[:k]  # ties: the section whose best chunk ranks first
        return [
            self._hit(
                int(grouped[starts[g]]),
                order[by_section[starts[g] : min(ends[g], starts[g] + passages)]].tolist(),
                float(section_score[g]),
                score,
                channels,
            )
            for g in ranked.tolist()
        ]

    def section_hit(self, section_id: str) -> SectionHit:
        """A section as a hit (score 0, its first passages), for citing it without a search."""
        section = self.section_ids.index(section_id)
        chunks = [int(i) for i in np.flatnonzero(self.chunk_section == section)[:3]]
        zeros = np.zeros(len(self.ids))
        return self._hit(section, chunks, 0.0, zeros, {})

    def section_passages(self, section_id: str) -> list[Passage]:
        """Every passage of a section, in document order (chunks are kept sorted by section and ordinal)."""
        return list(self._section_passages.get(section_id, []))

    def _passage(self, i: int, score: float = 0.0) -> Passage:
        meta = self.meta[i]
        return Passage(
            self.ids[i],
            self.texts[i],
            int(meta["start_line"]),
            int(meta["end_line"]),
            str(meta["field"]),
            round(score, 6),
        )

    def _hit(
        self, section: int, chunk_indices: list[int], total: float, score: np.ndarray, channels: dict[str, np.ndarray]
    ) -> SectionHit:
        meta = self.meta[chunk_indices[0]]
        top = chunk_indices[0]
        return SectionHit(
            section_id=self.section_ids[section],
            doc_id=str(meta["doc_id"]),
            source=str(meta["source"]),
            title=str(meta["section_title"]),
            start_line=int(meta["section_start"]),
            end_line=int(meta["section_end"]),
            score=round(total, 6),
            passages=tuple(self._passage(i, float(score[i])) for i in chunk_indices),
            number=meta.get("number"),
            page=meta.get("page"),
            territory=meta.get("territory"),
            public=meta.get("public"),
            kind=str(meta.get("section_kind", "")),
            document=str(meta.get("document", "")),
            channels={name: round(float(values[top]), 4) for name, values in channels.items()},
        )
