"""Refusal threshold calibration: the evidence-coverage value under which the engine refuses.

Run: ``python -m evals.calibrate --set evals/eval_set.jsonl [--write]``. It keeps the in-scope
answered rate at or above --min-answered (all refusals counted) and refuses as many out-of-scope
questions as that allows; a 2-fold split shows how the threshold carries over to unseen questions.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.answer import AnswerEngine
from assistant.answerable import CALIBRATION_FILE
from evals.metrics import NO_GOLD_KINDS
from evals.run import load_items
from evals.tune import fold_of
from retrieval.tuned import FIT_KEY, fit_record


@dataclass(frozen=True, slots=True)
class Point:
    in_scope: bool
    out_of_scope: bool
    refused_by_rules: bool
    coverage: float


def points(engine: AnswerEngine, items: list[dict[str, Any]]) -> list[Point]:
    out = []
    for item in items:
        if item["kind"] == "injection":
            continue
        answer = engine.ask(item["question"], item["audience"])
        coverage = engine.evidence_coverage(engine.retriever.analyzer.query(answer.query or item["question"]))
        out.append(Point(item["kind"] not in NO_GOLD_KINDS, item["kind"] == "out_of_scope", answer.refused, coverage))
    return out


def rates(data: list[Point], threshold: float) -> tuple[float, float]:
    """(in-scope answered, out-of-scope refused) if questions under `threshold` are refused."""
    in_scope = [p for p in data if p.in_scope]
    oos = [p for p in data if p.out_of_scope]
    answered = sum(1 for p in in_scope if not p.refused_by_rules and p.coverage >= threshold) / max(len(in_scope), 1)
    refused = sum(1 for p in oos if p.refused_by_rules or p.coverage < threshold) / max(len(oos), 1)
    return answered, refused


def best_threshold(data: list[Point], min_answered: float) -> float:
    """The highest threshold that keeps the in-scope answered rate at or above min_answered."""
    candidates = sorted({0.0, *(p.coverage for p in data)})
    best = 0.0
    for threshold in candidates:
        if rates(data, threshold)[0] >= min_answered:
            best = threshold
    # Place it halfway to the next in-scope value below it, not on an observed point.
    below = [p.coverage for p in data if p.in_scope and p.coverage < best]
    return round((best + max(below)) / 2, 4) if below else best


def main(argv: list[str] | None = None) -> None:
    from repere.service import build_retriever
    from repere.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", dest="eval_set", type=Path, default=Path("evals/eval_set.jsonl"))
    parser.add_argument("--min-answered", type=float, default=0.96)
    parser.add_argument("--write", action="store_true", help=f"write the threshold to {CALIBRATION_FILE}")
    args = parser.parse_args(argv)
    retriever, _ = build_retriever(get_settings())
    items = load_items(args.eval_set)
    data = points(AnswerEngine(retriever, min_coverage=0.0), items)
    held_out: dict[str, Any] = {
        "method": "2-fold cross-validation of min_coverage",
        "in_scope_answered": [],
        "out_of_scope_refused": [],
    }
    for fold in (0, 1):
        train = [
            p
            for p, i in zip(data, [i for i in items if i["kind"] != "injection"], strict=True)
            if fold_of(i["id"]) != fold
        ]
        test = [
            p
            for p, i in zip(data, [i for i in items if i["kind"] != "injection"], strict=True)
            if fold_of(i["id"]) == fold
        ]
        t = best_threshold(train, args.min_answered)
        answered, refused = rates(test, t)
        held_out["in_scope_answered"].append(round(answered, 3))
        held_out["out_of_scope_refused"].append(round(refused, 3))
        held = f"held-out in-scope answered {answered:.3f}, out-of-scope refused {refused:.3f}"
        print(f"fold {fold}: threshold {t} -> {held}")
    threshold = best_threshold(data, args.min_answered)
    answered, refused = rates(data, threshold)
    baseline = rates(data, 0.0)
    print(f"rules only: in-scope answered {baseline[0]:.3f}, out-of-scope refused {baseline[1]:.3f}")
    print(f"threshold {threshold}: in-scope answered {answered:.3f}, out-of-scope refused {refused:.3f}")
    if args.write:
        current = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8")) if CALIBRATION_FILE.is_file() else {}
        current["min_coverage"] = threshold  # the other thresholds (datum_coverage) are kept
        command = "python -m evals.calibrate --write"
        current[FIT_KEY] = fit_record(command, [args.eval_set], get_settings().embedder, held_out)
        CALIBRATION_FILE.write_text(json.dumps(current) + "\n", encoding="utf-8")
        print(f"written to {CALIBRATION_FILE}")


if __name__ == "__main__":
    main()
