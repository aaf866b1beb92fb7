"""The answer's shape on the real index: the lead answers first, cards say status and period, old
contacts are dated, acronyms take their document's sense, differences give both sides."""

from __future__ import annotations

import re
import tomllib
from datetime import date

import pytest

from assistant.acronyms import sense_in, senses, spell_out
from assistant.answer import AnswerEngine
from assistant.blocks import BlockKind
from assistant.compose import (
    Budget,
    Candidate,
    Unit,
    ages_told,
    met_only_by_place,
    outside_ages,
    quotable_unit,
    shown_text,
)
from assistant.evidence import CONTEXT_FILE, context_asked, context_section
from assistant.fiche import Fiche, another_service, read_fiche
from assistant.shape import Scored, shape
from assistant.writer import short_title, whom_to_ask
from corpus.clean import join_hyphenated, join_wrapped
from prompts.render import load_whom
from retrieval.retrieve import Passage, Retriever, SectionHit


@pytest.fixture(scope="module")
def engine(retriever: Retriever) -> AnswerEngine:
    return AnswerEngine(retriever, today=date(2026, 12, 4))


def _lead(answer: object) -> str:
    blocks = answer.blocks  # type: ignore[attr-defined]
    lead = next(b for b in blocks if b.kind == BlockKind.LEAD)
    return " ".join(item.text for item in lead.items)


def _fiche(text: str, field: str = "") -> Fiche:
    """A one-passage section of this text, read as the engine reads a fiche."""
    return read_fiche("d/s", [Passage("d/s#0", text, 1, text.count("\n") + 1, field, 0)])


def test_pilot_question_is_answered_in_the_lead(engine: AnswerEngine) -> None:
    answer = engine.ask("qui pilote la fiche action 32 du schéma de l'Isère ?", "professionnel")
    lead = _lead(answer)
    assert "est pilotée par" in lead and "Cellule de Recueil des Informations Préoccupantes" in lead
    assert answer.body.startswith("La fiche n°32")  # the first words of the answer are the answer
    # the fiche named by its number, not the pilots of the other fiches that scored
    n14 = engine.ask("Qui pilote la fiche action n°14 du schéma enfance famille de l'Isère ?", "professionnel")
    assert n14.body.startswith("La fiche n°14") and "n°4" not in n14.body and "n°27" not in n14.body, n14.body


def test_a_table_cell_is_said_of_its_row(engine: AnswerEngine) -> None:
    # the instances' table of the services schéma: the mission cell of the PRE's row, said of the PRE, not the
    # row above it run into its name (« … Un Comité de pilotage annuel 3 Comités techniques par an FAMILLE… »)
    answer = engine.ask("Le programme de réussite éducative, c'est pour les enfants de quel âge ?", "famille")
    lead = _lead(answer)
    assert lead.startswith("« Programme de réussite éducative » : Favoriser la réussite éducative"), lead
    assert "de 2 à 16 ans" in lead and "Comité" not in lead, lead


def test_partners_question_lists_the_partners_field_whole(engine: AnswerEngine) -> None:
    """Asked who the partners are, the lead is the fiche's « acteurs associés », every one of them (« DDCS »,
    the third of nine, included), not its pilots; an ended action says so first."""
    lead = _lead(
        engine.ask("Quels partenaires sont associés à la fiche 26 sur les sorties sèches de l'ASE ?", "professionnel")
    )
    assert lead.startswith("Les partenaires associés à la fiche n°26"), lead
    assert all(p in lead for p in ("DDCS", "Missions Locales", "Établissements et services habilités ASE")), lead
    assert "pilotée" not in lead and "Directeur adjoint" not in lead
    ended = _lead(engine.ask("la fiche 48 (Roanne) était menée avec quel partenaire ?", "professionnel"))
    assert ended.startswith("Action terminée. Les partenaires associés à la fiche 48") and "ADAFAD" in ended, ended
    # asked who pilots and with whom: the pilots lead
    both = _lead(engine.ask("qui pilote la fiche 26 de l'Isère et avec quels partenaires ?", "professionnel"))
    assert both.startswith("La fiche n°26") and "est pilotée par" in both, both


def test_a_sentence_the_extraction_broke_is_read_whole_or_not_at_all(engine: AnswerEngine) -> None:
    """« … entre 2014 et 2018 en » / « Isère. » is one sentence; « … en introduisant la notion de . » lost its
    last word in the source and is never quoted."""
    fiche = _fiche("Le nombre d’enfants pris en charge par l’ASE a augmenté de 16.4% entre 2014 et 2018 en\n\nIsère.")
    assert [u.text for u in fiche.units] == [
        "Le nombre d’enfants pris en charge par l’ASE a augmenté de 16.4% entre 2014 et 2018 en Isère."
    ]
    cut = "La loi donne un repère significatif à ses contributeurs, en introduisant la notion de ."
    assert not quotable_unit(engine.retriever.analyzer, cut, "")
    assert quotable_unit(
        engine.retriever.analyzer, "Ils sont chargés de faire avec les familles, pour y en avoir un.", ""
    )
    answer = engine.ask("Que signifie ODPE et quel est son rôle ?", "professionnel")
    assert "la notion de ." not in answer.body


def test_a_list_item_then_a_paragraph_are_two_units() -> None:
    """The page lost the blank line after « - Démarches administratives »: the paragraph under it is not the
    item's end, and the list keeps its fifth theme."""
    fiche = _fiche(
        "Autour de 5 thèmes à partir de ce que les jeunes se représentent du passage à 18 ans :\n- Citoyenneté\n"
        "- Le logement\n- La santé\n- L’insertion\n- Démarches administratives\n"
        'Mise en place en 2015 de groupe de paroles de jeunes sur le thème "18 ans et\nalors ? "'
    )
    texts = [u.text for u in fiche.units]
    assert texts[0].endswith("L’insertion, Démarches administratives.")
    assert texts[1] == 'Mise en place en 2015 de groupe de paroles de jeunes sur le thème "18 ans et alors ? "'


def test_a_questionnaire_answer_is_not_said_to_be_the_pilot(engine: AnswerEngine) -> None:
    """The Lunéville form's « Qui a été à l'initiative de l'action ? » is quoted with its question."""
    lead = _lead(engine.ask("Quelles institutions portent l'action de la CLEF dans le Lunévillois ?", "professionnel"))
    assert "?" not in lead or "est pilotée par" not in lead, lead


def test_a_web_address_written_as_an_autolink_is_quoted(engine: AnswerEngine) -> None:
    """« Le site CLEF : <http://clef.viabloga.com/> »: the address is what the parent asked for."""
    answer = engine.ask("la clef a luneville ils ont un site internet ?", "famille")
    assert "Le site CLEF : http://clef.viabloga.com/ qui présente" in answer.body, answer.body[:300]


def test_an_acronym_takes_the_glossary_of_the_document_the_question_dates(engine: AnswerEngine) -> None:
    """AEMO is « Action éducative » in the 2016-2018 schéma's glossary, « Assistance éducative » in the 2020 one's."""
    dated = engine.ask("dans le schéma des services aux familles 2016-2018, que veut dire AEMO ?", "professionnel")
    assert dated.body.startswith("AEMO Action éducative en milieu ouvert"), dated.body[:200]
    plain = engine.ask("que veut dire AEMO ?", "professionnel")
    assert plain.body.startswith("AEMO : Assistance éducative en milieu ouvert"), plain.body[:200]


def test_ended_action_says_so_in_its_card_and_lead(engine: AnswerEngine) -> None:
    answer = engine.ask("il existe un groupe pour les parents dont les enfants sont placés vers Firminy ?", "famille")
    cards = [c for b in answer.blocks if b.kind == BlockKind.CARDS for c in b.cards]
    ended = [c for c in cards if c.ended]
    assert ended and ended[0].status == "Action terminée" and ended[0].document == "Loire, 2017-2021"
    assert "action terminée" in answer.body.lower()
    if cards[0].ended:
        assert _lead(answer).startswith("Action terminée. Fiche"), _lead(answer)


def test_old_contacts_carry_their_year(engine: AnswerEngine, retriever: Retriever) -> None:
    question = "la Clef des Petits a la Tour du Pin, c'est quoi leur numero ?"
    answer = engine.ask(question, "famille")
    assert "04.74.33.37.18" in answer.body
    assert "coordonnées de 2009, à vérifier" in answer.body  # the ONED fiche is of 2003-2009
    assert answer.body.count("à vérifier") == 1  # said once, not after every contact line
    recent = AnswerEngine(retriever, today=date(2012, 1, 1)).ask(question, "famille")
    assert "04.74.33.37.18" in recent.body and "à vérifier" not in recent.body


def test_an_old_web_address_is_dated_like_a_phone_number(engine: AnswerEngine, retriever: Retriever) -> None:
    """The Lunéville fiche runs to 2015: its web site, like its phone numbers, may have changed."""
    question = "la clef a luneville ils ont un site internet ?"
    answer = engine.ask(question, "famille")
    line = next(line for line in answer.body.splitlines() if "clef.viabloga.com" in line)
    assert "(coordonnées de 2015, à vérifier)" in line, line
    assert answer.body.count("à vérifier") == 1
    recent = AnswerEngine(retriever, today=date(2018, 1, 1)).ask(question, "famille")
    assert "clef.viabloga.com" in recent.body and "à vérifier" not in recent.body
    # a fiche's name that looks like a web address is not one
    assert "à vérifier" not in engine.ask("c'est quoi ADOS.COM dans la Loire ?", "famille").body


def test_a_card_gives_whom_to_contact_and_names_hours_as_hours(engine: AnswerEngine) -> None:
    """The ONED fiche names its contact person; the managing association's head office (« Service gérant
    l'action ») is not whom a parent calls, unless the question asks for the association. A line that gives
    only opening hours is « Horaires », not « Contact »."""
    answer = engine.ask("slt c koi le num de la clef des alpes a bourgoin ? et ladresse svp", "famille")
    contacts = [c for b in answer.blocks for card in b.cards for c in card.contacts]
    assert contacts and not any("la Providence" in c.text for c in contacts), contacts
    assert all(c.label == ("Horaires" if "Tél" not in c.text and "rue" not in c.text else "Contact") for c in contacts)
    assert any(c.label == "Horaires" for c in contacts) and "  - Horaires : " in answer.body
    asked = engine.ask("quelle est l'adresse de l'association qui gère les accueils de jour La Clef ?", "famille")
    assert "25, rue de la Libération" in asked.body


def test_difference_gives_both_definitions(engine: AnswerEngine) -> None:
    lead = _lead(engine.ask("AED ou AEMO, c'est pareil ?", "famille"))
    assert "Action éducative à domicile" in lead and "milieu ouvert" in lead
    lead = _lead(engine.ask("quelle différence entre IP et signalement ?", "professionnel"))
    assert "information préoccupante" in lead and "signalement" in lead and "autorité judiciaire" in lead
    # « les deux »: the two things named in the sentence before
    both = "J'entends parler d'« information preoccupante » et de « signalement ». Quelle difference entre les deux ?"
    assert "autorité judiciaire" in _lead(engine.ask(both, "famille")).split("[1]")[0]


def test_a_difference_between_a_name_and_a_longer_one_reads_each_apart(engine: AnswerEngine) -> None:
    """« La Clef » is inside « La Clef des Petits »: a sentence on the second does not speak of the first, and
    what a document says of one of them is not taken from another document (Lunéville's collectif CLEF)."""
    lead = _lead(engine.ask("Quelle est la différence entre La Clef et La Clef des Petits ?", "famille"))
    assert "Il s’agit d’un accueil de l’enfant avec son ou ses parents à la demi-journée" in lead
    assert "formation en cascade" not in lead


def test_a_difference_between_two_sections_reads_each_under_its_title(engine: AnswerEngine) -> None:
    """Neither committee's sentences name it (« Il est garant… », « Animé par la Caf, il a pour rôle… »); the
    sections titled by their names say what each is, and the lead says which is which."""
    lead = _lead(
        engine.ask("Quelle différence entre le comité de pilotage et le comité technique du SDSF ?", "professionnel")
    )
    assert "« Le Comité de pilotage » : Il est garant de l’articulation" in lead
    assert "« Le Comité technique » : Animé par la Caf, il a pour rôle de" in lead


def test_a_question_on_one_service_is_not_answered_with_its_siblings(engine: AnswerEngine) -> None:
    """« La Clef » (4-11 ans) is asked: what the fiche says of « La Clef des Petits » alone is another service's;
    « par semaine » is the fiche's « hebdomadaires »."""
    answer = engine.ask("mon fils de 8 ans va à La Clef, il y passe combien d'heures par semaine ?", "famille")
    assert "12 à 15 heures hebdomadaires" in _lead(answer)
    assert "« La Clef des Petits » : Heures d’ouverture" not in answer.body
    # asked about « La Clef des Petits », its own hours lead
    asked = engine.ask("la clef des petits c'est ouvert quand ?", "famille")
    assert _lead(asked).startswith("« La Clef des Petits » : Heures d’ouverture")
    # nor with what a paragraph headed by a sibling says (« Cet accueil provisoire… n'excédant pas un an » follows
    # « « La Clef des Petits » : Il s'agit… »): La Clef's own stay is two years at most
    stay = engine.ask("ma fille est a la clef depuis 1 an et demi, ca peut durer combien de temps max ??", "famille")
    assert "n’excédant pas deux ans" in _lead(stay) and "n’excédant pas un an" not in stay.body, stay.body


def test_the_sentence_going_on_from_the_lead_is_said_with_it(engine: AnswerEngine) -> None:
    """« c'est fermé quand pendant les vacances ? »: the hours lead (a field lead), and the sentence after it that
    goes on (« Il permet aussi l'accueil durant toutes les vacances scolaires hormis… ») in the same lead."""
    lead = _lead(engine.ask("c ferme qd pdt les vacances la clef des alpes? on part pas cet ete", "famille"))
    assert "le samedi de 13 H 30 à 17 H. Il permet aussi l’accueil durant toutes les vacances" in lead, lead
    assert "la semaine entre Noël et le Jour de l’an" in lead


def test_a_list_item_of_a_few_words_does_not_lead_alone(engine: AnswerEngine) -> None:
    """« ya des activités pour les parents et les enfants ensemble ? » at Lunéville: not the ticked box « Activités
    favorisant le lien enfant-parent » as the whole first sentence, a sentence that says what is done."""
    lead = _lead(
        engine.ask(
            "jsuis a luneville avec 2 petits de 4 et 5 ans, ya des activites pr les parents et les enfants ensemble??"
        )
    )
    assert len(lead.split()) >= 10 and "ateliers" in lead, lead


def test_what_it_is_and_who_pilots_it_both_lead_in_the_order_asked(engine: AnswerEngine) -> None:
    """« Qu'est-ce que le PPAF dans la Loire et qui le pilote ? »: the sentence saying what the PPAF is (under its
    field label « Contenu et objectifs de l'action : ») first, then the pilot; « qu'est-ce que l'accueil chez un
    tiers… » is not « defined » by a sentence where « accueil » is followed by « qui »."""
    both = _lead(engine.ask("Qu'est-ce que le PPAF dans la Loire et qui le pilote ?", "professionnel"))
    assert "Le PPAF est, depuis janvier 2015, le support unique" in both and "est pilotée par" in both, both
    assert both.index("Le PPAF est") < both.index("est pilotée par")
    tiers = engine.ask(
        "Ma sœur aimerait accueillir mon fils chez elle. Qu'est-ce que l'accueil chez un tiers bénévole ?"
    )
    assert "Droit au répit" not in tiers.body, tiers.body


def test_beside_a_definition_only_what_speaks_of_the_thing_is_said(engine: AnswerEngine) -> None:
    """« Un LAEP, c'est quoi ? »: the glossary's line, not a fiche on court-ordered visits that scored well; a
    sentence naming the thing stays (« le sigle REAAP » in fiche 81), and so does a second question's answer."""
    laep = engine.ask("Un LAEP, c'est quoi ? On m'a conseillé d'y aller avec mon bébé.", "famille")
    assert laep.body.startswith("LAEP : Lieu d’accueil enfant parent"), laep.body
    assert "Fiche" not in laep.body and "tiers" not in laep.body, laep.body
    reaap = engine.ask(
        "Dans la fiche action 81 sur la CLEF de Lunéville, que signifie le sigle REAAP ?", "professionnel"
    )
    assert "Fiche 81" in reaap.body, reaap.body
    more = engine.ask("on nous propose une AED, ça veut dire quoi AED et c'est qui qui vient chez nous ?", "famille")
    assert "Fiche" in more.body, more.body


@pytest.mark.parametrize(
    ("question", "public", "outside"),
    [
        ("mon garçon de 10 ans est autiste", "Mineur 0<6 ans, Famille", True),
        ("un bébé de 5 mois", "Mineur 0<6 ans, Famille", False),
        ("ma fille a 2 ans et demi", "Mineur 6<12 ans", True),
        ("mon fils de dix-neuf ans", "Mineur 12<18 ans et jeune majeur", False),  # no number told: no note
        ("mon fils a 19 ans", "Mineur 12<18 ans et jeune majeur", False),  # a young adult
        ("mon fils placé a 16 ans, ses 18 ans ?", "Jeune majeur", False),  # preparing for majority
        ("mon fils de 3 ans", "Jeune majeur, famille", True),
        ("mon fils de 10 ans", "Famille", False),  # the public names no ages
    ],
)
def test_an_age_told_is_checked_against_the_fiches_public(question: str, public: str, outside: bool) -> None:
    told = ages_told(question)
    assert any(outside_ages(public, years) for years, _ in told) == outside


def test_a_card_says_when_its_public_leaves_out_the_childs_age(engine: AnswerEngine) -> None:
    """« mon garçon de 10 ans… y a du répit ? »: fiche 53 is for the under-6s; its card says so to the parent."""
    answer = engine.ask(
        "mon garcon de 10 ans est autiste et je suis a bout, y a du repit pour les parents dans la loire ?"
    )
    card = next(
        c for b in answer.blocks for c in b.cards if "Droit au répit" in c.title or c.title.startswith("Fiche 53")
    )
    assert card.age_note == "cette action ne vise pas un enfant de 10 ans", card
    assert "Mineur 0<6 ans, Famille (cette action ne vise pas un enfant de 10 ans)" in answer.text
    fits = engine.ask("mon bébé de 5 mois, ya un endroit pour les massages à la PMI dans la Loire ?")
    assert all(not c.age_note for b in fits.blocks for c in b.cards)


def test_a_paragraph_on_one_service_is_that_services() -> None:
    """The sentences after « « La Clef des Petits » : … » in its field are about that service; the field's next
    label ends the paragraph; a sentence naming services itself speaks for itself."""
    fiche = _fiche(
        "Cadre juridique : L'accueil des 4 à 11 ans est un accueil à la journée.\n"
        "« La Clef des Petits » : Il s'agit d'un accueil avec les parents.\n"
        "Cet accueil provisoire est pour une durée de 3 mois.\n"
        "« La Clef » reçoit les plus grands.\n"
        "Financement : Le prix de journée est de 74,16 €.\n"
    )
    heads = [fiche.service_of(u.order) for u in fiche.units]
    assert heads == ["", "", "« La Clef des Petits » ", "", ""], [(u.text, u.field) for u in fiche.units]


def test_a_document_the_question_names_is_read_first(engine: AnswerEngine) -> None:
    """« le schéma des services aux familles » names a document: its sections come first, ranked by the rest
    of the question (its durée section, not La Clef's « durée de trois mois »)."""
    named = engine.evidence.named_documents
    analyse = engine.retriever.analyzer.query
    assert named(analyse("Le SDSF court jusqu'à quand ?")) == {"isere-sdsf-2016"}
    assert named(analyse("les objectifs du schéma enfance famille 2020-2024")) == {"isere-schema-2020"}
    assert named(analyse("la clef des petits, c'est un accueil de jour ?")) == set()
    answer = engine.ask("Jusqu'à quand court le schéma des services aux familles de l'Isère ?", "professionnel")
    assert "jusqu’au 31 décembre 2018" in answer.body and "La Clef" not in answer.body


def test_a_fiche_that_only_names_the_town_does_not_answer(engine: AnswerEngine) -> None:
    """« on habite à Montbrison »: a fiche whose only word in common with the question is the town (a concert
    hall there) does not answer a question on a child who speaks little; the development check does."""
    answer = engine.ask("Mon fils de 3 ans parle très peu, on habite à Montbrison. La PMI peut nous aider ?", "famille")
    assert "Grille d'Évaluation du Développement" in _lead(answer) and "DOSE" not in answer.body
    analyzer = engine.retriever.analyzer
    query = analyzer.query("ma fille dort mal, on habite à Montbrison")
    concert = Unit("9 concerts sont proposés : Le théâtre des Pénitents à Montbrison.", (), "", 0.0, 0)
    sleep = Unit("Un atelier sur le sommeil des tout-petits.", (), "", 0.0, 1)
    assert met_only_by_place(analyzer, "59. DOSE le SON", [concert], query)
    assert not met_only_by_place(analyzer, "59. DOSE le SON", [concert, sleep], query)


def test_fiches_of_another_departement_say_so(engine: AnswerEngine) -> None:
    """A family in Grenoble answered with a fiche of the Loire is told so: « (Loire, 2017-2021) » on a card is
    easy to miss; a place read within a typo (« le massage » for Le Passage) says nothing of where they live."""
    answer = engine.ask("aides vacances grenoble 3 enfants", "famille")
    notices = [b.text for b in answer.blocks if b.kind == BlockKind.NOTICE]
    assert notices == [
        "Les fiches citées sont celles de la Loire, pas de l'Isère. Le service social du Département ou la mairie "
        "vous diront ce qui existe près de chez vous."
    ]
    asked = engine.ask("le massage bebe a la pmi c koi ?", "famille")
    assert not [b for b in asked.blocks if b.kind == BlockKind.NOTICE]


def test_an_acronym_the_documents_spell_out_is_spelled_out_when_asked(engine: AnswerEngine) -> None:
    """UGO has no glossary line; its fiche's title says « UGO – logiciel urgence guide orientation »."""
    lead = _lead(engine.ask("UGO, c'est quoi ?", "professionnel"))
    assert "UGO : logiciel urgence guide orientation" in lead
    # a professional is not told what an acronym the question does not ask about means
    assert "(UGO :" not in engine.ask("Qui pilote le développement du logiciel UGO ?", "professionnel").body


def test_a_lead_that_points_back_to_nothing_said_names_its_section(engine: AnswerEngine) -> None:
    """« Ils sont co-animés par… » alone says nothing of whom: the lead says it of its section."""
    lead = _lead(engine.ask("Les comités opérationnels du SDSF sont animés par qui ?", "professionnel"))
    assert lead.startswith("« Les Comités opérationnels » : Ils sont co-animés par une institution signataire")


def test_a_definition_leads_with_the_sentence_that_says_what_it_is(engine: AnswerEngine) -> None:
    """Without a glossary line to give (the question spells the thing out, or it has no acronym), the
    answer opens with the sentence of the sources that defines it, not with a sentence sharing its words."""
    lead = _lead(engine.ask("c'est quoi l'information préoccupante ?", "famille"))
    assert lead.startswith("Le repérage des situations de danger") and "qui avise le Département du danger" in lead
    lead = _lead(engine.ask("c'est quoi une conférence familiale ?", "famille"))
    assert "conférences familiales, à savoir des réunions regroupant une famille" in lead.split("\n")[0]


def test_a_glossary_line_the_question_already_spells_out_is_not_said(engine: AnswerEngine) -> None:
    """« OVF Observatoire de la vie familiale » tells nothing to whom asked what the Observatoire is for."""
    answer = engine.ask("L'Observatoire de la vie familiale en Isère, ça sert à quoi ?", "famille")
    assert not answer.refused and "OVF Observatoire" not in answer.body
    # what it is for, from the services schéma (its row of the instances' table since the section ranker)
    assert "observatoire de la vie familiale" in _lead(answer).casefold()
    assert "OVF Observatoire" in _lead(engine.ask("c quoi l'OVF ?", "famille"))


def test_anaphora_table_examples() -> None:
    from assistant.fiche import ANAPHORA_FILE, points_back

    table = tomllib.loads(ANAPHORA_FILE.read_text(encoding="utf-8"))
    assert [t for t in table["examples"] if not points_back(t)] == []
    assert [t for t in table["counterexamples"] if points_back(t)] == []


def test_a_lead_that_points_back_is_said_after_its_sentence(engine: AnswerEngine) -> None:
    """« Cet accueil provisoire … n'excédant pas un an » is La Clef des Petits'; alone it reads as La Clef's."""
    lead = _lead(
        engine.ask("a la clef des petits avec mon bebe on peut venir pendant combien de temps maximum?", "famille")
    )
    assert lead.startswith("« La Clef des Petits » : Il s’agit d’un accueil de l’enfant avec son ou ses parents")
    assert "Cet accueil provisoire est pour une durée de 3 mois" in lead


def test_ip_takes_the_sense_of_its_fiche(engine: AnswerEngine) -> None:
    for acronym in senses():
        for text, expected in (a for a in _examples(acronym)):
            assert sense_in(acronym, text, ["information préoccupante"]) == expected
    # A Loire PMI fiche: « 2 IP pour un groupe de 5 mamans » are infirmières puéricultrices.
    pmi = next(f for f in engine.fiches.values() if any("2 IP pour un groupe de 5 mamans" in u.text for u in f.units))
    sentence = next(u.text for u in pmi.units if "2 IP pour un groupe" in u.text)
    text = " ".join(u.text for u in pmi.units)
    explained = spell_out(sentence, engine.retriever.analyzer.acronyms, set(), text)
    assert "IP : infirmière puéricultrice" in explained
    crip = spell_out("La CRIP reçoit les IP.", engine.retriever.analyzer.acronyms, set(), "CRIP danger signalement")
    assert "IP : information préoccupante" in crip
    # Asked what « IP » means in the Loire's fiches: as those fiches use it, not the Isère glossary's line.
    loire = engine.ask("Que signifie IP dans les fiches de la Loire ?", "professionnel")
    assert "IP : infirmière puéricultrice" in _lead(loire) and "préoccupante" not in loire.body, loire.body
    isere = engine.ask("Que signifie IP ?", "professionnel")
    assert isere.body.startswith("IP : Information préoccupante"), isere.body


def _examples(acronym: str) -> list[tuple[str, str]]:
    import tomllib

    from assistant.acronyms import SENSES_FILE

    data = tomllib.loads(SENSES_FILE.read_text(encoding="utf-8"))
    return [tuple(e) for a in data["acronym"] if a["name"].casefold() == acronym for e in a["examples"]]  # type: ignore[misc]


def test_whom_to_ask_fits_age_and_situation() -> None:
    rules, default = load_whom()
    for rule in rules:
        for example in rule.examples:
            assert whom_to_ask(example) == rule.line, example
    assert whom_to_ask("un groupe de parents vers Firminy ?") == default


def test_answers_have_no_fragments_and_stay_short(engine: AnswerEngine) -> None:
    from evals.answers import fragments, words

    for question, audience in (
        ("c quoi une AED ?", "famille"),
        ("un groupe de parents vers Firminy ?", "famille"),
        ("quelles actions pour les jeunes majeurs dans le schéma de l'Isère ?", "professionnel"),
        ("comment se passe le traitement d'une IP en Isère ?", "professionnel"),
    ):
        answer = engine.ask(question, audience)
        assert not answer.refused
        assert fragments(answer.body) == [], question
        assert len(words(answer.body)) <= 220, question
        assert answer.body in answer.text and answer.text.startswith(answer.body)


def test_fiche_is_read_whole_across_chunk_borders() -> None:
    first = Passage(
        "d/s#0", "Objectifs : Rendre les parents acteurs.\n- Travailler les souffrances liées au pla", 1, 2, "", 0
    )
    second = Passage(
        "d/s#1",
        "- Travailler les souffrances liées au placement de leurs enfants.\n- Favoriser la parole.",
        2,
        3,
        "",
        0,
    )
    fiche = read_fiche("d/s", [first, second])
    texts = [u.text for u in fiche.units]
    assert texts == [
        "Objectifs : Rendre les parents acteurs.",
        "Travailler les souffrances liées au placement de leurs enfants.",
        "Favoriser la parole.",
    ]
    assert fiche.units[1].passages == (second,)  # cited from the passage that holds it whole
    # without a passage that holds it whole, it is cited from both it runs over
    a = Passage("d/t#0", "Objectifs : Rendre les parents acteurs. Travailler les souffrances liées", 1, 2, "", 0)
    b = Passage("d/t#1", "les souffrances liées au placement de leurs enfants. Favoriser la parole.", 2, 3, "", 0)
    split = read_fiche("d/t", [a, b])
    held = [u for u in split.units if u.text.startswith("Travailler")]
    assert [u.text for u in held] == ["Travailler les souffrances liées au placement de leurs enfants."]
    assert held[0].passages == (a, b)


def test_each_numbered_action_of_a_plan_is_a_sentence_of_its_own() -> None:
    """A schéma's plan numbers its actions as an outline (« 2-1-1 », « 2-1-2 ») without a full stop between
    them: each is its own sentence, so a short answer can quote the one asked about."""
    text = (
        "2-1-1 Travailler avec les pôles ressources et l'ensemble des partenaires\n"
        "concourant à l'inclusion des enfants en situation de handicap\n"
        "2-1-2 Poursuivre le soutien financier pour l'accueil des enfants en situation de\n"
        "handicap aux structures collectives (EAJE – ALSH)\n"
        "2-1-3 Encourager l'accueil des enfants en situation de handicap dans le cadre de l'accueil individuel"
    )
    texts = [u.text for u in _fiche(text).units]
    assert [t[:5] for t in texts] == ["2-1-1", "2-1-2", "2-1-3"], texts
    assert texts[1].endswith("aux structures collectives (EAJE – ALSH)")
    # the heading over the actions is not the end of the objective above it; a list's last line is not a heading
    text = (
        "2-2 – Éduquer au numérique\nActions\n2-1-1 - Action de prévention des conduites addictives\n"
        "Partenaires : JAF, Département, Caf, MSA, DDCS,\nÉtat\n7-1-1 Mettre en place un groupe de travail"
    )
    texts = [u.text for u in _fiche(text).units]
    assert texts[:2] == ["2-2 – Éduquer au numérique", "Actions"], texts
    assert "Partenaires : JAF, Département, Caf, MSA, DDCS, État" in texts


def test_a_list_keeps_its_last_item_before_the_next_sentence() -> None:
    """The cleaned page has no blank line between a list's last item and the next sentence; the item is
    not glued to it, and a bullet broken after a comma is still one sentence."""
    text = (
        "9 concerts sont proposés en 3 lieux du département :\n- Le FIL à Saint-Etienne\n"
        "- Le Grand Marais à Riorges\n- Le théâtre des Pénitents à Montbrison\n"
        "En amont, des réunions préparatoires sont proposées aux établissements.\n"
        "- La protection de l'enfance,\nÀ travers des interventions, vise à remédier au danger."
    )
    fiche = _fiche(text)
    texts = [u.text for u in fiche.units]
    assert texts[0] == (
        "9 concerts sont proposés en 3 lieux du département : Le FIL à Saint-Etienne ; "
        "Le Grand Marais à Riorges ; Le théâtre des Pénitents à Montbrison."
    )
    assert texts[1] == "En amont, des réunions préparatoires sont proposées aux établissements."
    assert texts[2] == "La protection de l'enfance, À travers des interventions, vise à remédier au danger."


def test_a_lead_in_is_quoted_with_its_items_when_they_fit() -> None:
    """A lead-in that says something takes its items when together they fit a sentence's length, so that it
    can be quoted (alone it is cut in the middle); of a long list it takes the first items that fit, « … »
    says that the list goes on, and the other items stay units of their own."""
    text = (
        "Contenu : Permettre aux jeunes de réfléchir autour de 5 thèmes afin de préparer leur majorité :\n"
        "- Citoyenneté, Santé, Scolarité / insertion professionnelle, Argent / budget\n"
        "- Logement / hébergement.\n"
        "Modalités : Créer un guide de l'accueil chez un tiers, définissant :\n"
        + "".join(f"- Les modalités {n} de l'évaluation de la situation du tiers qui accueille.\n" for n in "ABCDE")
    )
    fiche = _fiche(text)
    texts = [u.text for u in fiche.units]
    assert texts[0] == (
        "Contenu : Permettre aux jeunes de réfléchir autour de 5 thèmes afin de préparer leur majorité : "
        "Citoyenneté, Santé, Scolarité / insertion professionnelle, Argent / budget ; Logement / hébergement."
    )
    item = "Les modalités {} de l'évaluation de la situation du tiers qui accueille"
    assert texts[1] == (
        f"Modalités : Créer un guide de l'accueil chez un tiers, définissant : {item.format('A')} ; "
        f"{item.format('B')} ; {item.format('C')} ; …"
    )
    assert texts[2:] == [f"{item.format('D')}.", f"{item.format('E')}."]


def test_a_lead_in_that_is_all_clause_takes_its_first_items() -> None:
    """« Animé par la Caf, il a pour rôle de : » reads as a field label, yet it is a clause its list completes:
    it takes its first items (alone, it was never quoted, and who runs the committee with it); a bare heading
    (« Les modalités de mise en œuvre : ») takes none."""
    role = "Favoriser l'articulation {} et la transversalité des politiques petite enfance, jeunesse, et parentalité"
    text = (
        "Animé par la Caf, il a pour rôle de :\n"
        + "".join(f"- {role.format(n)}\n" for n in "ABCD")
        + "Les modalités de mise en œuvre :\n- Rédiger une note qui entérine les modalités de traitement.\n"
        "- Former les équipes.\n"
    )
    texts = [u.text for u in _fiche(text).units]
    assert texts[0] == f"Animé par la Caf, il a pour rôle de : {role.format('A')} ; {role.format('B')} ; …"
    assert texts[1:3] == [role.format("C"), role.format("D")]
    assert texts[3] == "Les modalités de mise en œuvre :"


def test_numbered_headings_without_blank_lines_are_one_unit_each() -> None:
    """« Orientation stratégique n° 1 » over its title, then n° 2 on the next line (the cleaned page has no
    blank line): each orientation is a unit with its number, not one run-on unit read as a contents line."""
    text = (
        "Orientation stratégique n° 1\nRéduire les inégalités territoriales en matière d’accueil du jeune enfant\n"
        "et d’offre d’accompagnement à la parentalité\nOrientation stratégique n° 2\n"
        "Coordonner et articuler les offres d’accompagnement à la parentalité\n"
    )
    assert [u.text for u in _fiche(text).units] == [
        "Orientation stratégique n° 1 – Réduire les inégalités territoriales en matière d’accueil du jeune enfant "
        "et d’offre d’accompagnement à la parentalité",
        "Orientation stratégique n° 2 – Coordonner et articuler les offres d’accompagnement à la parentalité",
    ]


def test_a_service_called_prestation_is_not_a_question_on_allowances(engine: AnswerEngine) -> None:
    """« la prestation découverte TISF » is a fiche's action, not the CAF's allowances; and a glossary line
    does not lead an answer that asks how much or how many hours."""
    answer = engine.ask("la prestation découverte TISF, ça coûte combien aux familles et c'est combien d'heures ?")
    assert not answer.refused
    assert "10 heures d'intervention" in _lead(answer) and "gratuité pour la famille" in _lead(answer)
    refused = engine.ask("combien je vais toucher de prestations familiales avec 3 enfants ?")
    assert refused.refused and "Caf" in refused.body


def test_a_numbered_list_keeps_each_number_with_its_item() -> None:
    """« 13. Faciliter… » then « 14. Conforter… »: each item starts with its own number; the next item's
    number does not end the one before (which read as a contents line and hid the item)."""
    text = (
        "Les fiches actions :\n\n8. Développer l'accueil en internat scolaire\n"
        "13. Faciliter l'accès des enfants aux soins en santé mentale\n14. Conforter la mise en œuvre du Projet"
        " pour l'enfant\n"
    )
    fiche = _fiche(text)
    texts = [u.text for u in fiche.units]
    assert "13. Faciliter l'accès des enfants aux soins en santé mentale" in texts
    assert not any(t.endswith((" 13.", " 14.")) for t in texts)


def test_a_sentence_ending_with_a_number_is_a_candidate_a_contents_line_is_not(retriever: Retriever) -> None:
    """« … préparation de la phase 2. » is a sentence an answer may quote; « … santé mentale 61 » (a
    contents line) and « Financements : 0 » (a budget cell) are not."""
    analyzer = retriever.analyzer
    assert quotable_unit(analyzer, "Une séance est dédiée à la préparation de la phase 2.", "Phase 1")
    assert quotable_unit(analyzer, "Faire un bilan des modalités d'intervention de niveau 4.", "")
    assert not quotable_unit(analyzer, "Fiche action n°13 : Faciliter l'accès des enfants aux soins 61", "")
    assert not quotable_unit(analyzer, "Financements : 0", "Ressources")


def test_a_contact_question_leads_with_the_datum_asked(engine: AnswerEngine) -> None:
    """« c koi le num de la clef ? »: SMS forms read (« num » is « numéro »), and the lead is a contact line
    holding a phone number (not the address line of the same fiche), dated like every old contact."""
    answer = engine.ask("jhabite vers la tour du pin, c koi le num de la clef ?", "famille")
    lead = _lead(answer)
    assert re.search(r"0\d(?:[ .]?\d\d){4}", lead), lead
    assert "coordonnées de 2009, à vérifier" in answer.body.split("\n\n")[0]


def test_who_pays_is_answered_by_who_funds(engine: AnswerEngine) -> None:
    """« qui prend en charge le surcoût ? » asks who pays: a fiche saying who funds it answers it (before,
    the answer was refused for want of an amount in euros)."""
    question = (
        "Je dirige une crèche dans la Loire : qui prend en charge le surcoût de l'accueil d'un enfant en situation"
        " de handicap ?"
    )
    answer = engine.ask(question, "professionnel")
    assert not answer.refused
    assert "MSA" in answer.body and "CAF" in answer.body


def test_a_questionnaire_question_is_its_answers_field() -> None:
    """The SFSP fiche is a questionnaire: « 11) Quelle est la fréquence de l'action ? : Toute l'année » opens
    the field of that question (it used to stay in the field of the last « Label : » above it), and the
    answer is shown without the form's number — alone when it is a sentence, after its question otherwise."""
    text = (
        "Acteurs CLEF : La coordinatrice anime le collectif.\n\n"
        "11) Quelle est la fréquence de l'action ? : Toute l'année\n\n"
        "7) Quels sont les sujets ou thématiques que vous abordez au cours de l'action ? : Les thématiques"
        " répondent aux questions des familles sur le sommeil et l'alimentation.\n"
        "D'autre part, le langage et la non-violence.\n"
    )
    fiche = _fiche(text, "Acteurs CLEF")
    fields = {u.text.split(" ? : ")[-1][:20]: u.field for u in fiche.units}
    assert fields["Toute l'année"] == "11) Quelle est la fréquence de l'action ?"
    assert fields["D'autre part, le lan"].startswith("7) Quels sont les sujets")
    shown = [shown_text(u.text, u.field) for u in fiche.units]
    assert "Quelle est la fréquence de l'action ? Toute l'année" in shown
    assert shown[2].startswith("Les thématiques répondent") and not any(s[:1].isdigit() for s in shown)


def test_a_title_listing_names_is_never_cut_inside_one() -> None:
    """« « La Clef » « La Clef des Petits » « La clef des Alpes » – accueils de jour » (the PDF's title): the
    names separated, the subtitle dropped rather than a name cut (« « La… »)."""
    title = short_title("« La Clef » « La Clef des Petits » « La clef des Alpes » – accueils de jour")
    assert title == "« La Clef », « La Clef des Petits », « La clef des Alpes »"
    long = short_title("« Un » « Deux trois quatre » « Cinq six sept huit » « Neuf dix onze douze treize »")
    assert long.count("«") == long.count("»") and long.endswith("…")


def test_a_compound_word_wrapped_after_its_hyphen_is_whole() -> None:
    assert join_wrapped(["33. Concertation avec le Relais Écoute de Saint-Genest-", "Malifaux (AFR)"]).endswith(
        "Saint-Genest-Malifaux (AFR)"
    )
    fiche = _fiche("Orientée par la sage-\nfemme de PMI ou le médecin.")
    assert fiche.units[0].text == "Orientée par la sage-femme de PMI ou le médecin."
    assert join_hyphenated("parents -\nenfants et 2016-\n2018") == "parents -\nenfants et 2016-\n2018"


def test_whether_a_plan_was_carried_out_is_not_claimed(engine: AnswerEngine) -> None:
    """« … a-t-il été créé ? » about a plan's action: the answer quotes the plan and says that the documents
    tell what was planned, not what came of it; a fiche with a status (« Action terminée ») says it itself."""
    answer = engine.ask("le comité des usagers du schéma de l'Isère a-t-il été créé ?", "professionnel")
    notices = [b for b in answer.blocks if b.kind == BlockKind.NOTICE]
    assert not answer.refused and notices and "ne disent pas si cela a été réalisé" in notices[0].text
    ended = engine.ask("le groupe parents d'enfants confiés à Firminy a-t-il été mis en place ?", "famille")
    assert "action terminée" in ended.body.lower() and "réalisé" not in ended.body


def test_a_line_of_names_introduces_the_sentence_under_it() -> None:
    """« « La Clef » et « La Clef des Alpes » » over « Le service … est ouvert … »: the sentence is said of them."""
    text = "« La Clef » et « La Clef des Alpes »\nLe service d'accueil de jour est ouvert le mercredi de 10 H à 17 H.\n"
    fiche = _fiche(text, "Amplitude")
    assert [u.text for u in fiche.units] == [
        "« La Clef » et « La Clef des Alpes » : Le service d'accueil de jour est ouvert le mercredi de 10 H à 17 H."
    ]


def test_the_hours_of_the_service_named_lead(engine: AnswerEngine) -> None:
    """« la clef des petits c ouvert quand ? »: the lead is the hours of « La Clef des Petits », not those of
    « La Clef » et « La Clef des Alpes » (the same fiche gives both)."""
    petits = _lead(engine.ask("la clef des petits c ouvert quand ? jai un bebe de 8 mois", "famille"))
    assert "« La Clef des Petits »" in petits and "Lundi et jeudi de 9h à 12h 30" in petits
    alpes = _lead(engine.ask("La Clef des Alpes, c'est ouvert quand ?", "famille"))
    assert "le mercredi de 10 H à 17 H" in alpes


def test_the_likeliest_sentence_is_said_when_the_hours_lead(engine: AnswerEngine) -> None:
    """« ouvert pendant les vacances ? » asks for hours, so the timetable leads; the sentence on the holidays,
    which the model finds likelier, still follows it, even though the timetable used most of the words."""
    answer = engine.ask("La Clef, c'est ouvert aussi pendant les vacances de Noël ?", "famille")
    assert "le mercredi de 10 H à 17 H" in _lead(answer)
    assert "la semaine entre Noël et le Jour de l’an" in answer.text


def test_the_likeliest_sentence_is_said_when_it_is_too_long_to_lead() -> None:
    """A long sentence is discounted as a lead (a shorter one about as likely reads first), but the sentence
    the model finds likeliest of all is still said, after the lead, even when it is longer than the words left."""
    hit = SectionHit("s", "d", "corpus/sources/x.txt", "Fiche 1", 1, 9, 1.0, ())

    def scored(text: str, probability: float, order: int) -> Scored:
        return Scored(Candidate(Unit(text, (), "", 0.0, order), 0, ()), probability)

    long = scored("Le programme accompagne " + "les enfants de 2 à 16 ans " * 12 + "et leurs parents.", 0.7, 0)
    short = scored("Le programme a lieu au Chambon-Feugerolles.", 0.3, 1)
    other = scored("Une cellule de veille se réunit dix fois par an.", 0.25, 2)
    plan = shape([hit], [long, short, other], Budget(max_words=60, min_probability=0.1), max_sections=3)
    assert plan.lead is short
    said = [s for _, lines in plan.cards for s in lines]
    assert long in said and other not in said  # the long one used up the words left


def test_the_items_next_to_a_list_item_said_are_said_too() -> None:
    """An item of a list that the answer says brings the items next to it when the model gives them at least half
    the floor, beyond the card's line limit: the list is read whole, not cut after its likeliest item. A sentence
    as unlikely that is not an item next to one stays out."""
    hit = SectionHit("s", "d", "corpus/sources/x.txt", "Fiche 1", 1, 9, 1.0, ())

    def scored(text: str, probability: float, order: int, field: str, item: bool) -> Scored:
        return Scored(Candidate(Unit(text, (), field, 0.0, order, item), 0, ()), probability)

    lead = scored("La réunion a lieu deux fois par an au centre social.", 0.8, 0, "Contenu", False)
    first = scored("1ère partie : informations pratiques sur les droits.", 0.5, 1, "Déroulement", True)
    second = scored("2ème partie : les effets de la séparation sur les enfants.", 0.1, 2, "Déroulement", True)
    third = scored("3ème partie : questions ouvertes du public et échange.", 0.08, 3, "Déroulement", True)
    apart = scored("Le public est informé par voie d'affiches dans les mairies.", 0.1, 5, "Communication", False)
    budget = Budget(max_words=80, lead_card_lines=1, min_probability=0.15, relative_probability=0.1)
    plan = shape([hit], [lead, first, second, third, apart], budget, max_sections=3)
    said = [s for _, lines in plan.cards for s in lines]
    assert plan.lead is lead
    assert said == [first, second, third]
    # an item that is not next to one said, or is too unlikely, stays out (items without numbers: a numbered
    # sequence is said whole, below)
    plain = scored("Des informations pratiques sur les droits.", 0.5, 1, "Déroulement", True)
    away = scored("Des questions ouvertes du public et un échange.", 0.08, 3, "Déroulement", True)
    low = scored("Un support écrit remis à chacun.", 0.05, 4, "Déroulement", True)
    plan = shape([hit], [lead, plain, away, low], budget, max_sections=3)
    assert [s for _, lines in plan.cards for s in lines] == [plain]


def test_a_numbered_sequence_is_said_whole_the_first_part_leading() -> None:
    """One part of « 1ère partie … 4ème partie » said brings the others, however unlikely; when a later part
    led, the first part leads and the others follow in order."""
    hit = SectionHit("s", "d", "corpus/sources/x.txt", "Fiche 1", 1, 9, 1.0, ())

    def scored(text: str, probability: float, order: int) -> Scored:
        return Scored(Candidate(Unit(text, (), "Déroulement", 0.0, order, True), 0, ()), probability)

    first = scored("1ère partie : informations pratiques sur les droits.", 0.3, 1)
    second = scored("2ème partie : les effets de la séparation sur les enfants.", 0.8, 2)
    third = scored("3ème partie : questions ouvertes du public et échange.", 0.01, 3)
    fourth = scored("4ème partie : remise d'un support écrit.", 0.01, 4)
    budget = Budget(max_words=80, lead_card_lines=1, min_probability=0.15, relative_probability=0.1)
    plan = shape([hit], [first, second, third, fourth], budget, max_sections=3)
    assert plan.lead is first
    assert [s for _, lines in plan.cards for s in lines] == [second, third, fourth]


def test_a_numbered_part_keeps_its_number_and_a_whole_item_its_capital() -> None:
    """« 1ère partie : » says where an item stands: it is not dropped as an objectives label is. A list item that
    starts in lower case but is a whole sentence that no lead-in took is quoted with a capital."""
    assert shown_text("1ere partie : informations pratiques : accès aux droits", "Objectifs opérationnels") == (
        "1ere partie : informations pratiques : accès aux droits"
    )
    objective = shown_text("Objectif général : Accompagner les parents", "Objectifs opérationnels")
    assert objective == "Accompagner les parents"
    text = (
        "Déroulement de la journée :\n- Le matin au choix une activité entre kayak et balade.\n"
        "- repas partagé chacun apporte un salé et un sucré (participation de 5€ des familles).\n"
        "- pétanque\n"
    )
    fiche = _fiche(text)
    texts = [u.text for u in fiche.units]
    assert "Repas partagé chacun apporte un salé et un sucré (participation de 5€ des familles)." in texts
    assert "pétanque" in texts  # two words, no full stop: not a sentence of its own


def test_context_sections_table_examples() -> None:
    """`data/context_sections.toml`: titles of parts that describe the département, and of parts that do not."""
    table = tomllib.loads(CONTEXT_FILE.read_text(encoding="utf-8"))
    for title in table["examples"]:
        assert context_section(title), title
    for title in table["counterexamples"]:
        assert not context_section(title), title
    assert context_asked(("figures_dates",)) and not context_asked(("public", "contact"))


def test_each_service_keeps_its_own_phone_in_a_contact_block() -> None:
    """The cleaned page has no blank line between two services' addresses: a phone stays with the address
    above it, and the next service's name starts its own unit."""
    text = (
        "Personne à contacter : Madame Durand\nDirectrice\n"
        "Accueil de jour « Le Phare »\n12, rue des Lilas\n38000 Grenoble\nTél. : 04.76.00.00.01\n"
        "Email: phare@example.fr\n"
        "Accueil de jour « La Balise »\n3, avenue des Alpes\n38300 Bourgoin-Jallieu\nTél : 04 74 00 00 02"
    )
    fiche = _fiche(text)
    texts = [u.text for u in fiche.units]
    assert texts == [
        "Personne à contacter : Madame Durand Directrice Accueil de jour « Le Phare » 12, rue des Lilas 38000 "
        "Grenoble Tél. : 04.76.00.00.01 Email: phare@example.fr",
        "Accueil de jour « La Balise » 3, avenue des Alpes 38300 Bourgoin-Jallieu Tél : 04 74 00 00 02",
    ]


def test_the_phone_asked_is_the_named_services_own(engine: AnswerEngine) -> None:
    lead = _lead(engine.ask("vs avez le tel de la clef des alpes a bourgoin svp", "famille"))
    assert "04 74 93 50 58" in lead and "04.74.33.37.18" not in lead


def test_a_question_in_sms_is_answered_from_the_fiche_it_names(engine: AnswerEngine) -> None:
    """« cest », « bb » are no words of the sources: read as unknown words they made the question's subject
    look absent from the passage that holds the hours, and the question was refused."""
    answer = engine.ask("allo pmi on peut appeler a quelle heure? cest pour mon bb de 2 mois qui boit mal", "famille")
    assert not answer.refused and "9h-13h/13h-17h" in _lead(answer)


def test_a_term_is_defined_once_not_by_two_glossaries(engine: AnswerEngine) -> None:
    """The Isère schémas' two glossaries spell AEMO out differently; the answer gives one of them."""
    answer = engine.ask("Dans le schéma enfance famille de l'Isère, AED et AEMO, ça veut dire quoi ?", "famille")
    body = answer.body
    assert "AEMO : Assistance éducative en milieu ouvert" in body
    assert "Action éducative en milieu ouvert" not in body


def test_a_timetable_is_one_unit_its_lines_kept_apart() -> None:
    """Lines that each start with a weekday are one service's hours: one unit, not three sentences and a
    card of fragments (« Samedi : si nécessité Une partie des vacances… »)."""
    text = (
        "Heures d'ouverture :\nLundi et jeudi de 9h à 12h\nLundi entre 12h et 14h permanence téléphonique.\n"
        "Mardi de 9h à 13h.\nMercredi : si nécessité\nSamedi : si nécessité\nUne partie des vacances scolaires.\n"
        "Les enfants sont toujours accompagnés de leurs parents."
    )
    fiche = _fiche(text)
    assert [u.text for u in fiche.units] == [
        "Heures d'ouverture : Lundi et jeudi de 9h à 12h ; Lundi entre 12h et 14h permanence téléphonique. "
        "Mardi de 9h à 13h. Mercredi : si nécessité ; Samedi : si nécessité ; Une partie des vacances scolaires.",
        "Les enfants sont toujours accompagnés de leurs parents.",
    ]


def test_the_contacts_shown_are_those_of_the_service_named() -> None:
    """A fiche with an association's head office and two services: the service the question names comes
    first and its sibling (« La Balise » beside « la balise des alpes ») is left out; the association stays;
    « la balise » alone does not leave out « La Balise des Alpes »; a question naming none keeps the order."""
    text = (
        "Association « Le Port » 1, rue du Port 38000 Grenoble\n\n"
        "Accueil de jour « La Balise » 12, rue des Lilas 38000 Grenoble Tél. : 04.76.00.00.01\n\n"
        "Accueil de jour « La Balise des Alpes » 3, avenue des Alpes 38300 Bourgoin-Jallieu Tél : 04 74 00 00 02"
    )
    fiche = _fiche(text)

    def phones(question: str) -> list[str]:
        return [u.text.rsplit(": ", 1)[-1] if "Tél" in u.text else "siège" for u in fiche.contacts(3, question)]

    assert phones("le tel de la balise des alpes svp") == ["04 74 00 00 02", "siège"]
    assert phones("la balise c'est ouvert quand ?") == ["04.76.00.00.01", "siège", "04 74 00 00 02"]
    assert phones("différence entre la balise et la balise des alpes ?") == [
        "04.76.00.00.01",
        "04 74 00 00 02",
        "siège",
    ]
    assert phones("un accueil de jour près de chez moi ?") == ["siège", "04.76.00.00.01", "04 74 00 00 02"]
    assert another_service(fiche.units[1].text, fiche.services_asked("le tel de la balise des alpes svp"))


def test_an_amount_asked_leads_with_the_sentence_that_gives_it(engine: AnswerEngine) -> None:
    """« ça coute combien ? »: the lead is the sentence with the amount, not the service's address."""
    answer = engine.ask("la clef (accueil de jour) ca coute combien par jour ?", "famille")
    assert "74,16 €" in _lead(answer)


def test_a_fiche_titled_with_the_year_asked_answers_for_that_year(engine: AnswerEngine) -> None:
    """« en 2016 » with a figure asked: the fiche « Sorties familles AED – … – 2016 » is that year's, though
    no sentence of it names the year beside a figure."""
    answer = engine.ask(
        "Sorties familles AED du Gier Ondaine Pilat en 2016 : combien de familles participent à chaque journée ?",
        "professionnel",
    )
    assert not answer.refused and "Entre 7 et 10 familles" in answer.body


def test_a_datum_asked_beside_another_is_said_missing_when_only_the_other_is_held(engine: AnswerEngine) -> None:
    """« on appelle quand ? c'est quel numéro ? »: the fiche gives the hours, not the number; the answer gives
    the hours and says the number is not in the documents (it was refused whole)."""
    answer = engine.ask("allo pmi dans la loire on appelle quand ? cest quel numero ?", "famille")
    assert not answer.refused and "9h-13h/13h-17h" in _lead(answer)
    notices = [b.text for b in answer.blocks if b.kind == BlockKind.NOTICE]
    assert len(notices) == 1 and "ne donnent pas ce numéro" in notices[0]
    both = engine.ask("la clef (accueil de jour) ca coute combien par jour ? et c'est fermé quand ?", "famille")
    assert not [b for b in both.blocks if b.kind == BlockKind.NOTICE]
    # the address the lead gives is not said to be missing
    address = engine.ask("bjr ya un accueil de jour sur bourgoin jalieu ? c a quelle adresse exactement", "famille")
    assert "42, avenue des Alpes" in _lead(address)
    assert not [b for b in address.blocks if b.kind == BlockKind.NOTICE]


def test_a_list_item_the_source_ends_with_and_is_said_without_it(engine: AnswerEngine) -> None:
    # the signatories of the services schéma each end « ; et » (the next one followed in the source)
    assert shown_text("L'Éducation Nationale, ci-après dénommée « la Dasen de l'Isère » ; et", "") == (
        "L'Éducation Nationale, ci-après dénommée « la Dasen de l'Isère »"
    )
    assert shown_text("Le goûter est offert aux enfants et", "") == "Le goûter est offert aux enfants et"
    answer = engine.ask("Qui a signé le schéma départemental des services aux familles de l'Isère ?", "professionnel")
    assert "« l’État »" in answer.body and "; et" not in answer.body and " et ;" not in answer.body, answer.body
