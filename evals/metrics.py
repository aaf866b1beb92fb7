"""Pure retrieval metrics: ranked (source, span) lists against gold spans -> hit@k and MRR@10."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

KS = (1, 3, 5, 10)
NO_GOLD_KINDS = frozenset({"out_of_scope", "injection"})
# Judged on how the question is handled (emergency block), not on retrieval or facts.
DANGER_KIND = "danger"


def overlaps(a_source: str, a_start: int, a_end: int, gold: Mapping[str, Any]) -> bool:
    return a_source == gold["source"] and a_start <= int(gold["end_line"]) and int(gold["start_line"]) <= a_end


def first_hit_rank(retrieved: Sequence[Mapping[str, Any]], gold: Sequence[Mapping[str, Any]]) -> int | None:
    """1-based rank of the first retrieved span that overlaps a gold span, or None."""
    for rank, item in enumerate(retrieved, start=1):
        if any(overlaps(str(item["source"]), int(item["start_line"]), int(item["end_line"]), g) for g in gold):
            return rank
    return None


def summarize(ranks: Iterable[int | None]) -> dict[str, float]:
    """hit@k for k in KS and MRR@10 of a list of first-hit ranks."""
    values = list(ranks)
    n = len(values) or 1
    out = {f"hit@{k}": sum(1 for r in values if r is not None and r <= k) / n for k in KS}
    out["mrr@10"] = sum(1.0 / r for r in values if r is not None and r <= 10) / n
    out["n"] = float(len(values))
    return out


def grouped(items: Sequence[Mapping[str, Any]], ranks: Sequence[int | None]) -> dict[str, dict[str, float]]:
    """Metrics overall, per kind and per audience (items without gold are left out)."""
    groups: dict[str, list[int | None]] = defaultdict(list)
    for item, rank in zip(items, ranks, strict=True):
        if item["kind"] in NO_GOLD_KINDS or not item["gold"]:
            continue
        groups["overall"].append(rank)
        groups[f"kind:{item['kind']}"].append(rank)
        groups[f"audience:{item['audience']}"].append(rank)
        groups[f"kind×audience:{item['kind']}/{item['audience']}"].append(rank)
    return {name: summarize(values) for name, values in sorted(groups.items())}


FLOORS = {"hit@5": 0.95, "mrr@10": 0.85, "kind_hit@5": 0.90}


def floor_failures(summary: Mapping[str, Mapping[str, float]]) -> list[str]:
    """The CI floors this summary misses (empty when all hold)."""
    failures: list[str] = []
    if "overall" not in summary:  # a set without gold spans (out-of-scope questions, attacks, danger)
        return failures
    overall = summary["overall"]
    for metric in ("hit@5", "mrr@10"):
        if overall[metric] < FLOORS[metric]:
            failures.append(f"overall {metric} {overall[metric]:.3f} < {FLOORS[metric]}")
    for name, values in summary.items():
        if name.startswith("kind:") and values["hit@5"] < FLOORS["kind_hit@5"]:
            failures.append(f"{name} hit@5 {values['hit@5']:.3f} < {FLOORS['kind_hit@5']}")
    return failures
