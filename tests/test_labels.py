"""web/labels.py: every code the eval sets, the eval metrics and the feedback form can produce has a French
label; dates in Paris local time; figures as French percentages."""

from __future__ import annotations

import json

import pytest

from assistant.reply import Reason
from evals.check import AUDIENCES, DANGER_LEVELS, KINDS
from web import labels
from web.feedback import REASONS
from web.review import groups_of

from .conftest import ROOT

EVAL_FILES = sorted((ROOT / "evals").rglob("*.jsonl"))


def eval_items() -> list[dict[str, object]]:
    items = []
    for path in EVAL_FILES:
        items += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return items


def test_every_kind_audience_reason_and_level_has_a_label() -> None:
    assert set(KINDS) <= labels.KINDS.keys()
    assert set(AUDIENCES) <= labels.AUDIENCES.keys()
    assert set(REASONS) <= labels.FEEDBACK_REASONS.keys()
    assert {reason.value for reason in Reason} <= labels.ANSWER_REASONS.keys()
    assert set(DANGER_LEVELS) <= labels.DANGER_LEVELS.keys()
    assert labels.feedback_reason("pas_comprehensible") == "pas compréhensible"
    assert labels.kind("local_support") == "ressource locale" and labels.audience("professionnel") == "professionnel·le"


def test_every_group_of_every_eval_file_reads_in_french() -> None:
    """The groups the run pages show (overall, kind, audience, the held-out sets' subgroups): none is left
    as its code, and none shows an underscore or an English metric name."""
    assert EVAL_FILES, "no eval file found"
    names = {name for item in eval_items() for name in groups_of(item)}
    assert {"overall", "kind:local_support", "audience:famille", "register:sms", "oos_type:amount"} <= names
    for name in names:
        label = labels.group(name)
        field, _, code = name.partition(":")
        assert label != name and "_" not in label and ":" not in label.replace(" : ", ""), (name, label)
        if field in labels.SUBGROUPS:
            assert code in labels.SUBGROUPS[field][1], name


def test_an_unknown_code_is_shown_as_it_is() -> None:
    assert labels.kind("nouveau_type") == "nouveau_type" and labels.group("autre:x") == "autre:x"


@pytest.mark.parametrize(
    ("iso", "french"),
    [
        ("2026-12-04T18:05:00+00:00", "4 décembre 2026 à 19 h 05"),  # winter: UTC+1
        ("2026-07-01T10:00:00.123456+00:00", "1er juillet 2026 à 12 h 00"),  # summer: UTC+2
        ("2026-03-29T00:59:59", "29 mars 2026 à 1 h 59"),  # no zone: UTC, just before the change
        ("2026-03-29T01:00:00+00:00", "29 mars 2026 à 3 h 00"),  # just after it
        ("2026-08-15T23:30:00+00:00", "16 août 2026 à 1 h 30"),  # the next day in Paris
        ("", "date inconnue"),
        ("hier", "date inconnue"),
    ],
)
def test_dates_in_paris_local_time(iso: str, french: str) -> None:
    assert labels.french_datetime(iso) == french


def test_percentages() -> None:
    assert labels.percent(0.9534) == "95,3\u202f%"
    assert labels.percent(1.0) == "100\u202f%" and labels.percent(0.0) == "0\u202f%"
    assert labels.percent(None) == "—"
