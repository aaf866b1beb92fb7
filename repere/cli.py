"""The `repere` command: index, ingest, search, eval; bare `repere` runs the main job."""

from __future__ import annotations

import errno
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import click

from corpus.errors import IngestError
from repere.service import build_engine, build_retriever, engine_with_documents
from repere.settings import Settings, get_settings
from retrieval.index import IndexStats, IndexUnavailable, index_lock
from retrieval.retrieve import Retriever


def _index_summary(stats: IndexStats, seconds: float) -> str:
    state = "index existant réutilisé" if stats.reused else "index construit"
    return f"{state} : {stats.sections} sections, {stats.chunks} passages ({stats.collection}) en {seconds:.1f} s"


def _waiting() -> None:
    click.echo("Un ajout de document ou une indexation est déjà en cours : attente de sa fin…", err=True)


def _retriever(settings: Settings) -> tuple[Retriever, IndexStats]:
    """The index for a one-off command; a clear message when the Chroma server does not answer."""
    try:
        with _writable(settings):
            return build_retriever(settings, waiting=_waiting)
    except IndexUnavailable as exc:
        raise click.ClickException(f"base Chroma injoignable ({settings.chroma_url}) : {exc}") from exc


def _read_only(error: BaseException) -> bool:
    """A write refused by the file system (read-only folder or mount, no permission), however wrapped."""
    while error is not None:
        if isinstance(error, OSError) and error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return True
        if "readonly" in str(error).lower() or "read-only" in str(error).lower():
            return True
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return False


@contextmanager
def _writable(settings: Settings) -> Iterator[None]:
    """A read-only data folder is a French message, never a traceback."""
    try:
        yield
    except click.ClickException:
        raise
    except Exception as exc:
        if not _read_only(exc):
            raise
        raise click.ClickException(
            f"le dossier de données {settings.data_dir} est en lecture seule : rien n'a pu y être écrit "
            "(vérifiez ses droits ou REPERE_DATA_DIR)."
        ) from exc


@click.group(invoke_without_command=True)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Repère : assistant pour la protection de l'enfance, fondé sur les schémas et fiches action."""
    if ctx.invoked_subcommand is None:  # the main job: build the index if needed, then serve the chat
        ctx.invoke(serve)


@main.command()
@click.option("--rebuild", is_flag=True, help="Reconstruire l'index même si le corpus n'a pas changé.")
def index(rebuild: bool) -> None:
    """Construit l'index (au premier lancement ou si le corpus a changé)."""
    start = time.perf_counter()

    def progress(done: int, total: int) -> None:
        click.echo(f"passages indexés : {done}/{total}")

    settings = get_settings()
    try:
        with _writable(settings):
            _, stats = build_retriever(settings, rebuild, progress, waiting=_waiting)
    except IndexUnavailable as exc:
        raise click.ClickException(f"base Chroma injoignable, index inchangé ({exc})") from exc
    click.echo(_index_summary(stats, time.perf_counter() - start))


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
def ingest(path: Path) -> None:
    """Ajoute un document (.txt, .md ou .pdf texte) au corpus et met l'index à jour."""
    from corpus.ingest import ingest_file

    settings = get_settings()
    # The document and its index under one lock: concurrent ingests wait for each other, and a run that was
    # killed before its index was built is completed by the next one (the index follows the manifest).
    with _writable(settings), index_lock(settings.data_dir, _waiting):
        try:
            result = ingest_file(path, settings.data_dir)
        except IngestError as exc:
            raise click.ClickException(str(exc)) from exc
        start = time.perf_counter()
        _, stats = _retriever(settings)
    summary = _index_summary(stats, time.perf_counter() - start)
    if result.changed:
        click.echo(f"{path.name} ajouté ({result.sections} sections). " + summary)
    elif stats.reused:
        click.echo(f"{path.name} : déjà dans le corpus, inchangé — rien à faire.")
    else:
        click.echo(f"{path.name} : déjà dans le corpus ; son indexation interrompue est terminée. " + summary)


@main.command()
@click.argument("doc_id")
@click.option("--non", "undo", is_flag=True, help="Repasser le document en « non vérifié ».")
def review(doc_id: str, undo: bool) -> None:
    """Marque un document ajouté comme vérifié : ses coordonnées pourront alors être citées."""
    from repere.service import review_document

    settings = get_settings()
    with _writable(settings), index_lock(settings.data_dir, _waiting):
        try:
            document, stats = review_document(settings, doc_id, reviewed=not undo)
        except IngestError as exc:
            raise click.ClickException(str(exc)) from exc
        except IndexUnavailable as exc:
            raise click.ClickException(f"base Chroma injoignable ({settings.chroma_url}) : {exc}") from exc
    state = "vérifié" if document.is_reviewed() else "non vérifié"
    click.echo(f"{document.id} : {state}. " + _index_summary(stats, 0.0))


@main.command()
@click.argument("question")
@click.option(
    "--audience", type=click.Choice(["professionnel", "famille"]), default=None, help="Public qui pose la question."
)
@click.option("-k", "--top", default=5, show_default=True, help="Nombre de sections affichées.")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON.")
def search(question: str, audience: str | None, top: int, as_json: bool) -> None:
    """Affiche les sections (fiches) les plus pertinentes pour une question, avec leur provenance."""
    if not question.strip():
        raise click.ClickException("La question est vide.")
    retriever, _ = _retriever(get_settings())
    hits = retriever.search(question, k=top, audience=audience)
    if as_json:
        click.echo(json.dumps([asdict(h) for h in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        click.echo("Aucun passage trouvé.")
    for rank, hit in enumerate(hits, start=1):
        where = f"{hit.source} l.{hit.start_line}-{hit.end_line}" + (f", p. {hit.page}" if hit.page else "")
        extra = " ; ".join(
            x
            for x in (
                f"territoire : {hit.territory}" if hit.territory else "",
                f"public : {hit.public}" if hit.public else "",
            )
            if x
        )
        click.echo(f"{rank}. {hit.title}  [score {hit.score:.3f}]")
        click.echo(f"   {where}" + (f" — {extra}" if extra else ""))
        best = hit.passages[0]
        snippet = " ".join(best.text.split())[:240]
        click.echo(f"   « {snippet} » (l.{best.start_line}-{best.end_line})")


@main.command()
@click.argument("question")
@click.option(
    "--audience",
    type=click.Choice(["professionnel", "famille"]),
    default="famille",
    show_default=True,
    help="Public qui pose la question (change la forme de la réponse).",
)
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON (réponse, citations, refus, urgence).")
def ask(question: str, audience: str, as_json: bool) -> None:
    """Répond à une question à partir des documents, avec les sources citées."""
    from assistant.intake import AskError

    settings = get_settings()
    retriever, _ = _retriever(settings)
    try:
        answer = build_engine(settings, retriever).ask(question, audience)
    except AskError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(asdict(answer), ensure_ascii=False, indent=2))
    else:
        click.echo(answer.text)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d'écoute.")
@click.option("--port", default=8000, show_default=True, help="Port d'écoute.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Nombre de processus serveurs (par défaut REPERE_WORKERS, sinon un par cœur, 4 au plus).",
)
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int | None = None) -> None:
    """Lance le chat web (et les API JSON et compatible OpenAI) ; construit l'index s'il n'existe pas."""
    import uvicorn

    from web.server import LOG_CONFIG, http_protocol
    from web.storage import StorageUnavailable, open_database

    settings = get_settings()
    if settings.rate_limit_storage is None:  # one count per client, whatever worker answers
        counters = (settings.data_dir / "ratelimit.sqlite3").resolve()
        os.environ["REPERE_RATE_LIMIT_STORAGE"] = f"repere-sqlite://{counters}"
        get_settings.cache_clear()
        settings = get_settings()
    workers = workers or settings.workers
    try:  # the tables are created once here, before the workers start
        open_database(settings).dispose()
    except StorageUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    # No index check here: each worker builds the index if the corpus changed (one at a time, under the index
    # lock; the first one logs its progress) or loads it, so the workers start at once (ready ~2 s sooner).
    click.echo(
        f"Repère démarre sur http://{host}:{port}/ (API : http://{host}:{port}/docs) — Ctrl+C pour arrêter. "
        f"{workers} processus serveur{'s' if workers > 1 else ''} : chacun charge l'index (ou le construit "
        "d'abord s'il manque), puis annonce qu'il est prêt."
    )
    uvicorn.run(
        "repere.serve:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=LOG_CONFIG,  # warnings, errors and worker restarts, in French where they are ours
        access_log=False,
        http=http_protocol(),  # uvicorn's own 400s in French
        # A worker loading the index on a busy machine may not answer uvicorn's health check for a while; the
        # default 5 s killed it mid-load, again and again (the service never became ready).
        timeout_worker_healthcheck=settings.worker_healthcheck_seconds,
        # Behind a trusted reverse proxy, the client address (rate limit) and scheme are the forwarded ones;
        # with none configured, X-Forwarded-For is ignored (it would let a client pick its own address).
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
    )


@main.command(name="eval")
@click.option(
    "--set",
    "eval_set",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Fichier JSONL du jeu d'évaluation.",
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Fichier JSONL des résultats."
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Rapport HTML (par défaut : à côté de --out).",
)
@click.option("--check-floors", is_flag=True, help="Code de sortie 1 si les seuils de qualité ne sont pas atteints.")
def eval_command(eval_set: Path, out: Path, report: Path | None, check_floors: bool) -> None:
    """Évalue la recherche sur un jeu de questions et écrit résultats, scores et rapport HTML."""
    from evals.check import check_file
    from evals.metrics import floor_failures
    from evals.report import write_report
    from evals.run import format_summary, load_items, run_eval, write_results

    problems = check_file(eval_set)
    if problems:
        raise click.ClickException("Jeu d'évaluation invalide :\n" + "\n".join(problems[:20]))
    from evals.answers import answer_floor_failures, format_answer_summary

    settings = get_settings()
    retriever, _ = _retriever(settings)
    with tempfile.TemporaryDirectory(prefix="repere-eval-") as workdir:
        run = run_eval(
            retriever,
            load_items(eval_set),
            engine=build_engine(settings, retriever),
            with_documents=lambda documents: engine_with_documents(settings, documents, Path(workdir)),
        )
    write_results(run, out)
    report = report or out.with_suffix(".html")
    write_report(run, report)
    click.echo(format_summary(run.summary, "Sections (fiche) :"))
    click.echo()
    click.echo(format_summary({k: v for k, v in run.passage_summary.items() if k == "overall"}, "Meilleur passage :"))
    latencies = sorted(r["latency_ms"] for r in run.results)
    p50, p95 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.95)]
    click.echo(f"\nlatence search : p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    click.echo(f"résultats : {out}   rapport : {report}")
    assert run.answer_summary is not None
    click.echo("\nRéponses :")
    click.echo(format_answer_summary(run.answer_summary))
    answer_latencies = sorted(r["answer_latency_ms"] for r in run.results)
    a50, a95 = answer_latencies[len(answer_latencies) // 2], answer_latencies[int(len(answer_latencies) * 0.95)]
    click.echo(f"latence ask : p50 {a50:.1f} ms, p95 {a95:.1f} ms")
    failures = floor_failures(run.summary) + answer_floor_failures(run.answer_summary)
    if failures:
        click.echo("Seuils non atteints :\n  " + "\n  ".join(failures), err=True)
        if check_floors:
            sys.exit(1)


if __name__ == "__main__":
    main()
