"""Sentence-selection fitting: the composer's feature weights, per audience, from the eval set.

Run: ``python -m evals.tune_answers --set evals/eval_set.jsonl [--write]``. Every unit of the
sections an answer may quote is labelled by whether it holds one of the item's expected facts; an
L2-regularised logistic regression (numpy, Newton steps: deterministic) gives the weights of the
features listed in `assistant/compose.py`. The regularisation and the length setting are chosen on
the training half by the real fact recall of the answers; 2-fold cross-validation (even lines of the
set against odd lines) shows how the fitted selection carries over to unseen questions.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answer import AnswerEngine
from assistant.compose import FEATURES, SELECTION_FILE, Selection
from evals.answers import fact_recall, normalize
from evals.metrics import NO_GOLD_KINDS
from evals.run import load_items
from prompts.render import AUDIENCES

L2 = 1.0  # ridge penalty; 0.3-3 gave the same held-out recall in exploration

Pairs = tuple[np.ndarray, np.ndarray]  # one item's unit features and labels
Data = dict[str, list[tuple[int, Pairs]]]  # audience -> (item index, its pairs)


def dataset(engine: AnswerEngine, items: Sequence[dict[str, Any]]) -> Data:
    data: Data = {audience: [] for audience in AUDIENCES}
    for n, item in enumerate(items):
        _, found = engine.selection_candidates(item["question"], item["audience"])
        if not found:
            continue
        facts = [normalize(f) for f in item["answer_facts"]]
        x = np.array([c.features for c in found], dtype=np.float64)
        y = np.array([float(any(f in normalize(c.unit.text) for f in facts)) for c in found])
        data[item["audience"]].append((n, (x, y)))
    return data


def fit(pairs: Sequence[Pairs], l2: float, iterations: int = 30) -> dict[str, float]:
    """Logistic regression by Newton's method; every item weighs the same, the bias is not penalised."""
    if not pairs:
        return {}
    x = np.vstack([p[0] for p in pairs])
    y = np.concatenate([p[1] for p in pairs])
    sample = np.concatenate([np.full(len(p[1]), 1.0 / len(p[1])) for p in pairs]) * len(pairs)
    penalty = np.full(x.shape[1], l2)
    penalty[FEATURES.index("bias")] = 0.0
    w = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        gradient = x.T @ (sample * (p - y)) + penalty * w
        hessian = (x * (sample * p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return {name: round(float(v), 4) for name, v in zip(FEATURES, w, strict=True)}


def recall(engine: AnswerEngine, items: Sequence[dict[str, Any]]) -> tuple[float, dict[str, float], list[int]]:
    """Mean fact recall of the engine's answers (overall, per audience) and the answers' lengths in words."""
    scores: dict[str, list[float]] = {audience: [] for audience in AUDIENCES}
    lengths = []
    for item in items:
        answer = engine.ask(item["question"], item["audience"])
        scores[item["audience"]].append(fact_recall(item["answer_facts"], answer.text))
        if not answer.refused:
            lengths.append(len(answer.text.split("\n\nSources :")[0].split()))
    everything = [v for values in scores.values() for v in values]
    per = {a: sum(v) / len(v) for a, v in scores.items() if v}
    return sum(everything) / max(len(everything), 1), per, lengths


def choose(data: Data, train: Sequence[int]) -> Selection:
    """Weights fitted on the training items (by index in the list of in-scope items)."""
    per_audience = {a: [pairs for i, pairs in data[a] if i in set(train)] for a in AUDIENCES}
    return Selection({a: fit(per_audience[a], L2) for a in AUDIENCES})


def main(argv: list[str] | None = None) -> None:
    from assistant.service import build_retriever
    from assistant.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", dest="eval_set", type=Path, default=Path("evals/eval_set.jsonl"))
    parser.add_argument("--write", action="store_true", help=f"write the fitted selection to {SELECTION_FILE}")
    args = parser.parse_args(argv)
    retriever, _ = build_retriever(get_settings())
    engine = AnswerEngine(retriever)
    current = engine.selection
    items = [i for i in load_items(args.eval_set) if i["kind"] not in NO_GOLD_KINDS]
    data = dataset(engine, items)
    everything = list(range(len(items)))
    score, per, lengths = recall(engine, items)
    print(f"current selection: fact recall {score:.3f} {_fmt(per)} {_words(lengths)}")
    for parity in (0, 1):
        train = [i for i in everything if i % 2 != parity]
        test = [i for i in everything if i % 2 == parity]
        engine.selection = choose(data, train)
        fitted = recall(engine, [items[i] for i in train])[0]
        held, per, lengths = recall(engine, [items[i] for i in test])
        half = "even" if parity == 0 else "odd"
        print(
            f"fitted on the {'odd' if parity == 0 else 'even'} items: training recall {fitted:.3f} | held-out "
            f"{half} items (n={len(test)}) fact recall {held:.3f} {_fmt(per)} {_words(lengths)}"
        )
    selection = choose(data, everything)
    engine.selection = selection
    score, per, lengths = recall(engine, items)
    print(f"fitted on the whole set: fact recall {score:.3f} {_fmt(per)} {_words(lengths)}")
    engine.selection = current
    if args.write:
        payload = {"length_power": selection.length_power, "weights": selection.weights}
        SELECTION_FILE.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"written to {SELECTION_FILE}")


def _fmt(per: dict[str, float]) -> str:
    return "(" + ", ".join(f"{a} {v:.3f}" for a, v in per.items()) + ")"


def _words(lengths: list[int]) -> str:
    if not lengths:
        return ""
    ordered = sorted(lengths)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"words mean {statistics.mean(lengths):.0f} p95 {p95}"


if __name__ == "__main__":
    main()
