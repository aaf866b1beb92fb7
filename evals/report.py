"""HTML report of an eval run: metrics tables, then every in-scope item, misses first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from evals.run import EvalRun

TEMPLATES = Path(__file__).resolve().parent / "templates"


def render_report(run: EvalRun, title: str = "Évaluation de la recherche") -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    rows: list[dict[str, Any]] = []
    for item, result, rank in zip(run.items, run.results, run.section_ranks, strict=True):
        rows.append({"item": item, "result": result, "rank": rank if item["gold"] else 0})
    rows.sort(key=lambda r: (r["rank"] is not None and r["rank"] <= 5, r["rank"] or 99))
    return env.get_template("report.html").render(
        title=title,
        summary=run.summary,
        passage_summary=run.passage_summary,
        answer_summary=run.answer_summary,
        rows=rows,
    )


def write_report(run: EvalRun, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(run), encoding="utf-8")
