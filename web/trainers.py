"""Trainers' tools (no HTTP here): eval runs in a background thread with their progress and results kept
in the database, and turning a feedback entry into an eval item (its expected passage chosen among the
passages the answer cited) appended to the trainers' eval file."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from filelock import FileLock
from sqlalchemy import RowMapping, insert, select, update

from assistant.answer import AnswerEngine
from corpus.model import Section
from evals.answers import normalize, summarize_answers
from evals.check import EMPTY_GOLD_KINDS, OPTIONAL_GOLD_KINDS, check_item, span_text
from evals.check import ROOT as CHECK_ROOT
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
    label: str = ""  # what was evaluated, in French
    created_at: str = ""  # ISO, UTC

    @property
    def complete(self) -> bool:
        """Finished with every result, so its questions can be read and compared."""
        return self.finished and not self.error and len(self.results) == len(self.items) == self.total


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

    def start(self, engine: AnswerEngine, items: list[dict[str, Any]], label: str = "") -> EvalJob:
        job = EvalJob(uuid.uuid4().hex[:12], len(items), items=items, label=label)
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
                    label=label,
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

    def recent(self, limit: int = 10) -> list[EvalJob]:
        """The last jobs started (oldest first), without their items and results."""
        names = ("id", "total", "done", "finished", "error", "created_at", "updated_at", "label")
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
        label=row.get("label") or "",
        created_at=row["created_at"],
    )


@dataclass(frozen=True, slots=True)
class CitedPassage:
    """A passage an answer cited, as its feedback recorded it, checked against the corpus: it lies inside
    one of the corpus' sections (a feedback's sources come from the browser and are never trusted)."""

    n: int | None  # its marker in the answer, [n]
    section: Section
    start_line: int
    end_line: int

    @property
    def key(self) -> str:
        """The value of its choice in the form."""
        return f"{self.section.section_id}:{self.start_line}-{self.end_line}"

    @property
    def lines(self) -> list[str]:
        """Its lines as the source page shows them."""
        return [
            line.text
            for fld in self.section.fields
            for line in fld.lines
            if self.start_line <= line.number <= self.end_line
        ]


def _line(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def section_at(sections: dict[str, Section], source: str, start: int, end: int) -> Section | None:
    """The section of that source file whose lines hold the span start..end."""
    return next(
        (s for s in sections.values() if s.source == source and s.start_line <= start and end <= s.end_line),
        None,
    )


def cited_passages(sources: Sequence[object], sections: dict[str, Section]) -> list[CitedPassage]:
    """The passages a feedback's answer cited, in citation order, without repeats: each one's section found
    by its id (or by its source file and lines), its span kept only when it lies inside that section (a
    source that names a section only stands for the whole section)."""
    found: dict[str, CitedPassage] = {}
    for source in sources:
        if not isinstance(source, dict):
            continue
        start, end = _line(source.get("start_line")), _line(source.get("end_line"))
        section = sections.get(str(source.get("section_id")))
        if section is None and start is not None and end is not None:
            section = section_at(sections, str(source.get("source")), start, end)
        if section is None:
            continue
        if start is None or end is None:
            start, end = section.start_line, section.end_line
        if not section.start_line <= start <= end <= section.end_line:
            continue
        passage = CitedPassage(_line(source.get("n")), section, start, end)
        found.setdefault(passage.key, passage)
    return list(found.values())


NEEDS_PASSAGE = "Choisissez le passage attendu parmi ceux que la réponse citait."
NEEDS_FACTS = "Indiquez au moins un fait attendu, recopié du passage choisi (plusieurs : séparés par « ; »)."


def feedback_to_item(
    entry: dict[str, Any], passage: CitedPassage | None, kind: str, facts: list[str]
) -> dict[str, Any]:
    """An eval item from a feedback entry: its question and audience, the chosen cited passage (source and
    line span) as gold and the facts that passage must give. A question outside the corpus' field or an
    attack has no gold; a danger item may have one. Raises ValueError with a French message."""
    if kind in EMPTY_GOLD_KINDS:
        passage, facts = None, []
    elif passage is None and kind not in OPTIONAL_GOLD_KINDS:
        raise ValueError(NEEDS_PASSAGE)
    if passage is not None and not facts and kind not in OPTIONAL_GOLD_KINDS:
        raise ValueError(NEEDS_FACTS)
    gold = []
    if passage is not None:
        gold = [{"source": passage.section.source, "start_line": passage.start_line, "end_line": passage.end_line}]
        text = normalize(span_text(CHECK_ROOT, passage.section.source, passage.start_line, passage.end_line) or "")
        absent = [fact for fact in facts if normalize(fact) not in text]
        if absent:
            quoted = ", ".join(f"« {fact} »" for fact in absent)
            raise ValueError(f"Ces faits ne figurent pas dans le passage choisi : {quoted}. Recopiez-les du passage.")
    item: dict[str, Any] = {
        "id": f"avis-{entry['id']}",
        "audience": entry["audience"],
        "question": entry["question"],
        "gold": gold,
        "answer_facts": facts,
        "kind": kind,
    }
    if kind == "danger":
        item["danger"] = True
    problems = check_item(item)
    if problems:
        raise ValueError("Question d'évaluation invalide : " + " ; ".join(dict.fromkeys(map(_french, problems))) + ".")
    return item


def read_items(path: Path) -> list[dict[str, Any]]:
    """The items of the trainers' eval file (none when it does not exist yet)."""
    if not path.exists():
        return []
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict):
            items.append(item)
    return items


def append_item(path: Path, item: dict[str, Any]) -> dict[str, Any]:
    """Append the item to the trainers' eval file, under a file lock shared by the workers; an id already
    in the file gets a suffix (« avis-3-2 »). Returns the item as written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock", timeout=60):
        taken = {str(existing.get("id")) for existing in read_items(path)}
        base, number = item["id"], 1
        while item["id"] in taken:
            number += 1
            item = {**item, "id": f"{base}-{number}"}
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    return item
