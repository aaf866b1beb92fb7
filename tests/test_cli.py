"""The `repere` command end to end, in subprocesses, on a temp data folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.index import IndexStats
from retrieval.retrieve import Retriever

from .conftest import copy_index


def repere(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from repere.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def text_pdf(lines: list[str]) -> bytes:
    """A minimal one-page text PDF (Helvetica, WinAnsi), built by hand so the test needs no PDF library."""
    content = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    stream = content.encode("cp1252")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture
def indexed(cli_env: dict[str, str], built: tuple[Retriever, IndexStats], data_dir: Path) -> dict[str, str]:
    """A data folder of its own holding the session's index (built once, copied)."""
    copy_index(data_dir, Path(cli_env["REPERE_DATA_DIR"]))
    return cli_env


def test_index_builds_then_reuses(cli_env: dict[str, str]) -> None:
    first = repere(cli_env, "index")
    assert first.returncode == 0, first.stderr
    assert "index construit : 196 sections" in first.stdout
    again = repere(cli_env, "index")
    assert again.returncode == 0 and "index existant réutilisé" in again.stdout


def test_search_json_and_text(indexed: dict[str, str]) -> None:
    result = repere(indexed, "search", "c'est quoi la CRIP ?", "--json", "-k", "3")
    hits = json.loads(result.stdout)
    assert len(hits) == 3
    assert {"section_id", "source", "start_line", "end_line", "score", "passages", "page"} <= set(hits[0])
    text = repere(indexed, "search", "groupe de parole pour parents a Firminy", "--audience", "famille")
    assert text.returncode == 0 and "1. " in text.stdout and "corpus/sources/" in text.stdout
    empty = repere(indexed, "search", "   ")
    assert empty.returncode != 0 and "La question est vide" in empty.stderr


def test_ingest_markdown_is_searchable_and_idempotent(indexed: dict[str, str], tmp_path: Path) -> None:
    doc = tmp_path / "ram_vizille.md"
    doc.write_text(
        "# Relais petite enfance de Vizille\n\nLe relais accompagne les assistantes maternelles "
        "du Sud Grésivaudan zorglub.\n\n## Horaires\n\nMardi de 9 h à 12 h.\n",
        encoding="utf-8",
    )
    first = repere(indexed, "ingest", str(doc))
    assert first.returncode == 0, first.stderr
    assert "ajouté (2 sections)" in first.stdout
    hits = json.loads(repere(indexed, "search", "zorglub", "--json", "-k", "1").stdout)
    assert hits[0]["doc_id"] == "ajout-ram-vizille" and hits[0]["start_line"] == 1
    second = repere(indexed, "ingest", str(doc))
    assert second.returncode == 0 and "rien à faire" in second.stdout


def test_ingest_text_pdf(indexed: dict[str, str], tmp_path: Path) -> None:
    pdf = tmp_path / "fiche.pdf"
    pdf.write_bytes(text_pdf(["FICHE ACTION LUDOTHEQUE", "Une ludotheque itinerante qwertzuiop pour les familles."]))
    result = repere(indexed, "ingest", str(pdf))
    assert result.returncode == 0, result.stderr
    hit = json.loads(repere(indexed, "search", "qwertzuiop", "--json", "-k", "1").stdout)[0]
    assert hit["doc_id"] == "ajout-fiche" and hit["page"] == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.docx", b"PK\x03\x04...", "Type de fichier non pris en charge"),
        ("vide.txt", b"  \n\n", "est vide"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "est binaire"),
        ("casse.pdf", b"%PDF-1.4 ceci n'est pas un PDF", "PDF"),
    ],
)
def test_bad_input_is_rejected_and_index_untouched(
    indexed: dict[str, str], tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    before = repere(indexed, "search", "accueil de jour", "--json", "-k", "10").stdout
    bad = tmp_path / name
    bad.write_bytes(content)
    result = repere(indexed, "ingest", str(bad))
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert repere(indexed, "search", "accueil de jour", "--json", "-k", "10").stdout == before
    manifest = Path(indexed["REPERE_DATA_DIR"]) / "sources" / "manifest.json"
    assert not manifest.exists()


def test_reingesting_a_changed_file_replaces_it(indexed: dict[str, str], tmp_path: Path) -> None:
    doc = tmp_path / "note.txt"
    doc.write_text("NOTE DE SERVICE\n\nPremière version xylophonevert.\n", encoding="utf-8")
    assert repere(indexed, "ingest", str(doc)).returncode == 0
    doc.write_text("NOTE DE SERVICE\n\nSeconde version tambourinbleu.\n", encoding="utf-8")
    result = repere(indexed, "ingest", str(doc))
    assert result.returncode == 0 and "ajouté" in result.stdout
    new = json.loads(repere(indexed, "search", "tambourinbleu", "--json", "-k", "1").stdout)[0]
    assert new["doc_id"] == "ajout-note"
    old = json.loads(repere(indexed, "search", "xylophonevert", "--json", "-k", "3").stdout)
    assert all("xylophonevert" not in p["text"] for hit in old for p in hit["passages"])
    manifest = json.loads((Path(indexed["REPERE_DATA_DIR"]) / "sources" / "manifest.json").read_text())
    assert [d["id"] for d in manifest] == ["ajout-note"]
