"""A pack-level anchor event chooses rule versions by the case's anchor date, not the trigger's."""

from __future__ import annotations

import pytest

from rules.engine.pack import PackError, dump_pack, parse_pack

from .made_up import filing, pack, run, versions

# A transition: applications lodged from 12 June 2026 get 15 days instead of 8.
LODGED_BEFORE = [("lodged", "2026-06-01"), ("decision", "2026-06-20")]


def transition(**overrides: object) -> dict[str, object]:
    data = pack(**overrides)
    old = versions(data)[0]
    old["effective_to"] = "2026-06-11"
    versions(data).append({**old, "version": 2, "offset": 15, "effective_from": "2026-06-12"})
    del versions(data)[1]["effective_to"]
    return data


def test_without_an_anchor_the_version_in_force_on_the_trigger_date_applies() -> None:
    deadline = filing(run(transition(), LODGED_BEFORE))
    assert (deadline["rule"]["version"], deadline["due"]) == (2, "2026-07-05")
    assert "version_chosen_by" not in deadline


def test_with_an_anchor_the_version_in_force_on_the_anchor_date_applies() -> None:
    deadline = filing(run(transition(anchor_event="lodged"), LODGED_BEFORE))
    assert (deadline["rule"]["version"], deadline["due"]) == (1, "2026-06-28")
    assert deadline["version_chosen_by"] == {"type": "lodged", "date": "2026-06-01"}
    assert deadline["explanation"] == (
        "8 days after decision on 20 June 2026 (rule version in force on 1 June 2026, "
        "application lodged); falls on a Sunday, not a working day; the date is not moved."
    )


def test_an_application_lodged_after_the_transition_gets_the_new_version() -> None:
    events = [("lodged", "2026-06-15"), ("decision", "2026-06-20")]
    deadline = filing(run(transition(anchor_event="lodged"), events))
    assert deadline["rule"]["version"] == 2


def test_without_the_anchor_event_in_the_case_the_trigger_date_chooses() -> None:
    deadline = filing(run(transition(anchor_event="lodged"), [("decision", "2026-06-20")]))
    assert deadline["rule"]["version"] == 2
    assert "version_chosen_by" not in deadline


def test_a_rule_may_keep_choosing_by_its_trigger_date() -> None:
    data = transition(anchor_event="lodged")
    data["deadline_rules"][0]["version_by"] = "trigger"  # type: ignore[index]
    assert filing(run(data, LODGED_BEFORE))["rule"]["version"] == 2


def test_a_rule_choosing_by_anchor_needs_the_pack_to_name_one() -> None:
    data = transition()
    data["deadline_rules"][0]["version_by"] = "anchor"  # type: ignore[index]
    with pytest.raises(PackError) as caught:
        parse_pack(data)
    assert caught.value.errors == [
        ("deadline_rules[0].version_by", "the pack names no anchor_event")
    ]


def test_an_unknown_anchor_event_is_refused() -> None:
    with pytest.raises(PackError) as caught:
        parse_pack(transition(anchor_event="lodgde"))
    assert caught.value.errors == [("anchor_event", "no event type 'lodgde'")]


def test_the_anchor_round_trips_and_is_left_out_of_a_dump_by_default() -> None:
    data = transition(anchor_event="lodged")
    data["deadline_rules"][0]["version_by"] = "trigger"  # type: ignore[index]
    dumped = dump_pack(parse_pack(data))
    assert (dumped["anchor_event"], dumped["deadline_rules"][0]["version_by"]) == (
        "lodged",
        "trigger",
    )
    assert parse_pack(dumped) == parse_pack(data)
    plain = dump_pack(parse_pack(transition()))
    assert "anchor_event" not in plain
    assert "version_by" not in plain["deadline_rules"][0]
