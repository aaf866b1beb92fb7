"""web/review.py (pure): a question's verdict and its reasons in French, the expected facts marked in an
answer exactly where fact recall finds them, figures per group, and the questions that changed."""

from __future__ import annotations

from typing import Any

from evals.answers import fact_recall, normalize
from web.review import changes, figures, mark_facts, verdict, verdicts

SOURCE = "corpus/sources/loire_fiches_actions_2017_2021.txt"


def item(ident: str, kind: str = "fact", facts: tuple[str, ...] = ("groupes de 5 mamans",)) -> dict[str, Any]:
    gold = [] if kind in ("out_of_scope", "injection") else [{"source": SOURCE, "start_line": 10, "end_line": 20}]
    return {
        "id": ident,
        "audience": "famille",
        "question": f"question {ident} ?",
        "gold": gold,
        "answer_facts": list(facts) if gold else [],
        "kind": kind,
    }


def result(answer: str, rank: int | None = 1, refused: bool = False) -> dict[str, Any]:
    elsewhere = {"source": SOURCE, "start_line": 500, "end_line": 510}
    retrieved = [elsewhere] * 10
    if rank is not None:
        retrieved[rank - 1] = {"source": SOURCE, "start_line": 12, "end_line": 30}
    return {
        "retrieved": retrieved,
        "answer": answer,
        "body": answer,
        "refused": refused,
        "emergency": False,
        "reason": "out_of_scope" if refused else "answered",
        "citations": [],
    }


def joined(pieces: list[tuple[str, bool]]) -> str:
    return "".join(f"<mark>{text}</mark>" if marked else text for text, marked in pieces)


def test_marks_are_found_as_fact_recall_finds_them() -> None:
    answer = "Des  GROUPES de\n5 Mamans à Firminy ; l'Ensemble du département (prêt d’écharpe)."
    facts = ["groupes de 5 mamans", "l'ensemble du departement", "Prêt d'écharpe", "absent ici"]
    pieces = mark_facts(answer, facts)
    assert "".join(text for text, _ in pieces) == answer  # nothing lost or added
    assert joined(pieces) == (
        "Des  <mark>GROUPES de\n5 Mamans</mark> à Firminy ; <mark>l'Ensemble du département</mark> "
        "(<mark>prêt d’écharpe</mark>)."
    )
    for fact in facts:  # marked exactly when the metric counts it found
        marked = any(normalize(text) == normalize(fact) for text, flag in pieces if flag)
        assert marked == (fact_recall([fact], answer) == 1.0), fact


def test_every_occurrence_is_marked_and_no_fact_marks_nothing() -> None:
    assert joined(mark_facts("119, puis 119.", ["119"])) == "<mark>119</mark>, puis <mark>119</mark>."
    assert mark_facts("texte", []) == [("texte", False)] and mark_facts("", ["x"]) == []


def test_verdicts_say_why_in_french() -> None:
    passed = verdict(0, item("a"), result("Des groupes de 5 mamans."))
    assert passed.ok and passed.found == ("groupes de 5 mamans",) and passed.rank == 1
    late = verdict(1, item("b", facts=("groupes de 5 mamans", "à domicile")), result("groupes de 5 mamans", rank=7))
    assert late.problems == ("bonne fiche hors des 5 premières (au rang 7)", "faits attendus manquants : 1 sur 2")
    assert late.missing == ("à domicile",)
    refused = verdict(2, item("c"), result("Je ne peux pas répondre.", refused=True))
    assert refused.problems == ("pas de réponse à une question du champ",)
    answered_oos = verdict(3, item("d", kind="out_of_scope"), result("Voici une réponse."))
    assert answered_oos.problems == ("question hors du champ des sources non refusée",)
    missing = verdict(4, item("e"), result("rien", rank=None))
    assert missing.problems[0] == "bonne fiche hors des 5 premières (absente des sections trouvées)"


def test_figures_per_group() -> None:
    rows = verdicts(
        [item("a"), item("b"), item("c", kind="out_of_scope")],
        [result("groupes de 5 mamans"), result("rien", rank=3), result("non", refused=True)],
    )
    by_group = {f.group: f for f in figures(rows)}
    assert list(by_group) == ["overall", "kind:out_of_scope", "kind:fact", "audience:famille"]
    overall = by_group["overall"]
    assert (overall.n, overall.passed, overall.hit1, overall.hit5, overall.facts) == (3, 2, 0.5, 1.0, 0.5)
    assert by_group["kind:out_of_scope"].handled == 1.0 and by_group["kind:out_of_scope"].hit5 is None
    assert by_group["kind:fact"].label == "fait précis"


def test_changes_between_two_runs() -> None:
    items = [item("a"), item("b"), item("c")]
    before = verdicts(items, [result("groupes de 5 mamans"), result("rien"), result("groupes de 5 mamans")])
    after = verdicts(
        [*items[:2], item("d")], [result("rien"), result("groupes de 5 mamans"), result("groupes de 5 mamans")]
    )
    found = [
        (c.item["id"], c.before is not None and c.before.ok, c.after is not None and c.after.ok)
        for c in changes(before, after)
    ]
    # newly failing first; then newly passing; questions in one run only are listed too; none unchanged
    assert found[0] == ("a", True, False)
    assert set(found[1:]) == {("b", False, True), ("c", True, False), ("d", False, True)}
    assert changes(before, before) == []
