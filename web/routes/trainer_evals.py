"""/formateurs/evaluation…: start an eval run (the project's set, the trainers' set or an uploaded file),
follow its progress, read its figures and failing questions, open one question with the expected facts
marked in its answer, and compare two runs side by side. Behind the trainer token (trainers.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from evals.metrics import overlaps
from evals.run import load_items
from web.review import Figures, changes, figures, mark_facts, verdict, verdicts
from web.routes.trainers import EVAL_SET, TrainerDep, page, trainer_set
from web.trainers import EvalJob, parse_eval_file, read_items, section_at

router = APIRouter(prefix="/formateurs", include_in_schema=False)
UNKNOWN_JOB = "Évaluation inconnue."
NOT_COMPLETE = (
    "Cette évaluation n'est pas terminée (ou s'est arrêtée sur une erreur) : ses questions ne sont pas lisibles."
)


@router.post("/evaluation", response_class=HTMLResponse)
async def start_eval(
    state: TrainerDep,
    jeu: Annotated[str, Form(max_length=20)] = "projet",
    fichier: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """An uploaded file when one is given, else the chosen set: the project's or the trainers'."""
    if fichier is not None and fichier.filename:
        try:
            known = {section.source for section in state.sections.values()}
            items = parse_eval_file((await fichier.read()).decode("utf-8"), known)
        except (UnicodeDecodeError, ValueError) as exc:
            raise HTTPException(
                400, str(exc) if isinstance(exc, ValueError) else "Fichier illisible (UTF-8 attendu)."
            ) from exc
        label = f"fichier « {fichier.filename[:100]} »"
    elif jeu == "formateurs":
        items = await run_in_threadpool(read_items, trainer_set(state))
        if not items:
            raise HTTPException(400, "Le jeu des formateurs est vide : transformez d'abord un avis en question.")
        label = "jeu des formateurs"
    else:
        items, label = load_items(EVAL_SET), "jeu d'évaluation du projet"
    job = await run_in_threadpool(state.jobs.start, state.engine, items, label)
    return RedirectResponse(f"/formateurs/evaluation/{job.id}", status_code=303)


async def _job(state: TrainerDep, job_id: str, complete: bool = False) -> EvalJob:
    job = await run_in_threadpool(state.jobs.get, job_id)
    if job is None:
        raise HTTPException(404, UNKNOWN_JOB)
    if complete and not job.complete:
        raise HTTPException(400, NOT_COMPLETE)
    return job


def tables(rows: list[Figures]) -> list[tuple[str, list[Figures]]]:
    """The figures in three tables: overall and per kind, per audience, per finer group (held-out sets)."""
    kinds = [f for f in rows if f.group == "overall" or f.group.startswith("kind:")]
    audiences = [f for f in rows if f.group.startswith("audience:")]
    others = [f for f in rows if f not in kinds and f not in audiences]
    named = [("Par type de question", kinds), ("Par public", audiences), ("Autres groupes", others)]
    return [(title, group) for title, group in named if group]


@router.get("/evaluation/{job_id}", response_class=HTMLResponse)
async def eval_page(request: Request, job_id: str, state: TrainerDep) -> Response:
    job = await _job(state, job_id)
    rows = verdicts(job.items, job.results) if job.complete else []
    recent = reversed(await run_in_threadpool(state.jobs.recent, 20))  # newest first
    others = [j for j in recent if j.id != job.id and j.finished]
    return page(
        request,
        "trainers_eval.html",
        {
            "job": job,
            "rows": rows,
            "tables": tables(figures(rows)),
            "failing": [row for row in rows if not row.ok],
            "others": [j for j in others if not j.error],
        },
    )


@router.get("/evaluation/{job_id}/question/{position}", response_class=HTMLResponse)
async def question_page(request: Request, job_id: str, position: int, state: TrainerDep) -> Response:
    """One question of a run: why it failed, its expected facts marked in the answer, the expected passage
    and the sections found."""
    job = await _job(state, job_id, complete=True)
    if not 0 <= position < len(job.items):
        raise HTTPException(404, "Question inconnue dans cette évaluation.")
    row = verdict(position, job.items[position], job.results[position])
    gold = [
        {**span, "section": section_at(state.sections, span["source"], span["start_line"], span["end_line"])}
        for span in row.item["gold"]
    ]
    expected = row.item["gold"]
    retrieved = [
        {**hit, "expected": any(overlaps(hit["source"], hit["start_line"], hit["end_line"], g) for g in expected)}
        for hit in row.result["retrieved"][:5]
    ]
    return page(
        request,
        "trainers_question.html",
        {
            "job": job,
            "row": row,
            "pieces": mark_facts(row.result.get("answer", ""), row.found),
            "gold": gold,
            "retrieved": retrieved,
        },
    )


@router.get("/comparaison", response_class=HTMLResponse)
async def compare_page(request: Request, state: TrainerDep, avant: str = "", apres: str = "") -> Response:
    """Two runs side by side: their figures per group, then the questions whose result changed."""
    if not avant or not apres:
        raise HTTPException(400, "Choisissez deux évaluations à comparer.")
    before, after = await _job(state, avant, complete=True), await _job(state, apres, complete=True)
    rows_before, rows_after = verdicts(before.items, before.results), verdicts(after.items, after.results)
    by_group: dict[str, dict[str, Any]] = {}
    for side, rows in (("before", rows_before), ("after", rows_after)):
        for figure in figures(rows):
            by_group.setdefault(figure.group, {"label": figure.label})[side] = figure
    return page(
        request,
        "trainers_compare.html",
        {
            "before": before,
            "after": after,
            "passed": (sum(r.ok for r in rows_before), sum(r.ok for r in rows_after)),
            "groups": list(by_group.values()),
            "changes": changes(rows_before, rows_after),
        },
    )
