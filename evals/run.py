"""Eval harness: eval-set JSONL -> one result line per item (ranked sections, latency) + metrics + HTML.

Run: ``repere eval --set evals/eval_set.jsonl --out evals/results/results.jsonl``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.conversation import Turn
from evals.metrics import first_hit_rank, grouped
from retrieval.retrieve import Retriever, SectionHit

if TYPE_CHECKING:
    from assistant.answer import AnswerEngine


@dataclass(frozen=True, slots=True)
class EvalRun:
    items: list[dict[str, Any]]
    results: list[dict[str, Any]]
    section_ranks: list[int | None]
    passage_ranks: list[int | None]
    summary: dict[str, dict[str, float]]
    passage_summary: dict[str, dict[str, float]]
    answer_summary: dict[str, dict[str, float]] | None = None


def load_items(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def result_line(item: dict[str, Any], hits: Sequence[SectionHit], latency_ms: float) -> dict[str, Any]:
    return {
        "id": item["id"],
        "retrieved": [
            {
                "source": h.source,
                "start_line": h.start_line,
                "end_line": h.end_line,
                "section_id": h.section_id,
                "score": h.score,
                "title": h.title,
                "passages": [
                    {"start_line": p.start_line, "end_line": p.end_line, "score": p.score} for p in h.passages
                ],
            }
            for h in hits
        ],
        "latency_ms": round(latency_ms, 3),
    }


def passage_list(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The best passage of each retrieved section, in rank order (a stricter, passage-level view)."""
    return [
        {"source": r["source"], "start_line": r["passages"][0]["start_line"], "end_line": r["passages"][0]["end_line"]}
        for r in result["retrieved"]
        if r["passages"]
    ]


def history(item: dict[str, Any]) -> list[Turn]:
    """The earlier turns of a follow-up item (a multi-turn attack, a danger told in the last turn)."""
    return [Turn(turn["role"], turn["content"]) for turn in item.get("history", [])]


def evaluate_item(
    retriever: Retriever, item: dict[str, Any], k: int = 10, engine: AnswerEngine | None = None
) -> dict[str, Any]:
    """One result line: the ranked sections and, with an engine, the answer and its citations."""
    start = time.perf_counter()
    hits = retriever.search(item["question"], k=k, audience=item.get("audience"))
    result = result_line(item, hits, (time.perf_counter() - start) * 1000)
    if engine is not None:
        start = time.perf_counter()
        answer = engine.ask(item["question"], item["audience"], history(item))
        analysis = answer.analysis
        if analysis is not None:
            result.update(danger_level=analysis.danger.level, situation=analysis.danger.situation, asked=analysis.asked)
        result.update(
            answer=answer.text,
            body=answer.body,
            refused=answer.refused,
            emergency=answer.emergency,
            reason=answer.reason,
            citations=[
                {
                    "n": c.n,
                    "source": c.source,
                    "start_line": c.start_line,
                    "end_line": c.end_line,
                    "section_id": c.section_id,
                    "fiche": c.fiche,
                    "quote": c.quote,
                }
                for c in answer.citations
            ],
            answer_latency_ms=round((time.perf_counter() - start) * 1000, 3),
        )
    return result


def run_eval(
    retriever: Retriever,
    items: list[dict[str, Any]],
    k: int = 10,
    engine: AnswerEngine | None = None,
    with_documents: Callable[[list[dict[str, str]]], AnswerEngine] | None = None,
) -> EvalRun:
    """Retrieval for every item; with an engine, also its answer (refusal, emergency, citations).

    Items that plant documents (an attack hidden in an ingested file) are answered by the engine that
    `with_documents` builds over the corpus plus all those documents, added as `repere ingest` does."""
    planted = [doc for item in items for doc in item.get("documents", [])]
    other = with_documents(planted) if planted and with_documents is not None and engine is not None else None
    results = []
    for item in items:
        if other is not None and item.get("documents"):
            results.append(evaluate_item(other.retriever, item, k, other))
        else:
            results.append(evaluate_item(retriever, item, k, engine))
    section_ranks = [
        first_hit_rank(r["retrieved"], i["gold"]) if i["gold"] else None for i, r in zip(items, results, strict=True)
    ]
    passage_ranks = [
        first_hit_rank(passage_list(r), i["gold"]) if i["gold"] else None for i, r in zip(items, results, strict=True)
    ]
    answer_summary = None
    if engine is not None:
        from evals.answers import summarize_answers

        answer_summary = summarize_answers(items, results)
    return EvalRun(
        items,
        results,
        section_ranks,
        passage_ranks,
        grouped(items, section_ranks),
        grouped(items, passage_ranks),
        answer_summary,
    )


def write_results(run: EvalRun, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for result in run.results:
            handle.write(json.dumps(result, ensure_ascii=False) + "\n")


def format_summary(summary: dict[str, dict[str, float]], title: str = "") -> str:
    header = f"{'group':<44} {'n':>4} {'hit@1':>6} {'hit@3':>6} {'hit@5':>6} {'hit@10':>6} {'MRR@10':>7}"
    rows = [title, header] if title else [header]
    for name, m in summary.items():
        if name.startswith("kind×audience") or not m.get("n"):
            continue
        cells = " ".join(f"{m[key]:>6.3f}" for key in ("hit@1", "hit@3", "hit@5", "hit@10"))
        rows.append(f"{name:<44} {int(m['n']):>4} {cells} {m['mrr@10']:>7.3f}")
    return "\n".join(rows)
