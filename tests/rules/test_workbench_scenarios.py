"""Scenarios are pack data: shipped files load once, failures read as sentences, and a draft
that breaks one is not published until the scenario or the draft is put right."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client

from rules import scenarios, workbench
from rules.models import DeadlineRuleVersion, PackVersion, Scenario
from rules.packstore import copy_as_draft
from rules.services import evaluate_request
from tests.conftest import sign_in_verified

SHIPPED = Path(__file__).resolve().parents[2] / "rules" / "packs" / "asylum-reexamination"
REQUEST = {
    "procedure": "asylum-reexamination",
    "department": "75",
    "as_of": "2026-04-10",
    "events": [{"type": "registration", "date": "2026-04-08"}],
}


@pytest.fixture
def lawyer(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_superuser("lawyer", "lawyer@example.org", "pw")


@pytest.fixture
def reviewer(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_superuser("reviewer", "rev@example.org", "pw")


def ten_days_from_5_april(draft: PackVersion, lawyer: User) -> None:
    version = DeadlineRuleVersion.objects.get(
        rule__pack_version=draft, rule__key="ofpra_submission", version=2
    )
    workbench.add_version(
        version,
        effective_from=dt.date(2026, 4, 5),
        changes={"offset": 10},
        user=lawyer,
        reason="Décret 2026-xx",
    )


def test_a_scenario_expecting_the_old_value_blocks_the_draft_until_it_is_updated(
    asylum_pack: PackVersion, lawyer: User, reviewer: User
) -> None:
    scenario = Scenario.objects.create(
        pack=asylum_pack.pack,
        name="registered-8-april",
        request=REQUEST,
        expect={"deadlines": {"ofpra_submission": {"due": "2026-04-16", "status": "open"}}},
    )
    draft = copy_as_draft(asylum_pack)
    ten_days_from_5_april(draft, lawyer)
    with pytest.raises(workbench.PublishRefused) as refused:
        workbench.publish(draft, user=reviewer, reason="Décret 2026-xx")
    assert refused.value.sentences == [
        "1 scenario check(s) fail: registered-8-april: ofpra_submission: expected 2026-04-16, "
        "the draft gives 2026-04-18."
    ]
    draft.refresh_from_db()
    assert draft.status == PackVersion.Status.DRAFT

    scenario.expect = {"deadlines": {"ofpra_submission": {"due": "2026-04-18"}}}
    scenario.save()
    workbench.publish(draft, user=reviewer, reason="Décret 2026-xx")
    draft.refresh_from_db()
    assert draft.status == PackVersion.Status.PUBLISHED


def test_every_shipped_scenario_holds_on_the_shipped_pack(asylum_pack: PackVersion) -> None:
    assert scenarios.load_shipped_scenarios(asylum_pack.pack) >= 40
    runs = scenarios.run_scenarios(asylum_pack)
    assert [problem for run in runs for problem in run.problems] == []


def test_shipped_scenarios_load_once_and_never_overwrite_or_restore(
    asylum_pack: PackVersion,
) -> None:
    pack = asylum_pack.pack
    added = scenarios.load_shipped_scenarios(pack)
    assert added == len(list((SHIPPED / "scenarios").glob("*.json")))
    edited = Scenario.objects.get(pack=pack, name="api-example")
    edited.expect = {"warnings": []}
    edited.save()
    Scenario.objects.get(pack=pack, name="api-example-registered-on-time").delete()

    assert scenarios.load_shipped_scenarios(pack) == 0
    assert Scenario.objects.get(pack=pack, name="api-example").expect == {"warnings": []}
    assert not Scenario.objects.filter(pack=pack, name="api-example-registered-on-time").exists()
    assert Scenario.objects.filter(pack=pack).count() == added - 1


def test_failures_read_as_sentences_naming_the_rule_and_both_values() -> None:
    result = {
        "deadlines": [{"key": "cnda_appeal", "due": "2026-02-28", "status": "open"}],
        "warnings": [{"code": "review_horizon"}],
        "admissibility": {"status": "admissible"},
    }
    expect = {
        "deadlines": {
            "cnda_appeal": {"due": "2026-03-02", "status": "open"},
            "registration": {"due": "2026-01-01"},
        },
        "absent_deadlines": ["cnda_appeal"],
        "warnings": [],
        "admissibility": {"status": "inadmissible"},
    }
    assert scenarios.compare(expect, result, giver="the draft") == [
        "cnda_appeal: expected 2026-03-02, the draft gives 2026-02-28",
        "registration: expected a deadline, the draft gives none",
        "cnda_appeal: expected no deadline, the draft gives one due 2026-02-28",
        "warnings: expected none, the draft gives review_horizon",
        "admissibility (status): expected inadmissible, the draft gives admissible",
    ]


def test_a_case_saved_as_a_scenario_keeps_its_facts_and_todays_results(
    asylum_pack: PackVersion, lawyer: User
) -> None:
    request = {**REQUEST, "language": "fr"}
    result = evaluate_request(request)
    scenario = scenarios.save_scenario(
        asylum_pack.pack, "case-123", request, result, user=lawyer, origin="case 123"
    )
    assert scenario.request == REQUEST  # the facts the API carries, nothing else
    assert scenario.expect["deadlines"]["ofpra_submission"] == {
        "due": "2026-04-16",
        "status": "open",
    }
    assert "cnda_appeal" in scenario.expect["absent_deadlines"]
    assert scenario.origin == "case 123"
    assert scenario.history.latest().history_user == lawyer
    assert scenarios.run_scenario(scenario, asylum_pack).passed
    with pytest.raises(ValidationError):  # a name is kept once per pack
        scenarios.save_scenario(asylum_pack.pack, "case-123", request, result, origin="again")


def test_the_scenario_admin_names_the_bad_field_and_runs_scenarios(
    asylum_pack: PackVersion, lawyer: User
) -> None:
    client = sign_in_verified(Client(), lawyer)
    response = client.post(
        "/admin/rules/scenario/add/",
        {
            "pack": asylum_pack.pack.pk,
            "name": "bad",
            "request": json.dumps({**REQUEST, "department": "999"}),
            "expect": json.dumps({"absent_deadlines": "cnda_appeal"}),
        },
    )
    errors = response.context["adminform"].form.errors
    assert errors["request"][0].startswith("request.department:")
    assert errors["expect"] == ["expect.absent_deadlines: expected a list of keys"]

    scenario = Scenario.objects.create(
        pack=asylum_pack.pack,
        name="registered-8-april",
        request=REQUEST,
        expect={"deadlines": {"ofpra_submission": {"due": "2026-04-17"}}},
    )
    page = client.post(
        "/admin/rules/scenario/",
        {"action": "run_against_published", "_selected_action": [scenario.pk]},
        follow=True,
    ).content.decode()
    page = page.lower()  # the admin capitalises messages
    assert "0 of 1 scenarios give the expected results" in page
    assert (
        "registered-8-april: ofpra_submission: expected 2026-04-17, "
        "the published version gives 2026-04-16"
    ) in page
