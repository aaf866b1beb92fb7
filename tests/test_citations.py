"""Citation markers and the verified-contacts rule."""

from __future__ import annotations

from assistant.citations import contacts, markers, repair_markers, strip_unverified_contacts, unverified_contacts

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
