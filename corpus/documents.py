"""The corpus manifest and document loading: manifest entry -> raw text -> list of Sections.

Built-in documents live byte-identical in corpus/sources/ and are listed in corpus/manifest.json;
documents added with `repere ingest` are listed in a manifest of the same shape in the data folder.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from corpus.errors import IngestError
from corpus.model import Section
from corpus.parsers import generic, isere_schema, loire, oned, services_familles, sfsp

CORPUS_DIR = Path(__file__).resolve().parent
REPO_ROOT = CORPUS_DIR.parent
BUILTIN_MANIFEST = CORPUS_DIR / "manifest.json"
SUPPORTED_SUFFIXES = (".txt", ".md", ".pdf")


class Document(BaseModel):
    """One corpus document as described in a manifest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    path: str  # raw file, relative to the manifest's folder
    title: str
    issuer: str
    departement: str
    period: str
    kind: str  # "schéma" | "fiches" | "document"
    parser: str  # which family parser reads it
    sha256: str
    territory: str | None = None
    text_path: str | None = None  # extracted text for PDFs (line numbers refer to it)
    pages: list[int] | None = None  # page of each line of text_path
    # Documents added with `repere ingest` start unreviewed (False) until a trainer or an administrator
    # marks them reviewed (`repere review`); the built-in corpus is reviewed (None is read as reviewed
    # only for the built-in manifest, see `is_reviewed`).
    reviewed: bool | None = None

    def is_reviewed(self) -> bool:
        return self.reviewed is not False

    def departement_name(self) -> str:
        """« Isère (38) » -> « Isère »."""
        return self.departement.split("(")[0].strip()

    def years(self) -> tuple[int, int] | None:
        """The period « 2017-2021 » as (2017, 2021); None when the document gives none."""
        found = [int(y) for y in re.findall(r"\b(?:19|20)\d\d\b", self.period)]
        return (min(found), max(found)) if found else None


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_manifest(path: Path) -> list[Document]:
    if not path.is_file():
        return []
    return [Document.model_validate(entry) for entry in json.loads(path.read_text(encoding="utf-8"))]


def save_manifest(path: Path, documents: list[Document]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = [doc.model_dump(exclude_none=True) for doc in documents]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def source_label(manifest_dir: Path, relative: str) -> str:
    """How a file is named in citations and eval gold: relative to the repository when inside it."""
    path = (manifest_dir / relative).resolve()
    try:
        return path.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def read_text(path: Path) -> str:
    """Text of a .txt/.md file; raises IngestError for empty, binary or non-UTF-8 content."""
    data = path.read_bytes()
    if not data.strip():
        raise IngestError(f"Le fichier {path.name} est vide.")
    if b"\x00" in data:
        raise IngestError(
            f"Le fichier {path.name} est binaire : seuls les textes (.txt, .md) et les PDF texte sont acceptés."
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IngestError(f"Le fichier {path.name} n'est pas un texte UTF-8 lisible.") from exc


def pdf_text(path: Path) -> tuple[str, list[int]]:
    """Text of a text PDF and the page of each of its lines."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path)
        lines: list[str] = []
        pages: list[int] = []
        for number, page in enumerate(reader.pages, start=1):
            for line in (page.extract_text() or "").splitlines():
                lines.append(line)
                pages.append(number)
    except (PyPdfError, ValueError, OSError) as exc:
        raise IngestError(f"Le PDF {path.name} est illisible ou endommagé.") from exc
    if not "".join(lines).strip():
        raise IngestError(f"Le PDF {path.name} ne contient pas de texte (document scanné ?).")
    return "\n".join(lines) + "\n", pages


Parser = Callable[[Document, str, str], list[Section]]

PARSERS: dict[str, Parser] = {
    "loire": lambda doc, text, source: loire.parse(text, doc.id, source),
    "isere_schema": lambda doc, text, source: isere_schema.parse(text, doc.id, source),
    "services_familles": lambda doc, text, source: services_familles.parse(text, doc.id, source),
    "oned": lambda doc, text, source: oned.parse(text, doc.id, source, doc.territory),
    "sfsp": lambda doc, text, source: sfsp.parse(text, doc.id, source, doc.territory),
    "generic": lambda doc, text, source: generic.parse(text, doc.id, source, doc.title, doc.territory, doc.pages),
}


def parse_document(doc: Document, manifest_dir: Path) -> list[Section]:
    """Sections of one document (PDFs are parsed from their extracted text)."""
    relative = doc.text_path or doc.path
    text = read_text(manifest_dir / relative)
    return PARSERS[doc.parser](doc, text, source_label(manifest_dir, relative))


def builtin_documents() -> list[Document]:
    return load_manifest(BUILTIN_MANIFEST)


def all_sections(extra_manifest: Path | None = None) -> list[Section]:
    """Sections of the built-in corpus plus the documents added in `extra_manifest`."""
    sections: list[Section] = []
    for doc in builtin_documents():
        sections.extend(parse_document(doc, CORPUS_DIR))
    if extra_manifest is not None:
        for doc in load_manifest(extra_manifest):
            sections.extend(parse_document(doc, extra_manifest.parent))
    return sections
