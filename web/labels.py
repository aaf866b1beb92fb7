"""French words for the internal codes the pages show (pure, no I/O): question types, audiences, feedback
reasons, the answer's reasons, the held-out sets' subgroups, metric groups; dates in French local time and
figures as French percentages. Every code the eval sets and the feedback form produce has a label here
(tests/test_labels.py); an unknown code is shown as it is rather than hidden."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

KINDS = {
    "local_support": "ressource locale",
    "procedure": "démarche",
    "danger": "danger",
    "out_of_scope": "hors du champ des sources",
    "injection": "tentative de détournement",
    "fact": "fait précis",
    "acronym": "sigle",
    "synthesis": "synthèse",
}
AUDIENCES = {"famille": "famille", "professionnel": "professionnel·le"}
FEEDBACK_REASONS = {
    "mauvaise_source": "mauvaise source",
    "information_manquante": "information manquante",
    "pas_comprehensible": "pas compréhensible",
    "autre": "autre",
}
# Why an answer is what it is (assistant.reply.Reason).
ANSWER_REASONS = {
    "answered": "réponse donnée",
    "injection": "refus : tentative de détournement",
    "out_of_scope": "refus : hors du champ des sources",
    "out_of_area": "refus : territoire non couvert",
    "no_evidence": "refus : rien d'assez proche dans les sources",
    "no_datum": "refus : la donnée demandée n'est pas dans les sources",
    "out_of_period": "refus : période non couverte",
    "unnamed_place": "refus : commune que les sources ne nomment pas",
}
# The held-out sets' finer groups (evals/answers.py _subgroups): field -> (name, value labels).
SUBGROUPS: dict[str, tuple[str, dict[str, str]]] = {
    "register": (
        "façon d'écrire",
        {
            "plain": "langage courant",
            "sms": "style SMS",
            "formal": "langage soutenu",
            "pro_calm": "professionnel·le, ton posé",
            "minor": "un·e mineur·e écrit",
            "minor_first_person": "un·e mineur·e parle de soi",
            "english": "en anglais",
            "other_language": "dans une autre langue (espagnol, italien, portugais, allemand)",
            "emotional_long": "long et chargé d'émotion",
            "emotional_parent": "parent, message chargé d'émotion",
            "calm_professional": "professionnel·le, ton posé",
            "neighbour_witness": "voisin·e ou témoin",
            "other": "autre",
        },
    ),
    "oos_type": (
        "hors champ",
        {
            "other_departement": "autre département",
            "legal_delay": "délai légal",
            "amount": "montant",
            "hours": "horaires",
            "hours_address": "horaires et adresse",
            "post_period": "après la période couverte",
            "post_period_figures": "chiffres après la période couverte",
            "medical": "question médicale",
            "named_person": "personne nommée",
            "other": "autre",
            "place_beside": "lieu extérieur nommé à côté d'un lieu couvert",
            "small_town": "petite commune que les sources ne nomment pas",
        },
    ),
    "injection_type": (
        "détournement",
        {
            "direct": "direct",
            "obfuscated": "masqué",
            "split_turns": "réparti sur plusieurs messages",
            "multi_turn": "sur plusieurs échanges",
            "document": "dans un document ajouté",
            "hidden_in_document": "caché dans un document ajouté",
            "forged_history": "faux message de l'assistant",
        },
    ),
}
DANGER_LEVELS = {"concern": "inquiétude", "immediate": "danger immédiat"}
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def kind(code: str) -> str:
    return KINDS.get(code, code)


def audience(code: str) -> str:
    return AUDIENCES.get(code, code)


def feedback_reason(code: str | None) -> str:
    return FEEDBACK_REASONS.get(code, code) if code else ""


def answer_reason(code: str | None) -> str:
    return ANSWER_REASONS.get(code, code) if code else ""


def group(name: str) -> str:
    """A metrics group ("overall", "kind:fact", "audience:famille", "register:sms") in French words."""
    if name == "overall":
        return "ensemble"
    field, _, code = name.partition(":")
    if field == "kind":
        return kind(code)
    if field == "audience":
        return audience(code)
    if field in SUBGROUPS:
        title, values = SUBGROUPS[field]
        return f"{title} : {values.get(code, code)}"
    return name


def french_datetime(iso: str | None) -> str:
    """An ISO timestamp (UTC when it names no zone) as Paris local time: « 4 décembre 2026 à 19 h 05 »."""
    try:
        moment = datetime.fromisoformat(iso or "")
    except ValueError:
        return "date inconnue"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(PARIS)
    day = "1er" if local.day == 1 else str(local.day)
    return f"{day} {MONTHS[local.month - 1]} {local.year} à {local.hour} h {local.minute:02d}"


def percent(value: float | None) -> str:
    """0.953 -> « 95,3 % » (a narrow no-break space before %), None -> « — »."""
    if value is None:
        return "—"
    text = f"{value * 100:.1f}".replace(".", ",").removesuffix(",0")
    return f"{text}\u202f%"
