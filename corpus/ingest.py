"""Adding a document: a .txt/.md/.pdf file -> a copy in the data folder + a manifest entry.

Idempotent: a file whose content is already in the corpus changes nothing. Every check runs before
anything is written, so a rejected file leaves the corpus and the index as they were.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from corpus.clean import slugify
from corpus.documents import (
    SUPPORTED_SUFFIXES,
    Document,
    builtin_documents,
    load_manifest,
    parse_document,
    pdf_text,
    read_text,
    save_manifest,
    sha256_file,
)
from corpus.errors import IngestError


@dataclass(frozen=True, slots=True)
class IngestResult:
    document: Document
    changed: bool
    sections: int


def ingest_file(path: Path, data_dir: Path) -> IngestResult:
    """Copy a document into data_dir/sources and list it in data_dir/sources/manifest.json."""
    if not path.is_file():
        raise IngestError(f"Fichier introuvable : {path}")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(
            f"Type de fichier non pris en charge : « {suffix or path.name} » (acceptés : .txt, .md, .pdf)."
        )
    digest = sha256_file(path)
    sources = data_dir / "sources"
    manifest_path = sources / "manifest.json"
    documents = load_manifest(manifest_path)
    known = [d for d in [*builtin_documents(), *documents] if d.sha256 == digest]
    if known:
        return IngestResult(known[0], changed=False, sections=0)

    doc_id = "ajout-" + slugify(path.stem, 40)
    title = path.stem.replace("_", " ")
    # The same file name again is a new version of that document (it replaces it); another name that gives
    # the same identifier (a/rapport.md, then b/Rapport.md or rapport.pdf) must not silently replace it.
    taken = [d for d in documents if d.id == doc_id and (d.title != title or Path(d.path).suffix != suffix)]
    if taken:
        raise IngestError(
            f"Un autre document ajouté porte déjà le nom « {doc_id} » (« {taken[0].title} ») : "
            "renommez le fichier avant de l'ajouter, rien n'a été modifié."
        )
    stored = f"{doc_id}{suffix}"
    text_path, pages = None, None
    if suffix == ".pdf":
        text, pages = pdf_text(path)
        text_path = f"{stored}.txt"
    else:
        text = read_text(path)
    document = Document(
        id=doc_id,
        path=stored,
        title=title,
        issuer="",
        departement="",
        period="",
        kind="document",
        parser="generic",
        sha256=digest,
        text_path=text_path,
        pages=pages,
        reviewed=False,
    )
    # Parse from a staging folder first: a document that yields no section is rejected untouched.
    staging = sources / ".staging"
    staging.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, staging / stored)
    if text_path:
        (staging / text_path).write_text(text, encoding="utf-8")
    try:
        sections = parse_document(document, staging)
        if not sections:
            raise IngestError(f"Aucun texte exploitable dans {path.name}.")
        for name in filter(None, (stored, text_path)):
            (staging / name).replace(sources / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    save_manifest(manifest_path, [d for d in documents if d.id != doc_id] + [document])
    return IngestResult(document, changed=True, sections=len(sections))


def set_reviewed(doc_id: str, data_dir: Path, reviewed: bool = True) -> Document:
    """Mark an added document reviewed (its contact details may then be quoted) or unreviewed again."""
    manifest_path = data_dir / "sources" / "manifest.json"
    documents = load_manifest(manifest_path)
    found = [d for d in documents if d.id == doc_id]
    if not found:
        known = ", ".join(d.id for d in documents) or "aucun"
        raise IngestError(f"Document ajouté inconnu : « {doc_id} » (documents ajoutés : {known}).")
    updated = found[0].model_copy(update={"reviewed": reviewed})
    save_manifest(manifest_path, [updated if d.id == doc_id else d for d in documents])
    return updated
