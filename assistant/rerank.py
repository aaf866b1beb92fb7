"""The sections found, re-ranked for the question by a learned model (learning to rank).

The retriever ranks sections by a fixed sum of its channels. What else tells the right fiche from its
neighbours is in the question analysis: whether the question names the fiche's title, what it asks (a
definition is a glossary's, a figure a context section's), how much of the clause that asks the section holds,
whether the section serves the place named. A LightGBM ranker over those features (`feature_names`), fitted by
`python -m evals.tune_rerank --write` on the development answer sets (cross-validated by set; figures in the
README), orders the retriever's candidates. The scores stay the retriever's, given out in the new order, so
that what reads them (the selection model's relative section score, the relative-score floor) sees the same
range as before.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.evidence import Evidence, context_section
from assistant.understand import Question, asked_kinds
from corpus.clean import fold
from retrieval.retrieve import SectionHit

if TYPE_CHECKING:
    import lightgbm

RERANK_FILE = Path(__file__).resolve().parent / "data" / "rerank.json"
SECTION_KINDS = ("fiche", "glossaire", "partie", "annexe", "objectif", "tableau")
CHANNELS = ("bm25_chunk", "bm25_section", "dense", "territory", "named_fiche")


def feature_names() -> tuple[str, ...]:
    """The features of a (question, section) pair, in the model's order."""
    return (
        "rank",  # the retriever's rank (0 first)
        "relative_score",  # the retriever's score over the first section's
        *(f"channel_{c}" for c in CHANNELS),
        *(f"kind_{k}" for k in SECTION_KINDS),
        "context",  # a part describing the département (`data/context_sections.toml`)
        "title_share",  # share of the section title's distinctive words that the question holds
        "title_words",  # how many of them
        "names_title",  # the question names the fiche (`Evidence.names_the_fiche`)
        "covers_question",  # IDF share of the question's words found in the section
        "covers_expansions",  # the same for its acronym, synonym and place expansions
        "covers_clause",  # the same for the clause that asks (after a story)
        "famille",
        "in_place",  # serves the place named (0.5 when none is named)
        "departement_named",  # of the département the question names
        "has_territory",  # a local fiche (a territory), not a département-wide part
        *(f"asks_{kind.id}" for kind in asked_kinds()),
    )


def pair_features(evidence: Evidence, q: Question, hits: Sequence[SectionHit]) -> list[dict[str, float]]:
    """The features of each candidate section for the question (by name: a model reads those it knows)."""
    if not hits:
        return []
    top = hits[0].score or 1.0
    tokens, expansions = q.query.tokens, q.query.expansions
    clause = (q.clause_query or q.query).tokens
    asked = set(tokens)
    departement = fold(q.departement) if q.departement else ""
    asks = {f"asks_{kind.id}": float(kind.id in q.asks) for kind in asked_kinds()}
    rows = []
    for rank, hit in enumerate(hits):
        held = evidence.section_tokens(hit.section_id)
        title = evidence.distinctive_title(hit)
        shared = len(title & asked)
        row = {
            "rank": float(rank),
            "relative_score": hit.score / top,
            **{f"channel_{c}": float(hit.channels.get(c, 0.0)) for c in CHANNELS},
            **{f"kind_{k}": float(hit.kind == k) for k in SECTION_KINDS},
            "context": float(context_section(hit.title)),
            "title_share": shared / len(title) if title else 0.0,
            "title_words": float(shared),
            "names_title": float(evidence.names_the_fiche(q, hit)),
            "covers_question": evidence.share_held(tokens, held),
            "covers_expansions": evidence.share_held(expansions, held),
            "covers_clause": evidence.share_held(clause, held),
            "famille": float(q.audience == "famille"),
            "in_place": float(evidence.in_place(q, hit)) if q.places else 0.5,
            "departement_named": float(bool(departement) and evidence.departement(hit) == departement),
            "has_territory": float(bool(hit.territory)),
            **asks,
        }
        rows.append(row)
    return rows


@dataclass(frozen=True, slots=True)
class Reranker:
    features: tuple[str, ...]
    model: str  # LightGBM's text
    fitted: Mapping[str, object]

    @classmethod
    def load(cls, path: Path = RERANK_FILE) -> Reranker | None:
        """The fitted ranker; None without its file (the retriever's order stays)."""
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(tuple(data["features"]), str(data["model"]), data.get("fitted", {}))

    def scores(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        """The model's score of each row, reading the features it was fitted on by name (tests/test_rerank.py checks
        that the packaged model's names are today's)."""
        matrix = np.array([[row.get(name, 0.0) for name in self.features] for row in rows], dtype=np.float64)
        with _PREDICTING:  # one prediction at a time per booster (the server answers in threads)
            return np.asarray(_booster(self.model).predict(matrix, num_threads=1), dtype=np.float64)

    def order(self, evidence: Evidence, q: Question, hits: Sequence[SectionHit]) -> list[SectionHit]:
        """The hits in the ranker's order (ties keep the retriever's), each given the score of its new place."""
        if len(hits) < 2:
            return list(hits)
        predicted = self.scores(pair_features(evidence, q, hits))
        order = sorted(range(len(hits)), key=lambda i: (-predicted[i], i))
        return [replace(hits[i], score=hits[place].score) for place, i in enumerate(order)]


_PREDICTING = threading.Lock()


@lru_cache(maxsize=2)
def _booster(model: str) -> lightgbm.Booster:
    import lightgbm  # read on first use: the module costs a few hundred ms at import

    return lightgbm.Booster(model_str=model)


def warm_up(reranker: Reranker | None) -> None:
    """Read the model at start-up, not on the first question (a broken file fails here)."""
    if reranker is not None:
        found = _booster(reranker.model)
        if found.num_feature() != len(reranker.features):
            raise ValueError(
                f"Modèle de classement périmé : {found.num_feature()} variables au lieu de {len(reranker.features)}. "
                "Régénérez-le avec `python -m evals.tune_rerank --write`."
            )
