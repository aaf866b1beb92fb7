"""French analyzer: elision, accents, stemming, acronyms, places, everyday words."""

from __future__ import annotations

import pytest

from retrieval.analyze import build_analyzer, fiche_numbers, glossary_entries, words


def test_elision_accents_and_case() -> None:
    assert words("L’enfant d'Isère qu’on ÉCOUTE") == ["enfant", "isere", "on", "ecoute"]


def test_stemming_makes_plural_and_accents_agree() -> None:
    analyzer = build_analyzer()
    assert analyzer.tokens("familles éducatives") == analyzer.tokens("famille educative")
    assert analyzer.tokens("les enfants") == ["enfant"]


def test_a_word_whose_stem_is_an_acronym_is_not_that_acronym() -> None:
    """« café » stems to « caf » and « près » to « pre »: they must not match the CAF and the PRE."""
    analyzer = build_analyzer(["PRE : Programme de réussite éducative"])
    assert analyzer.tokens("un café près de chez moi") == ["cafe", "pres", "chez"]
    assert analyzer.tokens("la CAF et le PRE") == ["caf", "pre"]


def test_acronyms_expand_both_ways() -> None:
    analyzer = build_analyzer(["CRIP : Cellule de recueil des informations préoccupantes"])
    query = analyzer.query("c quoi la crip")
    assert query.acronyms == ("crip",)
    assert {"cellul", "recueil", "preoccup"} <= set(query.expansions)
    spelled = analyzer.query("comment transmettre une information préoccupante")
    assert "ip" in spelled.expansions


def test_ambiguous_acronyms_need_capitals() -> None:
    analyzer = build_analyzer()
    assert "je" not in analyzer.query("je cherche une aide").acronyms
    assert analyzer.query("je cherche une aide").expansions == []


def test_gazetteer_maps_towns_to_territories() -> None:
    analyzer = build_analyzer()
    assert [p.name for p in analyzer.query("groupe de parents vers firminy").places] == ["Gier Ondaine Pilat"]
    assert [p.name for p in analyzer.query("pres de la tour du pin").places] == ["Vals du Dauphiné"]
    assert [p.name for p in analyzer.query("à St-Chamond").places] == ["Gier Ondaine Pilat"]
    assert analyzer.query("une roche dans le jardin").places == ()
    assert analyzer.query("le massage des nourrissons").places == ()  # not « Le Passage » (Isère)


def test_everyday_words_reach_document_wording() -> None:
    analyzer = build_analyzer()
    assert {"assist", "maternel"} <= set(analyzer.query("je cherche une nounou").expansions)
    # « être hébergés avec le bébé » is what the schéma calls an accueil in a centre parental
    expansions = set(analyzer.query("on attend un bébé, on peut être hébergés tous les deux ?").expansions)
    assert {"naitr", "parental"} <= expansions, expansions
    # a nephew or a niece taken in by the family: what the schémas call an accueil chez un tiers
    assert "tier" in set(analyzer.query("mon neveu pourrait vivre chez moi ?").expansions)
    assert "tier" in set(analyzer.query("ma nièce pourrait venir chez nous ?").expansions)
    # children placed apart who want to see each other: the fratrie and its rencontres
    siblings = set(
        analyzer.query("mes 3 enfants sont placés mais pas au même endroit, ils pourront se voir ?").expansions
    )
    assert {"fratr", "rencontr", "lien"} <= siblings, siblings
    assert "atyp" in set(analyzer.query("je bosse en horaires décalés, y a une crèche ?").expansions)


def test_feminine_and_masculine_participles_share_a_stem() -> None:
    analyzer = build_analyzer()
    assert analyzer.tokens("AEMO renforcée") == analyzer.tokens("AEMO renforcés")
    assert analyzer.tokens("ma fille placée") == analyzer.tokens("ma fille placé")
    assert analyzer.tokens("confiées") == analyzer.tokens("confié")
    assert analyzer.tokens("les années") == analyzer.tokens("l'année")


def test_glossary_lines_are_read() -> None:
    entries = glossary_entries(
        ["AED : Action éducative à domicile", "LAEP Lieux d’accueil enfants parents", "Texte libre"]
    )
    assert entries == {"AED": ["Action éducative à domicile"], "LAEP": ["Lieux d’accueil enfants parents"]}


def test_small_numbers_match_their_words() -> None:
    analyzer = build_analyzer()
    assert analyzer.tokens("les 6 orientations") == analyzer.tokens("les six orientations")


def test_expansions_are_kept_apart_from_the_question() -> None:
    query = build_analyzer().query("le COPIL se réunit quand ?")
    assert "copil" in query.tokens
    assert {"comit", "pilotag"} <= set(query.expansions)
    assert not set(query.expansions) & set(query.tokens)


def test_a_son_is_not_a_thread() -> None:
    """The stemmer merges « fils » (a son) with « fil » (« le fil rouge », « Le FIL à Saint-Etienne »)."""
    analyzer = build_analyzer()
    assert analyzer.tokens("mon fils") != analyzer.tokens("le fil")
    assert analyzer.tokens("mes fils") == analyzer.tokens("mon fils")
    # a grandchild is not a daughter: « ma petite-fille » does not meet « des jeunes filles »
    assert "fill" not in analyzer.tokens("ma petite-fille") and "fill" in analyzer.tokens("ma petite fille")


def test_a_departement_number_and_a_town_typed_in_lower_case_are_places() -> None:
    analyzer = build_analyzer()

    def departements(text: str) -> set[str]:
        return {p.departement for p in analyzer.query(text).places}

    assert departements("j'habite dans le 38") == {"Isère"}
    assert departements("on est à Vienne (38)") == {"Isère"}
    assert departements("le 42, c'est quoi comme aide ?") == {"Loire"}
    assert departements("on vit a vienne") == {"Isère"}
    assert departements("j'ai 38 ans") == set()
    assert departements("il faut qu'il vienne à la maison") == set()


@pytest.mark.parametrize(
    ("question", "numbers"),
    [
        ("les acteurs associés de la fiche n°14 ?", ("14",)),
        ("Qui pilote la fiche action N°26 ?", ("26",)),
        ("quels sont les partenaires de l'action 07 ?", ("7",)),
        ("la fiche n° 6 et la fiche 12", ("6", "12")),
        ("l'action 1-1-1 du schéma des services aux familles", ()),  # a plan's numbered action, not a fiche
        ("le protocole prévu par la loi du 14 mars 2016", ()),
    ],
)
def test_fiche_numbers_named(question: str, numbers: tuple[str, ...]) -> None:
    assert fiche_numbers(question) == numbers
