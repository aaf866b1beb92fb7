"""Parsers of the five document families: counts, fields, provenance, cleaning."""

from __future__ import annotations

import json
from collections import Counter

from corpus.clean import undouble
from corpus.documents import BUILTIN_MANIFEST, CORPUS_DIR, builtin_documents, sha256_file
from corpus.model import Section

from .conftest import ROOT


def by_doc(sections: list[Section], doc_id: str) -> list[Section]:
    return [s for s in sections if s.doc_id == doc_id]


def raw(section: Section) -> list[str]:
    return (ROOT / section.source).read_text(encoding="utf-8").splitlines()


def test_sources_are_byte_identical_to_the_manifest() -> None:
    docs = builtin_documents()
    assert len(docs) == 5
    for doc in docs:
        assert sha256_file(CORPUS_DIR / doc.path) == doc.sha256
    assert len({d.id for d in docs}) == 5
    assert all(entry["kind"] in {"schéma", "fiches"} for entry in json.loads(BUILTIN_MANIFEST.read_text()))


def test_counts_per_family(sections: list[Section]) -> None:
    kinds = Counter((s.doc_id, s.kind) for s in sections)
    assert kinds[("loire-fiches-2017", "fiche")] == 107
    assert kinds[("isere-schema-2020", "fiche")] == 32
    assert kinds[("isere-schema-2020", "objectif")] == 5
    assert kinds[("isere-schema-2020", "partie")] == 4  # editorial + 3 introduction parts
    assert kinds[("oned-la-clef", "fiche")] == 1
    assert kinds[("sfsp-luneville-81", "fiche")] == 1
    numbers = [s.number for s in by_doc(sections, "loire-fiches-2017")]
    assert numbers == [f"{n:02d}" for n in range(1, 108)]
    assert len({s.section_id for s in sections}) == len(sections)


def test_an_empty_loire_status_label_is_not_read_as_a_status(sections: list[Section]) -> None:
    """Fiche 41 writes « Suivi de l'action » and leaves it empty: its status is empty, not « de l'action »."""
    fiche = next(s for s in by_doc(sections, "loire-fiches-2017") if s.number == "41")
    status = next(f for f in fiche.fields if f.label == "Suivi")
    assert status.lines == ()
    others = [f for s in by_doc(sections, "loire-fiches-2017") for f in s.fields if f.label == "Suivi" and f.lines]
    assert len(others) > 80  # the other fiches keep their « Suivi Action … » value


def test_loire_fiche_fields_and_provenance(sections: list[Section]) -> None:
    fiche = next(s for s in by_doc(sections, "loire-fiches-2017") if s.number == "15")
    assert fiche.title == "Collectif VACANCES FAMILLE FIRMINY"
    assert fiche.territory == "Gier Ondaine Pilat"
    assert fiche.public is not None and "jeune majeur" in fiche.public
    labels = [f.label for f in fiche.fields]
    assert labels[:5] == ["Objectifs", "Territoire", "Type d'action", "Suivi", "Public visé"]
    lines = raw(fiche)
    assert lines[fiche.start_line - 1].strip() == "15. Collectif VACANCES FAMILLE FIRMINY"
    partners = next(f for f in fiche.fields if f.label == "Partenaires")
    assert "CAF, Associations" in lines[partners.lines[0].number - 1]
    # Every kept line points at a raw line that contains its words.
    for fld in fiche.fields:
        for line in fld.lines:
            assert line.text.split()[-1].strip("-") in lines[line.number - 1]


def test_repeated_labels_after_page_breaks_are_merged(sections: list[Section]) -> None:
    for fiche in by_doc(sections, "loire-fiches-2017"):
        labels = [f.label for f in fiche.fields]
        assert len(labels) == len(set(labels)), fiche.number


def test_isere_fiches_have_pages_titles_and_fixed_subheadings(sections: list[Section]) -> None:
    fiches = [s for s in by_doc(sections, "isere-schema-2020") if s.kind == "fiche"]
    assert [s.page for s in fiches][:3] == [37, 39, 41]
    assert fiches[-1].page == 97
    last = fiches[-1]
    assert last.title == "Harmoniser les pratiques de traitement des informations préoccupantes"
    assert [f.label for f in last.fields] == [
        "Les objectifs",
        "Les modalités de mise en œuvre",
        "Le pilote",
        "Les acteurs associés",
        "Le calendrier",
        "Les indicateurs d'évaluation",
    ]
    assert "Cellule de Recueil des Informations Préoccupantes" in last.fields[2].text
    assert last.breadcrumb and last.breadcrumb[0].startswith("Objectif stratégique n°5")


def test_tables_of_contents_are_not_sections(sections: list[Section]) -> None:
    isere = [s for s in by_doc(sections, "isere-schema-2020") if s.title != "Éditorial"]
    assert min(s.start_line for s in isere) > 190  # the Sommaire (lines 64-190) lists every heading again
    editorial = next(s for s in by_doc(sections, "isere-schema-2020") if s.title == "Éditorial")
    assert editorial.end_line < 64 and editorial.page == 3
    loire = by_doc(sections, "loire-fiches-2017")
    assert min(s.start_line for s in loire) > 255  # the Sommaire des actions ends at line 256


def test_cleaning_drops_headers_bullets_and_blank_lines(sections: list[Section]) -> None:
    text = "\n".join(s.text for s in sections)
    assert "Département de l’Isère - 2020-2024" not in text  # running page header
    assert "\nÁ " not in text and not any(
        line.text.startswith("Á") for s in sections for f in s.fields for line in f.lines
    )
    assert "Oned – 63 Bis Boulevard" not in text  # ONED page footer
    assert all(line.text.strip() for s in sections for f in s.fields for line in f.lines)


def test_checkbox_tables_keep_checked_answers_only(sections: list[Section]) -> None:
    fiche = by_doc(sections, "sfsp-luneville-81")[0]
    assert fiche.number == "81"
    sector = next(f for f in fiche.fields if f.label.startswith("1) Quel est votre secteur"))
    assert sector.text.splitlines() == [
        "- Petite enfance",
        "- Education",
        "- Autre, précisez : Soutien à la parentalité",
    ]
    assert "<input" not in fiche.text and "Périnatalité" not in sector.text
    # a table of boxes whose rows have no labels after their boxes: neither its column names nor its boxes are
    # read, so the paragraph under it opens its own line (not « Familles, parents, enfants Professionnels… »)
    participation = next(f for f in fiche.fields if f.label.startswith("18) Le public"))
    assert participation.text.startswith("Depuis 2013, des parents"), participation.text[:80]
    assert "Professionnels (bénéficiaires)" not in fiche.text


def test_numbered_option_lists_keep_the_options_in_bold_only(sections: list[Section]) -> None:
    """The questionnaire's export lost the boxes of its numbered option lists; the options in bold are the
    answers. The others were never chosen, and the form's instructions are no answer either."""
    fiche = by_doc(sections, "sfsp-luneville-81")[0]
    evaluation = next(f for f in fiche.fields if f.label.startswith("22) Une évaluation"))
    assert evaluation.text.splitlines() == ["- Finalisée"]
    assert "1 National" not in fiche.text and "Structure mobile/itinérante" not in fiche.text
    assert "Relais assistantes maternelles (RAM)" not in fiche.text  # one of the twenty possible « porteurs »
    assert "Vous pouvez joindre" not in fiche.text and not any(f.label.endswith("réponse") for f in fiche.fields)
    assert "117 parents/an" in fiche.text  # an answer that begins with a number is kept


def test_oned_fiche_fields(sections: list[Section]) -> None:
    fiche = by_doc(sections, "oned-la-clef")[0]
    contact = next(f for f in fiche.fields if f.label == "Personne à contacter")
    assert "Tél. : 04.74.33.37.18" in contact.text
    assert fiche.territory == "Isère"


def test_services_familles_parts_and_action_plan(sections: list[Section]) -> None:
    titles = [s.title for s in by_doc(sections, "isere-sdsf-2016")]
    assert any(t.startswith("5.1.6 – Orientation stratégique n°6 : Améliorer l’information") for t in titles)
    assert any(t.startswith("Plan d'actions – orientation stratégique n°1") for t in titles)
    assert "Annexe 1 – Glossaire" in titles


def test_services_familles_instances_are_one_section_each_with_their_cells_apart(sections: list[Section]) -> None:
    rows = {s.title: s for s in by_doc(sections, "isere-sdsf-2016") if s.kind == "tableau"}
    # each instance of annex 2 under its name (over « Missions Composition Fonctionnement »), whether the name
    # stands a blank line above the header, right over it, or after a page break
    assert len(rows) == 10
    for name in (
        "Commission départementale d’accueil du jeune enfant (Cdaje)",
        "Programme de réussite éducative",
        "Comité de pilotage de l’aide à domicile",
        "Commission de financement des actions du Réseau d’écoute, d’appui et d’accompagnement aux parents (Réaap)",
    ):
        assert name in rows, sorted(rows)
    pre = rows["Programme de réussite éducative"]
    cells = [f.text.replace("\n", " ") for f in pre.fields]
    assert cells[0].startswith("Favoriser la réussite éducative des enfants de 2 à 16 ans")
    assert cells[0].endswith("parcours individualisés")  # the mission cell alone, not run into its partners
    assert pre.breadcrumb and pre.breadcrumb[0].startswith("Annexe 2 – Instances")
    # a group heading (« FAMILLE – ÉCOLE ET CADRE DE VIE ») ends the row above it, and is in no cell
    observatory = rows["Observatoire de la vie familiale"]
    assert observatory.fields[-1].text.replace("\n", " ") == "3 Comités techniques par an"
    lines = raw(pre)
    for fld in pre.fields:
        for line in fld.lines:  # provenance: every cell line is the source's line
            assert line.text.split()[0] in lines[line.number - 1]


def test_a_label_the_pdf_said_twice_is_said_once(sections: list[Section]) -> None:
    """« Service gérant l'action gérant l'action » (La Clef's form) is the label « Service gérant l'action »."""
    labels = {f.label for s in sections if s.doc_id == "oned-la-clef" for f in s.fields}
    assert "Service gérant l’action" in labels and not any("gérant l’action gérant" in label for label in labels)
    assert undouble("le comité de pilotage et le comité technique") == "le comité de pilotage et le comité technique"
    assert undouble("nous nous sommes réunis") == "nous nous sommes réunis"
