"""Rule versions limited to some departments: they win there, and may not overlap each other."""

from __future__ import annotations

import pytest

from rules.engine.pack import PackError, dump_pack, parse_pack

from .made_up import PROVENANCE, filing, pack, run, versions

DECISION = [("decision", "2026-03-02")]


def overseas_pack() -> dict[str, object]:
    data = pack()
    general = versions(data)[0]
    versions(data).append(
        {**general, "version": 2, "offset": 7, "departments": ["971"], "legal_basis": "Art. 9"}
    )
    return data


def test_it_applies_a_department_version_only_to_its_departments() -> None:
    data = overseas_pack()
    overseas = filing(run(data, DECISION, department="971"))
    mainland = filing(run(data, DECISION, department="75"))
    assert (overseas["due"], overseas["rule"]["version"], overseas["legal_basis"]) == (
        "2026-03-09",
        2,
        "Art. 9",
    )
    assert (mainland["due"], mainland["rule"]["version"]) == ("2026-03-10", 1)


def test_outside_its_dates_a_department_version_gives_way_to_the_general_one() -> None:
    data = overseas_pack()
    versions(data)[1].update(effective_from="2026-03-05", effective_to="2026-06-30")
    before = filing(run(data, DECISION, department="971"))
    during = filing(run(data, [("decision", "2026-03-05")], department="971"))
    after = filing(run(data, [("decision", "2026-07-01")], department="971"))
    assert [x["rule"]["version"] for x in (before, during, after)] == [1, 2, 1]


def test_it_refuses_two_versions_matching_one_department_on_one_day() -> None:
    data = overseas_pack()
    versions(data).append(
        {**versions(data)[1], "version": 3, "departments": ["57", "971"]}
        | {"effective_from": "2026-05-01"}
    )
    with pytest.raises(PackError) as caught:
        parse_pack(data)
    assert (
        "deadline_rules[0].versions[2].departments",
        "version 3 and version 2 both apply to department 971 on 2026-05-01: end one before "
        "the other starts, or list the department in one only",
    ) in caught.value.errors


def test_versions_for_different_departments_may_be_in_force_together() -> None:
    data = overseas_pack()
    versions(data).append({**versions(data)[1], "version": 3, "departments": ["57"]})
    parsed = parse_pack(data)
    assert [v.departments for v in parsed.deadline_rules[0].versions] == [(), ("971",), ("57",)]


def test_a_department_not_in_the_department_table_is_refused_by_path() -> None:
    data = overseas_pack()
    versions(data)[1]["departments"] = ["971", "999"]
    with pytest.raises(PackError) as caught:
        parse_pack(data)
    assert caught.value.errors == [
        ("deadline_rules[0].versions[1].departments[1]", "'999' is not in table 'places'")
    ]


def test_departments_round_trip_and_are_left_out_of_a_dump_when_empty() -> None:
    data = overseas_pack()
    dumped = dump_pack(parse_pack(data))
    dumped_versions = dumped["deadline_rules"][0]["versions"]
    assert "departments" not in dumped_versions[0]
    assert dumped_versions[1]["departments"] == ["971"]
    assert parse_pack(dumped) == parse_pack(data)
    assert PROVENANCE["confidence"] == dumped_versions[1]["confidence"]
