"""Acronyms the documents spell out in their own text are learned, and only when the letters fit."""

from __future__ import annotations

from retrieval.analyze import build_analyzer
from retrieval.definitions import defined_acronyms


def test_an_expansion_before_or_after_the_acronym_is_learned() -> None:
    found = defined_acronyms(
        [
            "La mise en œuvre du projet pour et avec la famille (PPAF) est un support commun.",
            "Le GED (grille d’évaluation du développement) est un outil qui sert à évaluer.",
            "la Direction de l’Éducation, de la Jeunesse et du Sport (DEJS) et les territoires",
            "du Service action sociale de polyvalence, Direction des Solidarités (DSO), ",
        ],
        titles=[
            "80. Mise en place du projet UGO – logiciel urgence guide orientation",
            "74. La situation Périnatale à risque SPAR",
        ],
    )
    assert found == {
        "PPAF": ["projet pour et avec la famille"],
        "GED": ["grille d’évaluation du développement"],
        "DEJS": ["Direction de l’Éducation, de la Jeunesse et du Sport"],
        "DSO": ["Direction des Solidarités"],
        "UGO": ["logiciel urgence guide orientation"],
        "SPAR": ["situation Périnatale à risque"],
    }


def test_words_that_do_not_spell_the_acronym_are_not_its_expansion() -> None:
    assert defined_acronyms(
        [
            "Ainsi, le logiciel UGO (logiciel libre mis en place par les services de l’Essonne) est identifié.",
            "les partenaires de la ville (CCAS) et du Département",  # C-C-A-S is not « partenaires de la ville »
            "une réunion de l'équipe (voir annexe) avec la PMI (IP)",
            "un accueil de jour (AJ)",  # « de jour »: an expansion does not start with a little word
        ]
    ) == {"AJ": ["accueil de jour"]}


def test_a_learned_acronym_expands_questions_both_ways() -> None:
    analyzer = build_analyzer(defined={"PPAF": ["projet pour et avec la famille"]})
    assert analyzer.query("c quoi le ppaf ?").acronyms == ("ppaf",)
    assert "ppaf" in analyzer.query("le projet pour et avec la famille, je dois le signer ?").expansions
    # an acronym the lexicon knows keeps its own expansions
    assert build_analyzer(defined={"CRIP": ["comité rural"]}).acronyms["crip"] != ["comité rural"]


def test_a_learned_acronym_that_is_an_ordinary_word_needs_capitals() -> None:
    analyzer = build_analyzer(defined={"AMI": ["accueil mères isolées"]}, ordinary_words={"ami"})
    assert analyzer.query("mon ami m'a parlé d'un accueil").acronyms == ()
    assert analyzer.query("c'est quoi l'AMI ?").acronyms == ("ami",)
