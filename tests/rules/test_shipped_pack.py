"""The shipped asylum-reexamination pack says what the spec says, and says how sure it is."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from rules.engine.pack import PackDefinition, Provenance, parse_pack

PACK_FILE = Path(__file__).resolve().parents[2] / "rules/packs/asylum-reexamination/pack.json"


@pytest.fixture(scope="module")
def pack() -> PackDefinition:
    return parse_pack(json.loads(PACK_FILE.read_text(encoding="utf-8")))


def test_each_of_the_96_metropolitan_departments_has_exactly_one_competent_prefecture(
    pack: PackDefinition,
) -> None:
    table = pack.lookup_table(pack.authority_table)
    assert table is not None
    (version,) = table.versions
    counts = Counter(row.key for row in version.rows)
    assert len(counts) == 96
    assert set(counts.values()) == {1}
    expected = {f"{n:02d}" for n in range(1, 96) if n != 20} | {"2A", "2B"}
    assert set(counts) == expected


def test_every_prefecture_department_is_itself_a_department_it_serves_or_a_known_code(
    pack: PackDefinition,
) -> None:
    table = pack.lookup_table(pack.authority_table)
    assert table is not None
    rows = {row.key: row for row in table.versions[0].rows}
    for row in rows.values():
        # A prefecture registers its own department's applicants too.
        assert rows[row.value].value == row.value, row


def test_caen_is_in_calvados_not_in_the_manche_as_the_2019_page_printed(
    pack: PackDefinition,
) -> None:
    table = pack.lookup_table(pack.authority_table)
    assert table is not None
    rows = {row.key: row for row in table.versions[0].rows}
    assert rows["50"].value == "14"
    assert "Caen" in rows["50"].label
    assert "(50)" in table.versions[0].notes


def test_alsace_moselle_departments_use_the_moselle_holiday_calendar(pack: PackDefinition) -> None:
    table = pack.lookup_table(pack.department_table)
    assert table is not None
    rows = {row.key: row.value for row in table.versions[0].rows}
    assert {code for code, subdivision in rows.items() if subdivision == "57"} == {"57", "67", "68"}
    for overseas in ("971", "972", "973", "974", "976"):
        assert rows[overseas] == overseas


def test_every_rule_version_cites_a_basis_a_source_and_a_confidence(pack: PackDefinition) -> None:
    versions: list[Provenance] = [v for rule in pack.deadline_rules for v in rule.versions]
    versions += [r for outcome in pack.outcomes for r in outcome.rules]
    versions += list(pack.warnings) + list(pack.milestones)
    versions += [v for table in pack.lookup_tables for v in table.versions]
    assert len(versions) > 25
    for version in versions:
        assert version.legal_basis.strip(), version
        assert version.source_title.strip(), version
        assert version.confidence in ("certain", "likely", "unsure"), version


def test_what_the_spec_marks_unsure_stays_unsure(pack: PackDefinition) -> None:
    rules = {rule.key: rule for rule in pack.deadline_rules}
    file_completion = {v.legal_basis: v.confidence for v in rules["file_completion"].versions}
    assert file_completion == {"CESEDA R723-15": "unsure", "CESEDA R531-37": "certain"}
    assert {v.confidence for v in rules["cnda_appeal"].versions} == {"unsure"}
    assert {v.confidence for v in rules["registration"].versions} == {"likely"}


def test_the_2019_pages_seven_days_for_admissibility_is_kept_as_a_note_not_a_rule(
    pack: PackDefinition,
) -> None:
    rules = {rule.key: rule for rule in pack.deadline_rules}
    for version in rules["ofpra_admissibility"].versions:
        assert version.offset == 8
        assert "7 days" in version.notes


def test_article_numbers_change_on_1_may_2021(pack: PackDefinition) -> None:
    import datetime as dt

    before, after = dt.date(2021, 4, 30), dt.date(2021, 5, 1)
    rules = {rule.key: rule for rule in pack.deadline_rules}
    bases = {
        key: (
            {v.legal_basis for v in rules[key].versions if v.in_force_on(before)},
            {v.legal_basis for v in rules[key].versions if v.in_force_on(after)},
        )
        for key in ("registration", "ofpra_submission", "cnda_appeal")
    }
    assert bases == {
        "registration": ({"CESEDA L741-1"}, {"CESEDA L521-4"}),
        "ofpra_submission": ({"CESEDA R723-15"}, {"CESEDA R531-36"}),
        "cnda_appeal": ({"CESEDA L731-2"}, {"CESEDA L532-1"}),
    }


def test_no_shipped_deadline_moves_off_a_non_working_day(pack: PackDefinition) -> None:
    policies = {v.non_working_day_policy for rule in pack.deadline_rules for v in rule.versions}
    assert policies == {"flag"}


def test_the_review_horizon_is_a_pack_setting(pack: PackDefinition) -> None:
    import datetime as dt

    assert pack.reviewed_until == dt.date(2026, 6, 11)
