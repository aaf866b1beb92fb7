"""Trainers' tools (no HTTP here): eval runs in a background thread with progress, and turning a
feedback entry into an eval item appended to the trainers' eval file."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.answer import AnswerEngine
from corpus.model import Section
from evals.answers import item_scores, summarize_answers
from evals.check import check_item
from evals.metrics import first_hit_rank, grouped
from evals.run import evaluate_item


@dataclass
class EvalJob:
    id: str
    total: int
    done: int = 0
    finished: bool = False
    error: str = ""
    items: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    retrieval: dict[str, dict[str, float]] = field(default_factory=dict)
    answers: dict[str, dict[str, float]] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        """Each item with its answer and a pass flag, failures first."""
        rows = []
        for item, result in zip(self.items, self.results, strict=True):
            scores = item_scores(item, result)
            rank = first_hit_rank(result["retrieved"], item["gold"]) if item["gold"] else None
            ok = all(v >= 1.0 for k, v in scores.items() if k != "unverified_contacts" and k != "citation_precision")
            ok = ok and (not item["gold"] or (rank is not None and rank <= 5))
            rows.append({"item": item, "result": result, "rank": rank, "ok": ok, "scores": scores})
        return sorted(rows, key=lambda r: r["ok"])


def parse_eval_file(text: str) -> list[dict[str, Any]]:
    """Items of an uploaded eval file; raises ValueError with French messages."""
    items, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            problems.append(f"ligne {number} : JSON invalide")
            continue
        problems.extend(f"ligne {number} : {p}" for p in check_item(item))
        items.append(item)
    if problems:
        raise ValueError("Fichier d'évaluation invalide : " + " ; ".join(problems[:10]))
    if not items:
        raise ValueError("Fichier d'évaluation vide.")
    return items


class EvalJobs:
    """Eval runs in background threads, one at a time per process."""

    def __init__(self) -> None:
        self.jobs: dict[str, EvalJob] = {}
        self._lock = threading.Lock()

    def start(self, engine: AnswerEngine, items: list[dict[str, Any]]) -> EvalJob:
        job = EvalJob(uuid.uuid4().hex[:12], len(items), items=items)
        with self._lock:
            self.jobs[job.id] = job
        threading.Thread(target=self._run, args=(engine, job), daemon=True).start()
        return job

    def _run(self, engine: AnswerEngine, job: EvalJob) -> None:
        try:
            for item in job.items:
                result = evaluate_item(engine.retriever, item, engine=engine)
                job.results.append(result)
                job.done += 1
            ranks = [
                first_hit_rank(r["retrieved"], i["gold"]) if i["gold"] else None
                for i, r in zip(job.items, job.results, strict=True)
            ]
            job.retrieval = grouped(job.items, ranks)
            job.answers = summarize_answers(job.items, job.results)
        except Exception as exc:  # reported on the page, never crashes the server
            job.error = f"{type(exc).__name__} : {exc}"
        finally:
            job.finished = True


def feedback_to_item(entry: dict[str, Any], section: Section, kind: str, facts: list[str]) -> dict[str, Any]:
    """An eval item from a feedback entry: its question and audience, the expected fiche as gold."""
    item = {
        "id": f"avis-{entry['id']}",
        "audience": entry["audience"],
        "question": entry["question"],
        "gold": [{"source": section.source, "start_line": section.start_line, "end_line": section.end_line}],
        "answer_facts": facts,
        "kind": kind,
    }
    problems = check_item(item)
    if problems:
        raise ValueError("Élément d'évaluation invalide : " + " ; ".join(problems))
    return item


def append_item(path: Path, item: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(item, ensure_ascii=False) + "\n")
