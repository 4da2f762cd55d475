"""A case page's "Save as a scenario": the facts and today's results, nothing personal."""

from __future__ import annotations

import json

from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from cases.models import Case
from rules.models import Scenario
from rules.services import evaluate_request
from tests.cases.personas import PASSWORD


def allow(user: User) -> None:
    user.user_permissions.add(Permission.objects.get(codename="add_scenario"))


def test_a_caseworker_allowed_to_saves_the_facts_and_results_without_personal_data(
    client: Client, case_a: Case, carla: User
) -> None:
    Case.objects.filter(pk=case_a.pk).update(
        phone="+33612345678", email="amina@example.net", applicant_name="Amina Diallo"
    )
    allow(carla)
    client.login(username=carla.username, password=PASSWORD)
    page = reverse("case-detail", args=[case_a.pk])
    assert reverse("case-save-scenario", args=[case_a.pk]) in client.get(page).content.decode()

    response = client.post(reverse("case-save-scenario", args=[case_a.pk]))
    assert response.status_code == 302
    scenario = Scenario.objects.get()
    assert scenario.pack_id == case_a.procedure_id
    assert scenario.origin == "case"
    stored = json.dumps([scenario.name, scenario.description, scenario.request, scenario.expect])
    for personal in ("Amina", "Diallo", "+33612345678", "amina@example.net", "A-001"):
        assert personal not in stored
    assert set(scenario.request) == {
        "procedure",
        "department",
        "previous_reexaminations",
        "events",
        "new_elements",
        "as_of",
    }
    assert scenario.history.latest().history_user == carla
    # The expected results are what the rules give for these facts on that day.
    result = evaluate_request(scenario.request)
    due = {d["key"]: d["due"] for d in result["deadlines"]}
    assert {k: v["due"] for k, v in scenario.expect["deadlines"].items()} == due
    assert "ofpra_submission" in scenario.expect["deadlines"]
    assert scenario.expect["admissibility"]["status"] == result["admissibility"]["status"]
    assert "cnda_appeal" in scenario.expect["absent_deadlines"]

    client.post(reverse("case-save-scenario", args=[case_a.pk]))
    assert Scenario.objects.count() == 2  # a second one, under another name


def test_without_the_permission_there_is_no_button_and_no_saving(
    client: Client, case_a: Case, carla: User
) -> None:
    client.login(username=carla.username, password=PASSWORD)
    page = client.get(reverse("case-detail", args=[case_a.pk])).content.decode()
    assert reverse("case-save-scenario", args=[case_a.pk]) not in page
    response = client.post(reverse("case-save-scenario", args=[case_a.pk]))
    assert response.status_code == 403
    assert not Scenario.objects.exists()


def test_another_organisations_case_cannot_be_saved(
    client: Client, case_a: Case, bruno: User
) -> None:
    allow(bruno)
    client.login(username=bruno.username, password=PASSWORD)
    response = client.post(reverse("case-save-scenario", args=[case_a.pk]))
    assert response.status_code == 404
    assert not Scenario.objects.exists()
