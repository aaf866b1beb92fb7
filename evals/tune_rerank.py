"""Section re-ranking fitting: the LightGBM ranker of `assistant/rerank.py`.

Run: ``python -m evals.tune_rerank [--set F ...] [--write]`` (default: the answer sets the selection is fitted
on, `evals.tune_answers.DEFAULT_SETS`; sealed sets are refused). For each in-scope question, the retriever's
first `RERANK_CANDIDATES` sections are the candidates, labelled 1 when they hold a gold span.

Measured before writing: cross-validation by set (`FOLDS` folds, each set whole in one fold, so that the
paraphrases of one writer never sit on both sides): the share of questions whose first section holds a gold
span, in the retriever's order and in the ranker's, per audience, over the questions whose gold is among
the candidates (no order can mend the others). Then the ranker is fitted on every question and written with
its feature names and these figures. Deterministic (one thread, fixed seeds).
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answer import AnswerEngine
from assistant.evidence import RERANK_CANDIDATES
from assistant.rerank import RERANK_FILE, feature_names, pair_features
from evals.metrics import NO_GOLD_KINDS, overlaps
from evals.run import load_items
from evals.tune_answers import DEFAULT_SETS
from evals.tune_danger import SEALED
from retrieval.tuned import fit_record

FOLDS = 4
RANKER_PARAMS: dict[str, Any] = {
    "objective": "lambdarank",
    "learning_rate": 0.05,
    "num_leaves": 7,
    "min_data_in_leaf": 20,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "feature_fraction": 0.8,
    "lambdarank_truncation_level": RERANK_CANDIDATES,
    "seed": 0,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
    "verbose": -1,
}
RANKER_ROUNDS = 200


@dataclass(frozen=True, slots=True)
class Group:
    """One question's candidates: their features (in `feature_names()` order) and labels."""

    source: str  # the eval set
    audience: str
    rows: np.ndarray
    labels: np.ndarray


def dataset(engine: AnswerEngine, sets: Sequence[Path]) -> list[Group]:
    names = feature_names()
    groups = []
    for path in sets:
        for item in load_items(path):
            if item["kind"] in NO_GOLD_KINDS or item["kind"] == "danger" or not item["gold"]:
                continue
            q = engine.analyse(item["question"], item["audience"])
            hits = engine.retriever.search(q.query_text, k=RERANK_CANDIDATES, audience=q.audience, query=q.query)
            if not hits:
                continue
            rows = pair_features(engine.evidence, q, hits)
            labels = [float(any(overlaps(h.source, h.start_line, h.end_line, g) for g in item["gold"])) for h in hits]
            matrix = np.array([[row[n] for n in names] for row in rows], dtype=np.float64)
            groups.append(Group(path.name, item["audience"], matrix, np.array(labels)))
    return groups


def fit(groups: Sequence[Group]) -> str:
    """The ranker fitted on these questions, as LightGBM's text."""
    import lightgbm

    rows = np.vstack([g.rows for g in groups])
    labels = np.concatenate([g.labels for g in groups])
    data = lightgbm.Dataset(rows, labels, group=[len(g.labels) for g in groups], feature_name=list(feature_names()))
    booster = lightgbm.train(RANKER_PARAMS, data, num_boost_round=RANKER_ROUNDS)
    return str(booster.model_to_string())


def first_right(groups: Sequence[Group], model: str | None) -> dict[str, list[float]]:
    """Per audience, whether each question's first section holds gold (the retriever's order without a model),
    over the questions whose gold is among the candidates."""
    import lightgbm

    booster = lightgbm.Booster(model_str=model) if model else None
    found: dict[str, list[float]] = defaultdict(list)
    for g in groups:
        if not g.labels.any():
            continue
        first = 0 if booster is None else int(np.argmax(booster.predict(g.rows)))
        found[g.audience].append(float(g.labels[first]))
    return found


def cross_validated(groups: Sequence[Group]) -> dict[str, dict[str, float]]:
    """First-section hit rate of the retriever's order and of the ranker fitted without the fold, per audience."""
    sources = sorted({g.source for g in groups})
    random.Random(0).shuffle(sources)
    folds = [set(sources[i::FOLDS]) for i in range(FOLDS)]
    before: dict[str, list[float]] = defaultdict(list)
    after: dict[str, list[float]] = defaultdict(list)
    for fold in folds:
        test = [g for g in groups if g.source in fold]
        model = fit([g for g in groups if g.source not in fold])
        for audience, values in first_right(test, None).items():
            before[audience].extend(values)
        for audience, values in first_right(test, model).items():
            after[audience].extend(values)
    return {
        audience: {
            "questions": float(len(before[audience])),
            "retriever": round(float(np.mean(before[audience])), 4),
            "ranker": round(float(np.mean(after[audience])), 4),
        }
        for audience in sorted(before)
    }


def write(model: str, held_out: Mapping[str, Any], sets: Sequence[Path], embedder: str, path: Path) -> None:
    record = fit_record("python -m evals.tune_rerank --write", sets, embedder, held_out)
    record["method"] = f"LightGBM LambdaRank, {RANKER_ROUNDS} rounds; held out: {FOLDS}-fold cross-validation by set"
    data = {"features": list(feature_names()), "model": model, "fitted": record}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    from repere.service import build_retriever
    from repere.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", dest="eval_sets", type=Path, action="append")
    parser.add_argument("--write", action="store_true", help=f"write the fitted ranker to {RERANK_FILE}")
    args = parser.parse_args(argv)
    sets = args.eval_sets or DEFAULT_SETS
    sealed = [path for path in sets if path.name in SEALED]
    if sealed:
        parser.error(f"sealed set(s), never fitted on: {', '.join(map(str, sealed))}")
    settings = get_settings()
    retriever, _ = build_retriever(settings)
    engine = AnswerEngine(retriever, rerank=False)
    groups = dataset(engine, sets)
    held_out = cross_validated(groups)
    for audience, figures in held_out.items():
        print(f"{audience}: first section right, held out: {figures}")
    if args.write:
        write(fit(groups), held_out, sets, settings.embedder, RERANK_FILE)
        print(f"written: {RERANK_FILE}")


if __name__ == "__main__":
    main()
