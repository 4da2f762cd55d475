"""A lookup row may carry its own confidence (and notes): the competent authority in a result
reports the confidence of the row that named it, else the table version's."""

from __future__ import annotations

from typing import Any

import pytest

from rules.engine.pack import PackError, dump_pack, parse_pack
from rules.engine.reader_texts import reader_texts

from .made_up import PROVENANCE, pack, run

DECISION = [("decision", "2026-03-02")]


def with_offices(*rows: dict[str, Any], confidence: str = "likely") -> dict[str, Any]:
    """The made-up pack with a table of competent offices whose version is `confidence`."""
    data = pack(authority_table="offices", authority_outcome="office")
    data["lookup_tables"].append(
        {
            "key": "offices",
            "label": "Offices",
            "versions": [{**PROVENANCE, "confidence": confidence, "rows": list(rows)}],
        }
    )
    return data


def offices() -> dict[str, Any]:
    return with_offices(
        {"key": "75", "value": "75", "label": "Office of 75"},
        {"key": "57", "value": "57", "label": "Office of 57", "confidence": "certain"},
        {
            "key": "67",
            "value": "57",
            "label": "Office of 57",
            "confidence": "unsure",
            "notes": "The order may have moved 67 to its own office.",
        },
    )


def test_the_authority_reports_its_rows_own_confidence() -> None:
    assert run(offices(), DECISION, department="57")["office"] == {
        "department": "57",
        "name": "Office of 57",
        "confidence": "certain",
    }
    assert run(offices(), DECISION, department="67")["office"]["confidence"] == "unsure"


def test_a_row_without_a_confidence_has_the_table_versions() -> None:
    assert run(offices(), DECISION, department="75")["office"]["confidence"] == "likely"


def test_no_row_no_authority() -> None:
    assert run(offices(), DECISION, department="971")["office"] is None


def test_row_confidence_and_notes_round_trip_and_are_left_out_when_empty() -> None:
    dumped = dump_pack(parse_pack(offices()))
    rows = dumped["lookup_tables"][1]["versions"][0]["rows"]
    assert rows[0] == {"key": "75", "value": "75", "label": "Office of 75"}
    assert rows[1] == {"key": "57", "value": "57", "label": "Office of 57", "confidence": "certain"}
    assert rows[2]["notes"] == "The order may have moved 67 to its own office."
    assert parse_pack(dumped) == parse_pack(offices())


def test_an_empty_row_confidence_means_the_versions() -> None:
    data = with_offices({"key": "75", "value": "75", "label": "Office", "confidence": ""})
    assert parse_pack(data).lookup_tables[1].versions[0].rows[0].confidence == ""
    assert run(data, DECISION)["office"]["confidence"] == "likely"


def test_a_row_confidence_outside_the_versions_choices_is_refused_by_path() -> None:
    data = with_offices({"key": "75", "value": "75", "label": "Office", "confidence": "sure"})
    with pytest.raises(PackError) as caught:
        parse_pack(data)
    assert caught.value.errors == [
        (
            "lookup_tables[1].versions[0].rows[0].confidence",
            "expected one of certain, likely, unsure",
        )
    ]


def test_row_notes_are_reader_texts_to_translate() -> None:
    texts = reader_texts(parse_pack(offices()))
    assert texts["The order may have moved 67 to its own office."] == (
        "lookup_tables[1].versions[0].rows[2].notes"
    )
