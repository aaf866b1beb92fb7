"""Scope model fitting: the weights of `assistant/scope_score.py` and its refusal threshold.

Run: ``python -m evals.tune_scope [--set F ...] [--write]``. By default it fits on the development
sets (see `evals/tune_danger.py`: the sealed sets are refused), the answer sets the selection is fitted on
(`evals/tune_answers.py`) and the pools of `evals/dev/`. Items
about a child in danger and injections are left out (they are answered by the danger block or refused
before retrieval); the label is whether the item is out of scope.

The head is an L2-regularised logistic regression (the danger tuner's `fit_head`) over the question's
words, word pairs and letter groups and the evidence cues of `Signals`. 5-fold stratified
cross-validation gives out-of-fold probabilities; the threshold is the lowest that keeps the in-scope
questions that the rules answer and the model would refuse at or under MAX_FALSE_REFUSALS. The printed
figures (refusals of the rules alone and together with the model) are out-of-fold.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.answer import AnswerEngine
from assistant.cues import features
from assistant.scope_score import MODEL_FILE
from evals.run import load_items
from evals.tune_answers import DEFAULT_SETS as ANSWER_SETS
from evals.tune_danger import DEFAULT_SETS, FOLDS, SEALED, fit_head, folds, lowest_threshold, probability
from retrieval.tuned import fit_record

# The answer sets fitted on teach the model what in-scope questions look like (stop 29: 686 of them, many
# in SMS), as the understanding sets and the pools teach it what is out of scope.
SETS = (
    *DEFAULT_SETS,
    *(path for path in ANSWER_SETS if path not in DEFAULT_SETS),
    Path("evals/dev/datum_oos.jsonl"),
    Path("evals/dev/scope_pool.jsonl"),
    Path("evals/dev/scope_pool2.jsonl"),
    Path("evals/dev/scope_pool3.jsonl"),
)
# Out-of-fold share of in-scope questions the model alone would refuse (at 0.02, more figure questions that
# the sources answer were refused). 0.015 until stop 29, on 836 in-scope questions. With the answer sets added
# (1522), 0.015 and 0.01 let the model refuse more of the in-scope questions that name an unknown place (« J'habite
# à Nyons : c'est quoi une AED ? », tests/test_answer.py); at 0.006, out-of-fold: out of scope refused 0.905 ->
# 0.903, in-scope answered 0.975 (of 836) -> 0.986 (of 1522), against the model fitted without the answer sets.
MAX_FALSE_REFUSALS = 0.006


def dataset(engine: AnswerEngine, sets: Sequence[Path]) -> tuple[list[list[str]], list[bool], list[bool]]:
    """Per item: its features, whether it is out of scope, whether the rules already refuse it."""
    rows, labels, refused = [], [], []
    for path in sets:
        if path.name in SEALED:
            raise SystemExit(f"{path} is sealed: fit on development sets only")
        for item in load_items(path):
            if item["kind"] in {"danger", "injection"} or item.get("danger"):
                continue
            q = engine.analyse(item["question"], item["audience"])
            if q.danger.signalled or q.injection:
                continue
            hits = engine.evidence.found(q).retrieved  # what the engine's refusals read
            signals = engine.answerability.signals(q, hits)
            rows.append(features(engine.answerability.scope_text(q), evidence=signals.cues()))
            labels.append(item["kind"] == "out_of_scope")
            refused.append(engine.ask(item["question"], item["audience"]).refused)
    return rows, labels, refused


def main(argv: list[str] | None = None) -> None:
    from repere.service import build_retriever
    from repere.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", dest="eval_sets", type=Path, action="append")
    parser.add_argument("--write", action="store_true", help=f"write the fitted model to {MODEL_FILE}")
    args = parser.parse_args(argv)
    retriever, _ = build_retriever(get_settings())
    engine = AnswerEngine(retriever, scope_model=False)  # the rules alone
    sets = args.eval_sets or list(SETS)
    rows, labels, refused = dataset(engine, sets)
    fold = folds(labels)
    oof = [0.0] * len(rows)
    for k in range(FOLDS):
        train = [i for i in range(len(rows)) if fold[i] != k]
        head = fit_head([rows[i] for i in train], [labels[i] for i in train])
        for i in range(len(rows)):
            if fold[i] == k:
                oof[i] = probability(head, rows[i])
    inside = [i for i, y in enumerate(labels) if not y]
    outside = [i for i, y in enumerate(labels) if y]
    answered = [oof[i] for i in inside if not refused[i]]
    threshold = lowest_threshold(answered, int(MAX_FALSE_REFUSALS * len(inside)))
    together = [refused[i] or oof[i] >= threshold for i in range(len(rows))]
    held_out: dict[str, Any] = {
        "method": f"{FOLDS}-fold stratified cross-validation, out-of-fold scores",
        "questions": len(rows),
        "out_of_scope": len(outside),
        "threshold": threshold,
        "oos_refused_rules": round(sum(refused[i] for i in outside) / len(outside), 3),
        "oos_refused_together": round(sum(together[i] for i in outside) / len(outside), 3),
        "in_scope_answered_rules": round(sum(not refused[i] for i in inside) / len(inside), 3),
        "in_scope_answered_together": round(sum(not together[i] for i in inside) / len(inside), 3),
    }
    for key, value in held_out.items():
        print(f"{key}: {value}")
    if args.write:
        payload = {
            "scope": fit_head(rows, labels),
            "threshold": threshold,
            "fitted": fit_record("python -m evals.tune_scope --write", sets, get_settings().embedder, held_out),
        }
        MODEL_FILE.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"written to {MODEL_FILE} ({MODEL_FILE.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
