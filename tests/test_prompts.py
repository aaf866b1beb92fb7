"""Every template renders with a sample context; profiles and orientation data load."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from assistant.blocks import Block, BlockKind, Card, Cited
from assistant.citations import Citation
from prompts.render import PROMPTS_DIR, load_orientations, load_profile, other_places, render

CITATION = Citation(1, "d/s#0", "d/s", "Schéma", "Fiche n°1 – Titre", 37, "corpus/sources/x.txt", 10, 12, "Texte.")
SAMPLES = {
    "emergency.j2": {
        "audience": "professionnel",
        "recall": {"text": "Distinction IP / signalement.", "n": 1},
        "level": "immediate",
    },
    "danger.j2": {"audience": "professionnel", "label": "un enfant", "minor": False, "steps": [{"text": "S.", "n": 1}]},
    "answer.j2": {
        "blocks": [
            Block(BlockKind.EMERGENCY, "⚠️ 119"),
            Block(BlockKind.LEAD, items=(Cited("Fiche 07 « T » : U.", (1,)),)),
            Block(
                BlockKind.CARDS,
                cards=(
                    Card(
                        "Fiche 07 « T »",
                        "Loire, 2017-2021",
                        "Roanne",
                        "Famille",
                        "Action terminée",
                        True,
                        (Cited("V.", (2,)),),
                        (Cited("04 77 00 00 00", (3,), "coordonnées de 2009, à vérifier"),),
                    ),
                    Card("Fiche n°4", "Isère, 2020-2024", lines=(Cited("A.", (1,)), Cited("B.", (2,))), steps=True),
                ),
            ),
            Block(BlockKind.STEPS, title="Étapes :", items=(Cited("A.", (1,)), Cited("B."))),
            Block(BlockKind.CONTACTS, title="À qui s'adresser :", items=(Cited("Le service social."),)),
            Block(BlockKind.NOTICE, "Aucun numéro."),
        ]
    },
    "lead.j2": {"fiche": "Fiche 07 « T »", "group": "pilot", "value": "Le Département", "text": "T.", "status": ""},
    "sources.j2": {"citations": [CITATION]},
    "refusal.j2": {"audience": "famille", "orientation": "", "whom": "Le service social."},
    "injection.j2": {"audience": "professionnel", "emergency": ""},
    "helpline.j2": {"audience": "famille"},
    "llm_system.j2": {"profile": load_profile("famille")},
    "llm_user.j2": {"question": "Q ?", "passages": [CITATION]},
}


@pytest.mark.parametrize("name", sorted(p.name for p in PROMPTS_DIR.glob("*.j2")))
def test_every_template_renders(name: str) -> None:
    assert name in SAMPLES, f"add a sample context for {name}"
    text = render(name, **SAMPLES[name])
    assert text.strip()


def test_missing_variable_is_an_error() -> None:
    with pytest.raises(UndefinedError):
        render("refusal.j2", audience="famille")


def test_profiles_and_orientations_load() -> None:
    assert load_profile("famille").spell_out_acronyms and not load_profile("professionnel").spell_out_acronyms
    assert load_profile("famille").contact_first and not load_profile("professionnel").contact_first
    with pytest.raises(ValueError):
        load_profile("inconnu")
    assert {t.name for t in load_orientations()} >= {"allocations", "urgence médicale"}
    assert "lyon" in other_places()


def test_immediate_danger_puts_17_and_112_before_119() -> None:
    immediate = render("emergency.j2", audience="famille", recall=None, level="immediate")
    concern = render("emergency.j2", audience="famille", recall=None, level="concern")
    assert immediate.index("17") < immediate.index("119") and immediate.index("112") < immediate.index("119")
    assert concern.index("119") < concern.index("17")
