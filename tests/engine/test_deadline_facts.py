"""Warning conditions can look at computed deadlines (`{"fact": "deadline"}`), after every
deadline is known: e.g. a due date past the pack's review horizon."""

from __future__ import annotations

from typing import Any

import pytest

from rules.engine.pack import PackError, parse_pack

from .made_up import PROVENANCE, pack, run

PAST_HORIZON = {
    **PROVENANCE,
    "code": "past_horizon",
    "message": "Reviewed up to {pack.reviewed_until}; a time limit falls due on {deadline.due}.",
    "when": [{"fact": "deadline", "where": {"due": {"gt": {"setting": "reviewed_until"}}}}],
}
EVENT_PAST_HORIZON = {
    **PROVENANCE,
    "code": "past_horizon",
    "version": 2,
    "message": "Reviewed up to {pack.reviewed_until}; the event of {event.date} is after it.",
    "when": [{"fact": "event", "where": {"date": {"gt": {"setting": "reviewed_until"}}}}],
}


def horizon_pack(reviewed_until: str | None = "2026-03-10", **extra: Any) -> dict[str, Any]:
    return pack(reviewed_until=reviewed_until, warnings=[PAST_HORIZON], **extra)


def codes(result: dict[str, Any]) -> list[str]:
    return [w["code"] for w in result["warnings"]]


def test_a_due_date_after_the_horizon_fires_the_warning_with_its_date() -> None:
    # Decision 2 March: filing due 8 days later, 10 March, the day after the horizon.
    result = run(horizon_pack("2026-03-09"), [("decision", "2026-03-02")], as_of="2026-03-05")
    assert result["deadlines"][0]["due"] == "2026-03-10"
    assert result["warnings"] == [
        {
            "code": "past_horizon",
            "title": "past horizon",
            "message": "Reviewed up to 9 March 2026; a time limit falls due on 10 March 2026.",
            "legal_basis": "Test code art. 1",
            # It compares with reviewed_until: about the review horizon.
            "horizon": True,
            "deadlines": ["filing"],
        }
    ]


def test_a_due_date_on_the_horizon_itself_does_not_fire() -> None:
    result = run(horizon_pack("2026-03-10"), [("decision", "2026-03-02")], as_of="2026-03-05")
    assert codes(result) == []


def test_the_warning_is_written_in_french_from_the_pack_translations() -> None:
    data = horizon_pack("2026-03-09")
    data["translations"] = {
        "fr": {
            PAST_HORIZON["message"]: "Vérifié jusqu'au {pack.reviewed_until} ; "
            "une échéance tombe le {deadline.due}.",
            "past_horizon": "Au-delà de la revue",
        }
    }
    result = run(data, [("decision", "2026-03-02")], as_of="2026-03-05", language="fr")
    assert result["warnings"][0]["message"] == (
        "Vérifié jusqu'au 9 mars 2026 ; une échéance tombe le 10 mars 2026."
    )
    assert result["warnings"][0]["title"] == "Au-delà de la revue"


def test_a_suspended_deadline_without_due_date_never_matches_a_date_comparison() -> None:
    data = horizon_pack("2026-01-01")
    version = data["deadline_rules"][0]["versions"][0]
    data["event_types"].append({"code": "stay", "label": "Stay"})
    data["event_types"].append({"code": "resume", "label": "Resume"})
    version["suspended_by"] = "stay"
    version["resumed_by"] = "resume"
    result = run(data, [("decision", "2026-03-02"), ("stay", "2026-03-04")], as_of="2026-03-05")
    assert result["deadlines"][0]["due"] is None
    assert codes(result) == []


def test_a_deadline_condition_can_test_its_key_and_status() -> None:
    data = pack(
        warnings=[
            {
                **PROVENANCE,
                "code": "filing_missed",
                "message": "The {deadline.key} step was missed (due {deadline.due}).",
                "when": [{"fact": "deadline", "where": {"key": "filing", "status": "missed"}}],
            }
        ]
    )
    missed = run(data, [("decision", "2026-03-02")], as_of="2026-03-20")
    assert missed["warnings"][0]["message"] == "The filing step was missed (due 10 March 2026)."
    assert "horizon" not in missed["warnings"][0]  # no comparison with reviewed_until
    assert codes(run(data, [("decision", "2026-03-02")], as_of="2026-03-05")) == []


EITHER = {
    **PROVENANCE,
    "code": "past_horizon",
    "message": "Reviewed up to {pack.reviewed_until}: a date of this case is after it.",
    "when": [{"any": [EVENT_PAST_HORIZON["when"], PAST_HORIZON["when"]]}],
}


def test_alternatives_fire_on_an_event_or_a_due_date_as_one_warning() -> None:
    data = pack(reviewed_until="2026-03-09", warnings=[EITHER])
    message = "Reviewed up to 9 March 2026: a date of this case is after it."
    # The event is after the horizon (and so is the due date): one warning, for the whole case.
    both = run(data, [("decision", "2026-03-10")], as_of="2026-03-12")
    assert both["warnings"] == [
        {
            "code": "past_horizon",
            "title": "past horizon",
            "message": message,
            "legal_basis": "Test code art. 1",
            "horizon": True,
        }
    ]
    # Only the due date is: the warning names the deadline it concerns.
    only_due = run(data, [("decision", "2026-03-02")], as_of="2026-03-05")
    assert only_due["warnings"] == [
        {
            "code": "past_horizon",
            "title": "past horizon",
            "message": message,
            "legal_basis": "Test code art. 1",
            "horizon": True,
            "deadlines": ["filing"],
        }
    ]
    assert run(data, [("decision", "2026-03-01")], as_of="2026-03-05")["warnings"] == []


def test_a_message_must_name_only_what_every_alternative_provides() -> None:
    bad = {**EITHER, "message": "The event of {event.date} is after the horizon."}
    with pytest.raises(PackError) as raised:
        parse_pack(pack(reviewed_until="2026-03-09", warnings=[bad]))
    assert "warnings[0].message: {event.date}: no pattern is named 'event'" in str(raised.value)


def test_alternatives_are_checked_one_by_one_naming_the_bad_part() -> None:
    bad_branch = [{"fact": "deadline", "where": {"due": {"gt": 3}}}]
    bad = {**EITHER, "when": [{"any": [EVENT_PAST_HORIZON["when"], bad_branch]}]}
    with pytest.raises(PackError) as raised:
        parse_pack(pack(reviewed_until="2026-03-09", warnings=[bad]))
    assert "warnings[0].when[0].any[1][0].where.due.gt" in str(raised.value)
    single = {**EITHER, "when": [{"any": [EVENT_PAST_HORIZON["when"]]}]}
    with pytest.raises(PackError) as raised:
        parse_pack(pack(reviewed_until="2026-03-09", warnings=[single]))
    assert "warnings[0].when[0].any: expected 2 to 4 conditions" in str(raised.value)


def test_a_blank_horizon_never_fires_and_the_pack_is_valid() -> None:
    # The known bug: a blank reviewed_until made the messages' placeholders fail validation.
    warnings = [
        PAST_HORIZON,
        {**EVENT_PAST_HORIZON, "code": "event_after", "version": 1},
        {**EITHER, "code": "either"},
    ]
    data = pack(reviewed_until=None, warnings=warnings)
    parse_pack(data)
    result = run(data, [("decision", "2030-03-02")], as_of="2030-03-05")
    assert codes(result) == []


def test_a_message_naming_a_field_deadlines_lack_is_refused() -> None:
    bad = {**PAST_HORIZON, "message": "Due on {deadline.date}."}
    with pytest.raises(PackError) as raised:
        parse_pack(pack(reviewed_until="2026-03-09", warnings=[bad]))
    assert "warnings[0].message" in str(raised.value)
    assert "deadline facts have no 'date'" in str(raised.value)


def test_a_deadline_condition_on_an_unknown_field_is_refused() -> None:
    bad = {**PAST_HORIZON, "when": [{"fact": "deadline", "where": {"label": "x"}}]}
    with pytest.raises(PackError) as raised:
        parse_pack(pack(reviewed_until="2026-03-09", warnings=[bad]))
    assert "warnings[0].when[0].where.label" in str(raised.value)


def test_a_pack_without_deadline_conditions_asserts_no_deadline_facts() -> None:
    from rules.engine.evaluate import compile_pack

    assert compile_pack(parse_pack(pack())).deadline_facts is False
    assert compile_pack(parse_pack(horizon_pack())).deadline_facts is True
