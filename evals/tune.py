"""Fusion-weight tuning on an eval set: grid search, 2-fold cross-validation figure, weights.json.

Run: ``python -m evals.tune --set evals/eval_set.jsonl [--write]``. Channel scores are computed once
per question; every weight combination then only re-ranks them. The cross-validated figure (weights
chosen on one half, measured on the other) shows how much of the gain is fitted to the set itself.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
from collections import defaultdict
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from evals.metrics import first_hit_rank, summarize
from evals.run import load_items
from retrieval.retrieve import WEIGHTS_FILE, Retriever, Weights, _normalise
from retrieval.tuned import FIT_KEY, fit_record

GRID: dict[str, tuple[float, ...]] = {
    "bm25_section": (0.0, 0.5, 1.0, 1.5),
    "dense": (0.0, 0.2, 0.4, 0.6, 0.8),
    "territory": (0.0, 0.15, 0.3, 0.5),
    "second_passage": (0.0, 0.1),
}
FIXED = {"bm25_chunk": 1.0, "expansion": 1.0}  # expansion: 1.0 won against 0.25-1.5 on every earlier run


def precompute(retriever: Retriever, items: list[dict[str, Any]]) -> list[dict[str, np.ndarray]]:
    """Raw channel scores per item, with expansion tokens kept apart so their weight can vary."""
    retriever.weights = replace(retriever.weights, dense=1.0, expansion=0.0)
    out = []
    for item in items:
        query = retriever.analyzer.query(item["question"])
        channels = retriever.channel_scores(query)
        expanded = query.expansions or ["\u2205"]
        channels["chunk_q"] = np.asarray(retriever.bm25_chunks.get_scores(query.tokens or ["\u2205"]), dtype=np.float64)
        channels["chunk_x"] = np.asarray(retriever.bm25_chunks.get_scores(expanded), dtype=np.float64)
        channels["section_q"] = np.asarray(
            retriever.bm25_sections.get_scores(query.tokens or ["\u2205"]), dtype=np.float64
        )
        channels["section_x"] = np.asarray(retriever.bm25_sections.get_scores(expanded), dtype=np.float64)
        out.append(channels)
    return out


def rank_sections(
    retriever: Retriever, channels: dict[str, np.ndarray], w: Weights, k: int = 10
) -> list[dict[str, Any]]:
    chunk = _normalise(channels["chunk_q"] + w.expansion * channels["chunk_x"])
    section = _normalise(channels["section_q"] + w.expansion * channels["section_x"])[retriever.chunk_section]
    score = (
        w.bm25_chunk * chunk
        + w.bm25_section * section
        + w.dense * channels["dense"]
        + w.territory * channels["territory"]
        + w.named_fiche * channels["named_fiche"]
    )
    best: dict[int, list[float]] = defaultdict(list)
    for i in np.argsort(-score, kind="stable")[:400]:
        s = int(retriever.chunk_section[i])
        if len(best[s]) < 2:
            best[s].append(float(score[i]))
    totals = {s: v[0] + w.second_passage * (v[1] if len(v) > 1 else 0.0) for s, v in best.items()}
    ranked = sorted(totals, key=lambda s: -totals[s])[:k]
    out = []
    for s in ranked:
        first = int(np.flatnonzero(retriever.chunk_section == s)[0])
        meta = retriever.meta[first]
        out.append({"source": meta["source"], "start_line": meta["section_start"], "end_line": meta["section_end"]})
    return out


def objective(metrics: dict[str, float]) -> float:
    return metrics["mrr@10"] + metrics["hit@5"]


def evaluate(
    retriever: Retriever, items: list[dict[str, Any]], cache: list[dict[str, np.ndarray]], w: Weights, subset: list[int]
) -> dict[str, float]:
    ranks = [first_hit_rank(rank_sections(retriever, cache[i], w), items[i]["gold"]) for i in subset]
    return summarize(ranks)


def search(
    retriever: Retriever, items: list[dict[str, Any]], cache: list[dict[str, np.ndarray]], subset: list[int]
) -> tuple[Weights, dict[str, float]]:
    best: tuple[float, Weights, dict[str, float]] | None = None
    keys = list(GRID)
    for values in itertools.product(*(GRID[k] for k in keys)):
        w = Weights(**FIXED, **dict(zip(keys, values, strict=True)))
        metrics = evaluate(retriever, items, cache, w, subset)
        if best is None or objective(metrics) > best[0] + 1e-9:
            best = (objective(metrics), w, metrics)
    assert best is not None
    return best[1], best[2]


def fold_of(item_id: str) -> int:
    return int(hashlib.sha1(item_id.encode()).hexdigest(), 16) % 2


def main(argv: list[str] | None = None) -> None:
    from repere.service import build_retriever
    from repere.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", dest="eval_set", type=Path, default=Path("evals/eval_set.jsonl"))
    parser.add_argument("--write", action="store_true", help=f"write the best weights to {WEIGHTS_FILE}")
    args = parser.parse_args(argv)
    items = [i for i in load_items(args.eval_set) if i["gold"]]
    retriever, _ = build_retriever(get_settings())
    cache = precompute(retriever, items)
    everything = list(range(len(items)))
    current = evaluate(retriever, items, cache, Weights.load(), everything)
    print(f"current weights {asdict(Weights.load())}: hit@5 {current['hit@5']:.3f} MRR {current['mrr@10']:.3f}")
    held_out: dict[str, Any] = {"method": "2-fold cross-validation (folds by item id)", "hit@5": [], "mrr@10": []}
    for fold in (0, 1):
        train = [i for i in everything if fold_of(items[i]["id"]) != fold]
        test = [i for i in everything if fold_of(items[i]["id"]) == fold]
        w, fitted = search(retriever, items, cache, train)
        held = evaluate(retriever, items, cache, w, test)
        held_out["hit@5"].append(round(held["hit@5"], 3))
        held_out["mrr@10"].append(round(held["mrr@10"], 3))
        print(
            f"fold {fold}: fitted hit@5 {fitted['hit@5']:.3f} MRR {fitted['mrr@10']:.3f} | held-out "
            f"hit@5 {held['hit@5']:.3f} MRR {held['mrr@10']:.3f} (n={len(test)}) with {asdict(w)}"
        )
    w, metrics = search(retriever, items, cache, everything)
    print(f"best on whole set: hit@5 {metrics['hit@5']:.3f} MRR {metrics['mrr@10']:.3f} with {asdict(w)}")
    if args.write:
        record = fit_record("python -m evals.tune --write", [args.eval_set], get_settings().embedder, held_out)
        payload = {**asdict(w), FIT_KEY: record}
        WEIGHTS_FILE.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        print(f"written to {WEIGHTS_FILE}")


if __name__ == "__main__":
    main()
