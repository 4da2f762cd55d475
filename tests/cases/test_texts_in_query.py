"""The database reads a deadline's texts as the Python helpers do: the CSV export takes the
label, explanation and warnings in the reader's language from `texts_in_query` (worked out by
PostgreSQL or SQLite), the pages from `text_in` and `warnings_in`; on every shape of stored texts,
old rows and missing languages included, and with the case's own warnings (Case.case_warnings), both
give the same."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User

from cases.models import (
    Case,
    Deadline,
    Organisation,
    merged_warnings,
    text_in,
    texts_in_query,
    warning_list,
    warnings_in,
)
from rules.models import PackVersion
from rules.services import today
from tests.cases.personas import make_case

HORIZON = {"code": "review_horizon", "title": "Revue", "message": "Droit non revu; « vérifiez »."}
HORIZON_EN = {"code": "review_horizon", "title": "Review", "message": "Law not reviewed."}
SHAPES: dict[str, Any] = {
    "both languages, warnings": {
        "fr": {"label": "Recours", "explanation": "1 mois", "warnings": [HORIZON]},
        "en": {"label": "Appeal", "explanation": "1 month", "warnings": [HORIZON_EN]},
    },
    "French only (stored before English)": {
        "fr": {"label": "Recours", "explanation": "1 mois", "warnings": [HORIZON]},
    },
    "English without a label: French warnings": {
        "fr": {"label": "Recours", "explanation": "1 mois", "warnings": [HORIZON]},
        "en": {"explanation": "1 month", "warnings": [HORIZON_EN]},
    },
    "empty texts: the stored columns": {
        "fr": {"label": "", "explanation": "", "warnings": []},
        "en": {"label": "", "explanation": ""},
    },
    "null texts": {"fr": {"label": None, "explanation": None}, "en": {"label": None}},
    "no texts at all (an old row)": {},
    "a warning that is not an object": {
        "fr": {"label": "Recours", "explanation": "1 mois", "warnings": ["x", HORIZON, 3]},
        "en": {"label": "Appeal", "explanation": "1 month", "warnings": [None]},
    },
    "no warnings key": {
        "fr": {"label": "Recours", "explanation": "1 mois"},
        "en": {"label": "Appeal", "explanation": "1 month"},
    },
}


PILOT = {"code": "pole_france_asile", "title": "Pôle", "message": "Dépôt auprès de l'OFPRA."}
PILOT_EN = {"code": "pole_france_asile", "title": "Pilot", "message": "Lodged with OFPRA."}
# The case's own warnings (Case.case_warnings), merged with the row's by every reader.
CASE_SHAPES: dict[str, Any] = {
    "none": {},
    "both languages": {"fr": [PILOT], "en": [PILOT_EN]},
    "French only": {"fr": [PILOT]},
    "also copied in the row (stored before 0017)": {"fr": [HORIZON], "en": [HORIZON_EN]},
}

READ = ("label_text", "explanation_text", "warnings_json", "case_warnings_json")


@pytest.fixture
def deadline(asylum_pack: PackVersion, org_a: Organisation, carla: User) -> Deadline:
    case = make_case(
        org_a, carla, asylum_pack, events=[("registration", today() - dt.timedelta(days=2))]
    )
    found = case.deadlines.first()
    assert found is not None
    return found


@pytest.mark.parametrize("case_shape", list(CASE_SHAPES))
@pytest.mark.parametrize("language", ["fr", "en", "en-gb"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_database_reads_the_texts_as_the_pages_do(
    deadline: Deadline, shape: str, language: str, case_shape: str
) -> None:
    texts = SHAPES[shape]
    Deadline.objects.filter(pk=deadline.pk).update(
        texts=texts, label="Stored label", explanation="Stored explanation"
    )
    Case.objects.filter(pk=deadline.case_id).update(case_warnings=CASE_SHAPES[case_shape])
    label, explanation, warnings, case_warnings = (
        Deadline.objects.filter(pk=deadline.pk)
        .annotate(**texts_in_query(language))
        .values_list(*READ)
        .get()
    )
    assert label == text_in(texts, language, "label", "Stored label")
    assert explanation == text_in(texts, language, "explanation", "Stored explanation")
    assert merged_warnings(warning_list(case_warnings), warning_list(warnings)) == warnings_in(
        texts, language, CASE_SHAPES[case_shape]
    )


def test_the_comparison_sees_a_fallback_and_a_missing_warning() -> None:
    """The shapes above are not all alike: the helpers fall back and drop non-warnings."""
    french_only = SHAPES["French only (stored before English)"]
    assert text_in(french_only, "en", "label", "Stored") == "Stored"
    assert warnings_in(french_only, "en") == [HORIZON]
    assert warnings_in(SHAPES["English without a label: French warnings"], "en") == [HORIZON]
    assert warnings_in(SHAPES["a warning that is not an object"], "fr") == [HORIZON]
    assert warning_list(None) == []
    assert warnings_in(SHAPES["no warnings key"], "en", {"fr": [PILOT]}) == [PILOT]
    both = SHAPES["both languages, warnings"]
    assert warnings_in(both, "en", CASE_SHAPES["both languages"]) == [PILOT_EN, HORIZON_EN]
    assert warnings_in(both, "fr", {"fr": [HORIZON]}) == [HORIZON]  # one per code
    assert warning_list("null") == []
