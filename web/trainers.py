"""Trainers' tools (no HTTP here): eval runs in a background thread with their progress and results kept
in the database, and turning a feedback entry into an eval item appended to the trainers' eval file."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import RowMapping, insert, select, update

from assistant.answer import AnswerEngine
from corpus.model import Section
from evals.answers import item_scores, summarize_answers
from evals.check import check_item
from evals.metrics import first_hit_rank, grouped
from evals.run import evaluate_item
from web.storage import Database, StorageUnavailable, eval_jobs, eval_results

log = logging.getLogger(__name__)


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
    interrupted: bool = False  # its worker stopped before the end (no progress for STALE_AFTER)

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


def parse_eval_file(text: str, known_sources: set[str]) -> list[dict[str, Any]]:
    """Items of an uploaded eval file; raises ValueError with French messages. A gold span may only name a
    source of the corpus or an ingested document, exactly as its citations do (never a path of its own:
    the checker reads the span's lines, which would let the file probe any file of the server)."""
    items, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            problems.append(f"ligne {number} : JSON invalide")
            continue
        found = _shape_problems(item, known_sources)
        if not found:
            found = [_french(problem) for problem in check_item(item)]
        problems.extend(f"ligne {number} : {p}" for p in found)
        items.append(item)
    if problems:
        raise ValueError("Fichier d'évaluation invalide : " + " ; ".join(problems[:10]))
    if not items:
        raise ValueError("Fichier d'évaluation vide.")
    return items


FIELDS = {"id": str, "audience": str, "question": str, "gold": list, "answer_facts": list, "kind": str}


def _shape_problems(item: object, known_sources: set[str]) -> list[str]:
    """What the checker cannot read safely: the types of the fields and the sources the gold spans name."""
    if not isinstance(item, dict):
        return ["chaque ligne doit être un objet JSON"]
    problems = [f"champ « {key} » manquant" for key in FIELDS if key not in item]
    problems += [
        f"champ « {key} » de type invalide"
        for key, kind in FIELDS.items()
        if key in item and not isinstance(item[key], kind)
    ]
    if problems:
        return problems
    for span in item["gold"]:
        if not isinstance(span, dict) or not all(
            isinstance(span.get(key), int) and not isinstance(span.get(key), bool) for key in ("start_line", "end_line")
        ):
            problems.append("chaque passage attendu (gold) a « source », « start_line » et « end_line » (entiers)")
            continue
        source = span.get("source")
        if not isinstance(source, str) or source not in known_sources:
            named = source if isinstance(source, str) else ""
            why = "chemin non autorisé" if named.startswith("/") or ".." in named.split("/") else "source inconnue"
            problems.append(f"{why} dans gold (seules les sources du corpus et les documents ajoutés sont acceptées)")
    if not all(isinstance(fact, str) for fact in item["answer_facts"]):
        problems.append("« answer_facts » est une liste de textes")
    return problems


# The checker's (English, developer-facing) messages, as trainers read them.
CHECK_MESSAGES = (
    ("does not exist", "un passage attendu (gold) n'existe pas dans sa source"),
    ("not found in its gold spans", "un fait attendu ne figure pas dans les passages attendus"),
    ("in-scope item without gold", "question sans passage attendu (gold)"),
    ("in-scope item without answer_facts", "question sans fait attendu (answer_facts)"),
    ("items have empty gold", "ce type de question n'a pas de passage attendu (gold vide)"),
    ("unknown kind", "type de question inconnu"),
    ("unknown audience", "public inconnu (« famille » ou « professionnel »)"),
    ("empty question", "question vide"),
    ("'danger'", "« danger » doit valoir true ou false (true pour une question de danger)"),
    ("'danger_level'", "« danger_level » doit valoir « concern » ou « immediate »"),
    ("'history'", "« history » est une liste de {role: user|assistant, content}"),
    ("'documents'", "« documents » est une liste de {name, text}"),
    ("'forbidden'", "« forbidden » est une liste de textes non vides"),
)


def _french(problem: str) -> str:
    return next((french for english, french in CHECK_MESSAGES if english in problem), "élément non conforme")


# A running job writes its progress after every question (a question takes milliseconds, at most the
# chat model's timeout, 300 s, plus the extractive fallback): silent for longer, its worker is gone.
STALE_AFTER = timedelta(minutes=10)
INTERRUPTED = "évaluation interrompue : le processus serveur qui la menait s'est arrêté. Relancez-la."


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class EvalJobs:
    """Eval runs in a background thread of the worker that received them; their state (progress, results,
    scores) is in the database, so every worker process can show any job. A job whose worker died (no
    progress written for STALE_AFTER) is shown as interrupted instead of running forever."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def start(self, engine: AnswerEngine, items: list[dict[str, Any]]) -> EvalJob:
        job = EvalJob(uuid.uuid4().hex[:12], len(items), items=items)
        with self.database.begin() as connection:
            connection.execute(
                insert(eval_jobs).values(
                    id=job.id,
                    created_at=(now := _now()),
                    updated_at=now,
                    total=job.total,
                    done=0,
                    finished=False,
                    error="",
                    items=items,
                )
            )
        threading.Thread(target=self._run, args=(engine, job), daemon=True).start()
        return job

    def get(self, job_id: str) -> EvalJob | None:
        """The job as stored now, with the results written so far."""
        with self.database.begin() as connection:
            row = connection.execute(select(eval_jobs).where(eval_jobs.c.id == job_id)).first()
            if row is None:
                return None
            results = connection.execute(
                select(eval_results.c.result).where(eval_results.c.job_id == job_id).order_by(eval_results.c.position)
            ).scalars()
            job = _job(row._mapping, items=row.items)
            job.results = list(results)
        return job

    def recent(self, limit: int = 5) -> list[EvalJob]:
        """The last jobs started (oldest first), without their items and results."""
        names = ("id", "total", "done", "finished", "error", "created_at", "updated_at")
        columns = [eval_jobs.c[name] for name in names]
        query = select(*columns).order_by(eval_jobs.c.created_at.desc()).limit(limit)
        with self.database.begin() as connection:
            rows = connection.execute(query).all()
        return [_job(row._mapping) for row in reversed(rows)]

    def _run(self, engine: AnswerEngine, job: EvalJob) -> None:
        finish: dict[str, Any] = {"finished": True}
        try:
            for position, item in enumerate(job.items):
                result = evaluate_item(engine.retriever, item, engine=engine)
                job.results.append(result)
                job.done += 1
                with self.database.begin() as connection:
                    connection.execute(insert(eval_results).values(job_id=job.id, position=position, result=result))
                    progress = update(eval_jobs).where(eval_jobs.c.id == job.id)
                    connection.execute(progress.values(done=job.done, updated_at=_now()))
            ranks = [
                first_hit_rank(r["retrieved"], i["gold"]) if i["gold"] else None
                for i, r in zip(job.items, job.results, strict=True)
            ]
            finish["retrieval"] = grouped(job.items, ranks)
            finish["answers"] = summarize_answers(job.items, job.results)
        except Exception as exc:  # reported on the page, never crashes the server
            finish["error"] = f"{type(exc).__name__} : {exc}"
        try:
            with self.database.begin() as connection:
                connection.execute(update(eval_jobs).where(eval_jobs.c.id == job.id).values(**finish))
        except StorageUnavailable:
            log.exception("eval job %s: its end could not be stored", job.id)


def _job(row: RowMapping, items: list[dict[str, Any]] | None = None) -> EvalJob:
    finished = bool(row["finished"])
    heartbeat = datetime.fromisoformat(row["updated_at"] or row["created_at"])
    interrupted = not finished and datetime.now(UTC) - heartbeat > STALE_AFTER
    return EvalJob(
        row["id"],
        row["total"],
        done=row["done"],
        finished=finished or interrupted,
        error=INTERRUPTED if interrupted else row["error"],
        items=items or [],
        retrieval=row.get("retrieval") or {},
        answers=row.get("answers") or {},
        interrupted=interrupted,
    )


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
