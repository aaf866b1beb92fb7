"""Citation markers and the verified-contacts rule."""

from __future__ import annotations

from assistant.citations import (
    contacts,
    markers,
    neutralise,
    repair_markers,
    strip_unverified_contacts,
    unverified_contacts,
)

SOURCE = "Accueil de jour\n895, route de St Didier\n38110 St Clair de la Tour\nTél. : 04.74.33.37.18\nLundi de 9h à 12h"


def test_markers_and_repair() -> None:
    assert markers("A [1], B [3] et C [12].") == [1, 3, 12]
    assert repair_markers("A [1], B [3] et C [12].", valid=[1, 3]) == "A [1], B [3] et C ."


def test_contacts_found_by_kind() -> None:
    kinds = {kind for kind, _ in contacts(SOURCE + " contact@oned.gouv.fr")}
    assert kinds == {"phone", "address", "hours", "email"}


def test_contacts_in_sources_are_kept_others_removed() -> None:
    answer = "Appelez le 04 74 33 37 18 [1] ou le 04 76 00 00 00, écrivez à faux@exemple.fr ; urgence : 119."
    assert unverified_contacts(answer, [SOURCE]) == ["04 76 00 00 00", "faux@exemple.fr"]
    cleaned = strip_unverified_contacts(answer, [SOURCE])
    assert "04 74 33 37 18" in cleaned and "04 76 00 00 00" not in cleaned and "faux@" not in cleaned
    assert "119" in cleaned  # national numbers are not contact details to verify


def test_quoted_source_keeps_an_autolink_address_and_drops_markup() -> None:
    quoted = neutralise("Le site CLEF : <http://clef.viabloga.com/> qui présente la CLEF <b>[2]</b>")
    assert "http://clef.viabloga.com/" in quoted  # a Markdown autolink is the address itself
    assert "<" not in quoted and "[2]" not in quoted and "(2)" in quoted
    assert neutralise("voir [le bilan](http://exemple.fr/bilan.pdf)") == "voir le bilan"
    assert "script" not in neutralise('<script src="http://x.fr/a.js">') and "<" not in neutralise("<a href=x>y</a>")
