"""The engine is generic: a procedure is data. These tests build small packs of their own."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from rules.engine.evaluate import compile_pack, evaluate
from rules.engine.inputs import CaseFacts, Event, NewElement
from rules.engine.pack import PackError, parse_pack

PROVENANCE = {"legal_basis": "Test code art. 1", "source_title": "test", "confidence": "certain"}


def pack_dict(**overrides: Any) -> dict[str, Any]:
    """A made-up appeal procedure: nothing here comes from the asylum pack."""
    data: dict[str, Any] = {
        "format": "rulepack/1",
        "key": "demo-appeal",
        "name": "Demo appeal",
        "version": 1,
        "verified_on": "2026-01-01",
        "reviewed_until": "2030-12-31",
        "source_title": "test",
        "department_table": "regions",
        "authority_table": "courts",
        "authority_outcome": "court",
        "event_types": [
            {"code": "decision", "label": "Decision", "outcomes": ["granted", "refused"]},
            {"code": "appeal", "label": "Appeal"},
            {"code": "stay", "label": "Stay"},
            {"code": "stay_lifted", "label": "Lifting of the stay"},
            {"code": "reminder", "label": "Reminder"},
        ],
        "lookup_tables": [
            {
                "key": "regions",
                "label": "Regions",
                "versions": [
                    {
                        **PROVENANCE,
                        "rows": [
                            {"key": "75", "value": ""},
                            {"key": "57", "value": "57"},
                            {"key": "971", "value": "971"},
                        ],
                    }
                ],
            },
            {
                "key": "courts",
                "label": "Courts",
                "versions": [
                    {
                        **PROVENANCE,
                        "rows": [
                            {"key": "75", "value": "57", "label": "Court of Metz"},
                            {"key": "57", "value": "57", "label": "Court of Metz"},
                        ],
                    }
                ],
            },
        ],
        "milestones": [],
        "deadline_rules": [
            {
                "key": "appeal",
                "label": "Appeal",
                "versions": [
                    {
                        **PROVENANCE,
                        "trigger_event": "decision",
                        "trigger_outcome": "refused",
                        "offset": 2,
                        "unit": "months",
                        "non_working_day_policy": "next_working_day",
                        "completed_by": "appeal",
                        "suspended_by": "stay",
                        "resumed_by": "stay_lifted",
                        "resumption": "restart",
                    }
                ],
            },
            {
                "key": "reply",
                "label": "Reply",
                "versions": [
                    {
                        **PROVENANCE,
                        "trigger_event": "reminder",
                        "trigger_choice": "latest",
                        "trigger_occurrence": "subsequent",
                        "offset": 2,
                        "unit": "working_days",
                        "calendar": "applicant",
                        "non_working_day_policy": "previous_working_day",
                    }
                ],
            },
        ],
        "outcomes": [
            {
                "key": "chances",
                "label": "Chances",
                "shape": "status",
                "rules": [
                    {
                        **PROVENANCE,
                        "name": "default",
                        "priority": 1,
                        "when": [],
                        "result": "unknown",
                    },
                    {
                        **PROVENANCE,
                        "name": "granted",
                        "priority": 5,
                        "result": "won",
                        "since": "d.date",
                        "reason": "Granted on {d.date}.",
                        "when": [
                            {
                                "fact": "event",
                                "as": "d",
                                "where": {"type": "decision", "outcome": "granted"},
                            }
                        ],
                    },
                ],
            },
        ],
        "warnings": [
            {
                **PROVENANCE,
                "code": "many_reminders",
                "message": "{case.department}: reminders",
                "when": [{"fact": "case", "where": {"count.reminder": {"gte": 3}}}],
            },
        ],
    }
    data.update(overrides)
    return data


def run(
    events: list[Event],
    *,
    data: dict[str, Any] | None = None,
    department: str = "75",
    as_of: str = "2026-01-01",
    elements: tuple[NewElement, ...] = (),
    language: str = "en",
) -> dict[str, Any]:
    compiled = compile_pack(parse_pack(data or pack_dict()))
    case = CaseFacts(
        department=department,
        events=tuple(events),
        new_elements=elements,
        as_of=dt.date.fromisoformat(as_of),
    )
    return evaluate(compiled, case, language)


def deadlines(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["key"]: d for d in result["deadlines"]}


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_a_second_procedure_needs_no_python_only_a_pack() -> None:
    result = run([Event("decision", d("2025-12-14"), "refused")])
    appeal = deadlines(result)["appeal"]
    # 14 December 2025 + 2 months = Saturday 14 February 2026: extended to Monday 16 February.
    assert (appeal["due"], appeal["status"], appeal["non_working_day"]) == (
        "2026-02-16",
        "open",
        False,
    )
    assert "moves to Monday 16 February 2026" in appeal["explanation"]
    assert result["court"] == {"department": "57", "name": "Court of Metz", "confidence": "certain"}
    assert result["rule_pack"]["key"] == "demo-appeal"


def test_an_outcome_filter_ignores_events_with_another_outcome() -> None:
    assert "appeal" not in deadlines(run([Event("decision", d("2025-11-14"), "granted")]))


def test_restart_resumption_runs_the_whole_period_again_from_the_resumption() -> None:
    result = run(
        [
            Event("decision", d("2025-11-03"), "refused"),
            Event("stay", d("2025-11-20")),
            Event("stay_lifted", d("2026-03-10")),
        ],
        as_of="2026-03-11",
    )
    appeal = deadlines(result)["appeal"]
    assert appeal["due"] == "2026-05-11"  # 10 March + 2 months = Sunday 10 May -> Monday 11
    assert appeal["suspension"]["resumed_by"] == {"type": "stay_lifted", "date": "2026-03-10"}


def test_a_suspended_deadline_has_no_due_date_until_it_resumes() -> None:
    result = run([Event("decision", d("2025-11-03"), "refused"), Event("stay", d("2025-11-20"))])
    appeal = deadlines(result)["appeal"]
    assert (appeal["due"], appeal["status"]) == (None, "suspended")
    assert result["deadlines"][-1]["key"] == "appeal"  # no due date sorts last


def test_a_suspension_after_the_due_date_does_not_count() -> None:
    result = run(
        [Event("decision", d("2025-11-03"), "refused"), Event("stay", d("2026-02-01"))],
        as_of="2026-02-02",
    )
    assert deadlines(result)["appeal"]["status"] == "missed"


def test_occurrence_and_latest_choice_and_previous_working_day_on_the_applicants_calendar() -> None:
    only_one = run([Event("reminder", d("2026-04-01"))], department="57")
    assert "reply" not in deadlines(only_one)
    # Latest reminder Wednesday 1 April 2026; in Moselle, Good Friday (3 April) is a holiday:
    # Thursday 2, then Monday 6 is Easter Monday, so the second working day is Tuesday 7.
    result = run(
        [Event("reminder", d("2026-03-02")), Event("reminder", d("2026-04-01"))], department="57"
    )
    reply = deadlines(result)["reply"]
    assert reply["due"] == "2026-04-07"
    assert "Good Friday" in reply["explanation"]
    national = deadlines(
        run(
            [Event("reminder", d("2026-03-02")), Event("reminder", d("2026-04-01"))],
            department="75",
        )
    )["reply"]
    assert national["due"] == "2026-04-03"


def test_two_identical_events_are_two_occurrences() -> None:
    # The rule fires only on a subsequent reminder: a second reminder on the same day is one.
    twice = run([Event("reminder", d("2026-04-01")), Event("reminder", d("2026-04-01"))])
    assert "reply" in deadlines(twice)


def test_the_highest_priority_outcome_wins_and_names_its_basis_and_since() -> None:
    assert run([])["chances"]["status"] == "unknown"
    won = run([Event("decision", d("2026-02-03"), "granted")])["chances"]
    assert won == {
        "status": "won",
        "status_label": "won",
        "reasons": ["Granted on 3 February 2026."],
        "legal_basis": "Test code art. 1",
        "since": "2026-02-03",
        "rule": {"key": "granted", "version": 1, "confidence": "certain"},
    }


def test_warnings_fire_on_counts_and_render_their_message() -> None:
    few = run([Event("reminder", d("2026-01-0" + str(i))) for i in (5, 6)], as_of="2026-01-31")
    many = run([Event("reminder", d("2026-01-0" + str(i))) for i in (5, 6, 7)], as_of="2026-01-31")
    assert few["warnings"] == []
    assert [w["message"] for w in many["warnings"]] == ["75: reminders"]


def test_a_department_without_an_authority_row_gets_none() -> None:
    assert run([], department="971")["court"] is None


def test_an_unknown_subdivision_in_the_department_table_is_refused() -> None:
    data = pack_dict()
    data["lookup_tables"][0]["versions"][0]["rows"].append({"key": "99", "value": "XYZ"})
    with pytest.raises(PackError) as error:
        parse_pack(data)
    assert error.value.errors[0][0] == "lookup_tables[0].versions[0].rows[3].value"


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        (
            lambda p: p["deadline_rules"][0]["versions"][0].update(trigger_event="decisoin"),
            "deadline_rules[0].versions[0].trigger_event",
            "no event type 'decisoin'",
        ),
        (
            lambda p: p["deadline_rules"][0]["versions"][0].update(offset=-1),
            "deadline_rules[0].versions[0].offset",
            "from 0",
        ),
        (
            lambda p: p["deadline_rules"][0]["versions"][0].update(unit="fortnights"),
            "deadline_rules[0].versions[0].unit",
            "expected one of",
        ),
        (
            lambda p: p["deadline_rules"][0]["versions"][0].update(confidence="maybe"),
            "deadline_rules[0].versions[0].confidence",
            "expected one of",
        ),
        (
            lambda p: p["deadline_rules"][0]["versions"][0].pop("legal_basis"),
            "deadline_rules[0].versions[0].legal_basis",
            "required",
        ),
        (
            lambda p: p["deadline_rules"][0]["versions"][0].update(trigger_outcome="maybe"),
            "deadline_rules[0].versions[0].trigger_outcome",
            "no outcome 'maybe'",
        ),
        (
            lambda p: p["deadline_rules"][0]["versions"][0].update(effective_from="2026-02-30"),
            "deadline_rules[0].versions[0].effective_from",
            "date",
        ),
        (
            lambda p: p["deadline_rules"][0]["versions"].append(
                dict(p["deadline_rules"][0]["versions"][0], version=2)
            ),
            "deadline_rules[0].versions[1].effective_from",
            "together with version 1",
        ),
        (
            lambda p: p["deadline_rules"][0]["versions"][0].update(
                suspension_window_deadline="appeal"
            ),
            "deadline_rules[0].versions[0].suspension_window_deadline",
            "cannot be the rule itself",
        ),
        (
            lambda p: p["outcomes"][0]["rules"][1].update(reason="On {x.date}."),
            "outcomes[0].rules[1].reason",
            "no pattern is named 'x'",
        ),
        (
            lambda p: p["outcomes"][0]["rules"][1].update(since="d.outcome"),
            "outcomes[0].rules[1].since",
            "date",
        ),
        (
            lambda p: p["event_types"].append({"code": "appeal", "label": "again"}),
            "event_types[5]",
            "defined twice",
        ),
        (lambda p: p.update(holiday_country="XX"), "holiday_country", "XX"),
        (lambda p: p.update(unknown_setting=1), "unknown_setting", "unknown field"),
    ],
)
def test_a_broken_pack_is_refused_with_the_path_of_the_bad_field(
    change: Any, path: str, fragment: str
) -> None:
    data = copy.deepcopy(pack_dict())
    change(data)
    with pytest.raises(PackError) as error:
        parse_pack(data)
    matching = [message for where, message in error.value.errors if where == path]
    assert matching, error.value.errors
    assert fragment in matching[0]


def test_circular_dependencies_between_deadlines_are_refused() -> None:
    data = pack_dict()
    data["milestones"] = [{**PROVENANCE, "key": "m", "label": "M", "from_deadline": "reply"}]
    data["deadline_rules"][1]["versions"][0].update(
        trigger_event="",
        trigger_milestone="m",
        trigger_occurrence="any",
        suspended_by="stay",
        resumed_by="stay_lifted",
        suspension_window_deadline="reply",
    )
    with pytest.raises(PackError) as error:
        parse_pack(data)
    assert any("cannot be the rule itself" in m or "circular" in m for _, m in error.value.errors)


def test_too_many_rules_on_one_kind_of_fact_are_refused_before_reaching_durable_rules() -> None:
    data = pack_dict()
    version = data["deadline_rules"][0]["versions"][0]
    data["deadline_rules"] = [
        {"key": f"rule_{i}", "label": f"Rule {i}", "versions": [dict(version)]} for i in range(60)
    ]
    with pytest.raises(PackError) as error:
        parse_pack(data)
    assert any("the engine allows" in m for _, m in error.value.errors)


def test_texts_follow_the_readers_language_through_the_packs_translations() -> None:
    data = pack_dict(
        translations={
            "fr": {
                "Appeal": "Recours",
                "Decision": "Décision",
                "Granted on {d.date}.": "Accordé le {d.date}.",
                "won": "gagné",
            }
        }
    )
    events = [
        Event("decision", d("2025-12-01"), "granted"),
        Event("decision", d("2025-12-14"), "refused"),
    ]
    french = run(events, data=data, language="fr")
    appeal = deadlines(french)["appeal"]
    assert appeal["label"] == "Recours"
    # 14 December 2025 + 2 months = Saturday 14 February 2026, moved to Monday 16 February.
    assert appeal["explanation"] == (
        "2 mois à compter du 14 décembre 2025 (décision) ; le 14 février 2026 tombe un samedi, "
        "jour non ouvré : l'échéance passe au lundi 16 février 2026."
    )
    assert french["chances"]["reasons"] == ["Accordé le 1er décembre 2025."]
    assert french["chances"]["status"] == "won"  # codes never change
    assert french["chances"]["status_label"] == "gagné"
    english = run(events, data=data)
    assert deadlines(english)["appeal"]["label"] == "Appeal"
    assert deadlines(english)["appeal"]["due"] == appeal["due"]


def test_a_translation_must_keep_the_placeholders_of_its_text() -> None:
    data = pack_dict(translations={"fr": {"Granted on {d.date}.": "Accordé."}})
    with pytest.raises(PackError) as error:
        parse_pack(data)
    assert error.value.errors[0][0] == "translations.fr['Granted on {d.date}.']"


def test_a_labels_translation_is_held_to_the_labels_length() -> None:
    # A deadline's label is stored in the site's language: a longer one could not be saved.
    data = pack_dict(translations={"fr": {"Appeal": "R" * 201}})
    with pytest.raises(PackError) as error:
        parse_pack(data)
    assert error.value.errors == [
        (
            "translations.fr['Appeal']",
            "a label's translation holds at most 200 characters, like the label (201 here)",
        )
    ]
    parse_pack(pack_dict(translations={"fr": {"Appeal": "R" * 200}}))
