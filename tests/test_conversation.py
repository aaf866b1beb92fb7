"""Follow-up questions are rewritten with the history before retrieval."""

from __future__ import annotations

from assistant.conversation import Turn, rewrite_query
from retrieval.analyze import build_analyzer


def test_follow_up_with_a_new_place_replaces_the_old_one() -> None:
    history = [Turn("user", "un groupe de parents à Roanne ?"), Turn("assistant", "…")]
    rewritten = rewrite_query("et à Firminy ?", history, build_analyzer())
    assert "Firminy" in rewritten and "Roanne" not in rewritten and "groupe de parents" in rewritten


def test_short_follow_up_keeps_the_topic() -> None:
    history = [Turn("user", "la Clef des Petits à La Tour du Pin, c'est pour qui ?")]
    assert rewrite_query("c'est ouvert quand ?", history, build_analyzer()).startswith("la Clef des Petits")


def test_standalone_question_is_unchanged() -> None:
    history = [Turn("user", "un groupe de parents à Roanne ?")]
    question = "comment transmettre une information préoccupante à la CRIP de l'Isère ?"
    assert rewrite_query(question, history, build_analyzer()) == question
    assert rewrite_query("et à Firminy ?", [], build_analyzer()) == "et à Firminy ?"
