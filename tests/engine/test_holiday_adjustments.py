"""Holidays added or removed per calendar as versioned pack data, on top of `holidays`."""

from __future__ import annotations

from typing import Any

import pytest

from rules.engine.pack import PackError, dump_pack, parse_pack

from .made_up import PROVENANCE, d, filing, pack, run


def adjusted(*days: dict[str, str], **version: Any) -> dict[str, Any]:
    return pack(
        holiday_adjustments=[{**PROVENANCE, "confidence": "unsure", **version, "days": list(days)}],
        translations={"fr": {"Local fair": "Foire locale"}},
    )


LOCAL_FAIR = {"subdivision": "57", "date": "05-27", "action": "add", "name": "Local fair"}
# 8 days after 19 May 2026 is Wednesday 27 May 2026.
DUE_27_MAY = [("decision", "2026-05-19")]


def test_a_day_added_to_a_subdivision_is_flagged_there_and_only_there() -> None:
    data = adjusted(LOCAL_FAIR)
    metz = filing(run(data, DUE_27_MAY, department="67"))
    paris = filing(run(data, DUE_27_MAY, department="75"))
    assert (metz["non_working_day"], metz["non_working_reason"]) == (True, "Local fair")
    assert paris["non_working_day"] is False


def test_an_added_day_is_named_in_the_readers_language() -> None:
    metz = filing(run(adjusted(LOCAL_FAIR), DUE_27_MAY, department="67", language="fr"))
    assert metz["non_working_reason"] == "Foire locale"


def test_an_adjustment_holds_only_on_the_days_its_version_is_in_force() -> None:
    data = adjusted(LOCAL_FAIR, effective_from="2026-01-01")
    before = filing(run(data, [("decision", "2025-05-19")], department="67"))
    assert before["due"] == "2025-05-27"
    assert before["non_working_day"] is False


def test_a_removed_holiday_is_a_working_day_again() -> None:
    # St Stephen's Day, Friday 26 December 2025, is a holiday in Alsace-Moselle.
    events = [("decision", "2025-12-18")]
    assert filing(run(pack(), events, department="67"))["non_working_reason"] == (
        "Saint Stephen's Day"
    )
    removed = adjusted(
        {"subdivision": "57", "date": "12-26", "action": "remove", "name": "Saint Stephen's Day"}
    )
    assert filing(run(removed, events, department="67"))["non_working_day"] is False


def test_a_national_adjustment_applies_to_every_calendar_and_to_working_day_counts() -> None:
    data = adjusted(
        {"subdivision": "national", "date": "2026-05-26", "action": "add", "name": "Strike day"}
    )
    data["deadline_rules"][0]["versions"][0].update(offset=2, unit="working_days")
    # From Friday 22 May: Monday 25 (Whit Monday) and Tuesday 26 (added) do not count.
    for department in ("75", "67"):
        deadline = filing(run(data, [("decision", "2026-05-22")], department=department))
        assert deadline["due"] == "2026-05-28"
        assert "Strike day" in deadline["explanation"]


@pytest.mark.parametrize(
    ("day", "path", "message"),
    [
        ({"subdivision": "99"}, "days[0].subdivision", "unknown subdivision '99'"),
        ({"date": "13-45"}, "days[0].date", "expected a date (YYYY-MM-DD) or a day"),
        ({"date": "2026-02-30"}, "days[0].date", "expected a date (YYYY-MM-DD) or a day"),
        ({"action": "move"}, "days[0].action", "expected one of add, remove"),
        ({"name": ""}, "days[0].name", "required"),
    ],
)
def test_a_bad_adjustment_is_refused_with_the_path_of_its_field(
    day: dict[str, str], path: str, message: str
) -> None:
    with pytest.raises(PackError) as caught:
        parse_pack(adjusted({**LOCAL_FAIR, **day}))
    errors = dict(caught.value.errors)
    assert message in errors[f"holiday_adjustments[0].{path}"]


def test_overlapping_adjustment_versions_are_refused() -> None:
    data = adjusted(LOCAL_FAIR)
    data["holiday_adjustments"].append({**data["holiday_adjustments"][0], "version": 2})
    with pytest.raises(PackError) as caught:
        parse_pack(data)
    assert (
        "together with version 1"
        in dict(caught.value.errors)["holiday_adjustments.versions[1].effective_from"]
    )


def test_adjustments_round_trip_and_are_left_out_of_a_dump_when_there_are_none() -> None:
    data = adjusted(LOCAL_FAIR)
    dumped = dump_pack(parse_pack(data))
    assert dumped["holiday_adjustments"][0]["days"] == [LOCAL_FAIR]
    assert parse_pack(dumped) == parse_pack(data)
    assert "holiday_adjustments" not in dump_pack(parse_pack(pack()))


def test_the_rules_in_force_on_a_day_list_its_holiday_adjustments() -> None:
    from rules.engine.in_force import rules_in_force

    data = adjusted(LOCAL_FAIR, effective_from="2026-01-01")
    listed = rules_in_force(parse_pack(data), d("2026-06-01"))["holiday_adjustments"]
    assert [list(v["days"]) for v in listed] == [[LOCAL_FAIR]]
    assert rules_in_force(parse_pack(data), d("2025-06-01"))["holiday_adjustments"] == []


def test_a_movable_holiday_is_removed_by_its_package_name_every_year() -> None:
    # The package counts Mi-Carême in Guadeloupe (12 March 2026, 27 March 2025).
    mi_careme = {"subdivision": "971", "date": "", "action": "remove", "name": "Mi-Careme"}
    for decision, due in (("2026-03-04", "2026-03-12"), ("2025-03-19", "2025-03-27")):
        before = filing(run(pack(), [("decision", decision)], department="971"))
        after = filing(run(adjusted(mi_careme), [("decision", decision)], department="971"))
        assert (before["due"], before["non_working_reason"]) == (due, "Mi-Careme")
        assert (after["due"], after["non_working_day"]) == (due, False)


def test_a_removal_by_name_must_name_a_holiday_the_package_knows() -> None:
    unknown = {"subdivision": "971", "date": "", "action": "remove", "name": "Mid-Lent"}
    with pytest.raises(PackError) as caught:
        parse_pack(adjusted(unknown))
    message = dict(caught.value.errors)["holiday_adjustments[0].days[0].name"]
    assert message.startswith("without a date, name a holiday of the holidays package's FR-971")
    assert "Mi-Careme" in message


def test_an_added_day_needs_a_date() -> None:
    with pytest.raises(PackError) as caught:
        parse_pack(adjusted({**LOCAL_FAIR, "date": ""}))
    assert caught.value.errors == [("holiday_adjustments[0].days[0].date", "required")]
