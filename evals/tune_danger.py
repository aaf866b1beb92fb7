"""Danger model fitting: the weights of `assistant/danger_score.py` and its decision thresholds.

Run: ``python -m evals.tune_danger [--set F ...] [--write]``. By default it fits on the development
sets: `evals/dev_understanding.jsonl`, `evals/heldout_understanding.jsonl` and
`evals/heldout3_understanding.jsonl` (the first and third held-out sets, reported and read since, now
development), the older eval set, the answer set's development half, the danger pool
(`evals/dev/danger_pool.jsonl`), and the examples and
counterexamples of `assistant/data/danger.toml`. It never reads the sealed sets
(`heldout2_understanding.jsonl`, `heldout8_understanding.jsonl`, `heldout_answers.jsonl`,
`heldout6_answers.jsonl`, `heldout7_answers.jsonl`); sets 4 and 5 are development since stop 19, set 7 since stop 20.

Three L2-regularised logistic regressions (scikit-learn, liblinear; deterministic) share the features:
danger or not (every item), immediate or not (the items in danger whose level is known), and one head
per situation (one against the rest, over the items in danger). 5-fold stratified cross-validation
gives out-of-fold scores; the danger threshold is the lowest that keeps the out-of-fold false alarms
on items without danger at or under MAX_FALSE_ALARMS, and the figures printed (recall alone and
together with the lexicon) are out-of-fold. scikit-learn is needed only here (a dev dependency): the
assistant reads the weights from JSON.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.cues import ALL_KINDS, features
from assistant.danger import DangerLexicon, read_lexicon
from assistant.danger_score import MODEL_FILE
from evals.run import load_items
from retrieval.tuned import fit_record

DEFAULT_SETS = (
    Path("evals/dev_understanding.jsonl"),
    Path("evals/heldout_understanding.jsonl"),
    Path("evals/heldout3_understanding.jsonl"),
    Path("evals/heldout4_understanding.jsonl"),
    Path("evals/heldout5_understanding.jsonl"),
    Path("evals/heldout7_understanding.jsonl"),
    Path("evals/eval_set.jsonl"),
    Path("evals/dev_answers.jsonl"),
)
# The danger model also learns from the danger pool (stop 23: 130 messages in danger, 70 look-alike questions).
DANGER_SETS = (*DEFAULT_SETS, Path("evals/dev/danger_pool.jsonl"))
SEALED = frozenset(
    {
        "heldout2_understanding.jsonl",
        "heldout8_understanding.jsonl",
        "heldout9_understanding.jsonl",  # stop 21, for the next round of the question analysis
        "heldout10_understanding.jsonl",  # stop 23
        # The older sealed answer sets are development for the answers once two newer ones exist (the
        # selection is fitted on them: heldout6 since stop 21, heldout7 and 8 since stop 25, heldout9 since
        # stop 26, heldout10 and 11 since stop 29, heldout12 to 15 since stop 32, for the families' model;
        # heldout16 to 18 since stop 36, for the professionals' model);
        # the newest stay sealed.
        "heldout19_answers.jsonl",  # stop 34
        "heldout20_answers.jsonl",  # stop 35
        "heldout21_answers.jsonl",  # stop 36
        "heldout22_answers.jsonl",  # stop 37
        "heldout23_answers.jsonl",  # stop 38
        "heldout24_answers.jsonl",  # stop 39
        "heldout25_answers.jsonl",  # stop 40
    }
)
MAX_FALSE_ALARMS = 0.01  # out-of-fold share of messages without danger that the model alone flags
C = 3.0  # inverse L2 strength; 0.3-10 explored (training on all but the first held-out set, tested on it)
MIN_COUNT = 3  # a feature seen in fewer training messages gets no weight
# Immediacy is said in words (« maintenant », « ce soir », « depuis hier » against « souvent », « depuis
# la rentrée »); letter groups only added noise on its 166 examples (out-of-fold, same recall, more false
# "immediate"). The model alone decides the level: out-of-fold it beat the lexicon's immediate sets
# (43/49 immediate found with 14/117 false, against 36/49 with 19/117).
IMMEDIATE_KINDS = "wbk"
IMMEDIATE_THRESHOLD = 0.45
SITUATION_FLOOR = 0.5
SITUATION_PRUNE = 0.1
FOLDS = 5


@dataclass(frozen=True, slots=True)
class Example:
    text: str  # the message (with the earlier user turns, as the analysis reads follow-ups)
    danger: bool
    immediate: bool | None  # None when the level is not known
    situation: str | None


def examples(sets: Sequence[Path], lexicon: DangerLexicon) -> list[Example]:
    found: list[Example] = []
    for path in sets:
        if path.name in SEALED:
            raise SystemExit(f"{path} is sealed: fit on development sets only")
        for item in load_items(path):
            danger = bool(item.get("danger")) or item["kind"] == "danger"
            level = item.get("danger_level")
            immediate = None if not danger or level not in {"immediate", "concern"} else level == "immediate"
            found.append(Example(item["question"], danger, immediate, item.get("situation") if danger else None))
    for situation in lexicon.situations:
        found.extend(Example(text, True, None, situation.id) for text in situation.examples)
        found.extend(Example(text, False, None, None) for text in situation.counterexamples)
    return found


def present(example: Example, lexicon: DangerLexicon) -> list[str]:
    normalised = lexicon.normalise(example.text)
    concepts = [name for name, pattern in lexicon.concepts.items() if pattern.search(normalised)]
    return features(normalised, concepts)


class Matrix:
    """Feature lists -> a sparse matrix over the features seen at least MIN_COUNT times in training."""

    def __init__(self, rows: Sequence[list[str]]) -> None:
        counts: dict[str, int] = {}
        for row in rows:
            for name in row:
                counts[name] = counts.get(name, 0) + 1
        self.names = sorted(name for name, count in counts.items() if count >= MIN_COUNT)
        self.index = {name: i for i, name in enumerate(self.names)}

    def build(self, rows: Sequence[list[str]]) -> Any:
        from scipy.sparse import csr_matrix

        data, indices, indptr = [], [], [0]
        for row in rows:
            scale = 1.0 / math.sqrt(len(row)) if row else 0.0  # as at run time: every present feature counts
            columns = sorted(self.index[name] for name in row if name in self.index)
            indices.extend(columns)
            data.extend([scale] * len(columns))
            indptr.append(len(indices))
        return csr_matrix((data, indices, indptr), shape=(len(rows), len(self.names)))


def fit_head(
    rows: Sequence[list[str]], labels: Sequence[bool], prune: float = 0.0, kinds: str = ALL_KINDS
) -> dict[str, Any]:
    """One head over the features of `kinds`; weights under `prune` in absolute value are dropped (the
    situation heads only name the situation, so they keep their strong cues and the file stays small)."""
    rows = [only(row, kinds) for row in rows]
    from sklearn.linear_model import LogisticRegression

    matrix = Matrix(rows)
    model = LogisticRegression(C=C, solver="liblinear", class_weight="balanced", max_iter=1000)
    model.fit(matrix.build(rows), np.array(labels, dtype=int))
    weights = {name: round(float(w), 4) for name, w in zip(matrix.names, model.coef_[0], strict=True)}
    kept = {name: w for name, w in weights.items() if w and abs(w) >= prune}
    return {"bias": round(float(model.intercept_[0]), 4), "weights": kept, "kinds": kinds}


def only(row: list[str], kinds: str) -> list[str]:
    return row if kinds == ALL_KINDS else [name for name in row if name[0] in kinds]


def probability(head: dict[str, Any], row: list[str]) -> float:
    row = only(row, head["kinds"])
    scale = 1.0 / math.sqrt(len(row)) if row else 0.0
    z = head["bias"] + scale * math.fsum(head["weights"].get(name, 0.0) for name in row)
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def fit_all(rows: Sequence[list[str]], data: Sequence[Example]) -> dict[str, Any]:
    danger = fit_head(rows, [e.danger for e in data])
    leveled = [i for i, e in enumerate(data) if e.immediate is not None]
    immediate = fit_head([rows[i] for i in leveled], [bool(data[i].immediate) for i in leveled], kinds=IMMEDIATE_KINDS)
    in_danger = [i for i, e in enumerate(data) if e.danger and e.situation]
    names = sorted({str(data[i].situation) for i in in_danger})
    situations = {
        name: fit_head([rows[i] for i in in_danger], [data[i].situation == name for i in in_danger], SITUATION_PRUNE)
        for name in names
    }
    return {"danger": danger, "immediate": immediate, "situations": situations}


def folds(labels: Sequence[bool]) -> list[int]:
    """A stratified fold number per labelled item (seeded)."""
    rng = np.random.default_rng(0)
    fold = [0] * len(labels)
    for label in (True, False):
        members = [i for i, y in enumerate(labels) if y is label]
        rng.shuffle(members)
        for n, i in enumerate(members):
            fold[i] = n % FOLDS
    return fold


def lowest_threshold(scores: Sequence[float], allowed: int) -> float:
    """The lowest threshold (at least 0.5) that at most `allowed` of these out-of-fold scores reach."""
    ranked = sorted(scores, reverse=True)
    return round(max(0.5, ranked[allowed] + 1e-6), 6) if len(ranked) > allowed else 0.5


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", dest="eval_sets", type=Path, action="append")
    parser.add_argument("--write", action="store_true", help=f"write the fitted model to {MODEL_FILE}")
    args = parser.parse_args(argv)
    lexicon = read_lexicon()  # the situations alone: the model's own figures must not include itself
    sets = args.eval_sets or list(DANGER_SETS)
    data = examples(sets, lexicon)
    rows = [present(e, lexicon) for e in data]
    by_lexicon = [lexicon.recognise(e.text) for e in data]
    fold = folds([e.danger for e in data])
    oof_danger = [0.0] * len(data)
    oof_immediate: dict[int, float] = {}
    for k in range(FOLDS):
        train = [i for i in range(len(data)) if fold[i] != k]
        heads = fit_all([rows[i] for i in train], [data[i] for i in train])
        for i in range(len(data)):
            if fold[i] == k:
                oof_danger[i] = probability(heads["danger"], rows[i])
                oof_immediate[i] = probability(heads["immediate"], rows[i])
    negatives = [oof_danger[i] for i, e in enumerate(data) if not e.danger]
    threshold = lowest_threshold(negatives, int(MAX_FALSE_ALARMS * len(negatives)))
    positives = [i for i, e in enumerate(data) if e.danger]
    model_hits = sum(oof_danger[i] >= threshold for i in positives)
    lexicon_hits = sum(by_lexicon[i].signalled for i in positives)
    union_hits = sum(by_lexicon[i].signalled or oof_danger[i] >= threshold for i in positives)
    false_alarms = sum(
        by_lexicon[i].signalled or oof_danger[i] >= threshold for i, e in enumerate(data) if not e.danger
    )
    leveled = [i for i in positives if data[i].immediate is not None]
    urgent_right = sum((oof_immediate[i] >= IMMEDIATE_THRESHOLD) == data[i].immediate for i in leveled)
    held_out = {
        "method": f"{FOLDS}-fold stratified cross-validation, out-of-fold scores",
        "messages": len(data),
        "in_danger": len(positives),
        "threshold": threshold,
        "recall_model": round(model_hits / len(positives), 3),
        "recall_lexicon": round(lexicon_hits / len(positives), 3),
        "recall_together": round(union_hits / len(positives), 3),
        "false_alarms_together": round(false_alarms / len(negatives), 3),
        "level_right": round(urgent_right / len(leveled), 3) if leveled else None,
    }
    for key, value in held_out.items():
        print(f"{key}: {value}")
    if args.write:
        heads = fit_all(rows, data)
        payload = {
            **heads,
            "threshold": threshold,
            "immediate_threshold": IMMEDIATE_THRESHOLD,
            "situation_floor": SITUATION_FLOOR,
            "fitted": fit_record("python -m evals.tune_danger --write", sets, "-", held_out),
        }
        MODEL_FILE.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"written to {MODEL_FILE} ({MODEL_FILE.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
