"""Before publishing, legal staff see exactly which open cases a draft would change, and how."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from cases import impact
from cases.models import Case, Deadline, ImpactRun, Organisation
from cases.roles import LEGAL_STAFF
from rules.models import PackVersion
from tests.cases.personas import PASSWORD, make_case, make_member
from tests.cases.workbench import draft_with_ofpra_days
from tests.conftest import sign_in_verified

REGISTERED = [
    ("prefecture_presentation", dt.date(2026, 4, 2)),
    ("registration", dt.date(2026, 4, 8)),
]


@pytest.fixture
def cases(
    asylum_pack: PackVersion, org_a: Organisation, org_b: Organisation, carla: User, bruno: User
) -> dict[str, Case]:
    return {
        "moves": make_case(
            org_a,
            carla,
            asylum_pack,
            reference="MZ-1",
            applicant_name="Amina Diallo",
            events=REGISTERED,
        ),
        "moves_too": make_case(
            org_b,
            bruno,
            asylum_pack,
            reference="LY-7",
            applicant_name="Omar Haidari",
            events=REGISTERED,
        ),
        "not_registered": make_case(
            org_a, carla, asylum_pack, reference="MZ-2", events=REGISTERED[:1]
        ),
    }


@pytest.fixture
def lawyer(db: None) -> User:
    user = make_member("lea", None)
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get(name=LEGAL_STAFF))
    return user


def test_the_impact_names_exactly_the_cases_the_draft_moves_with_old_and_new_dates(
    asylum_pack: PackVersion, cases: dict[str, Case], lawyer: User
) -> None:
    draft = draft_with_ofpra_days(asylum_pack, 10)
    run = impact.start_impact(draft.pk, user=lawyer)
    impact.run_to_end(run.pk, chunk_size=2)
    run.refresh_from_db()
    assert (run.state, run.total_cases, run.done_cases, run.changed_cases) == ("done", 3, 3, 2)
    changes = {(c.case.reference, c.key, c.old_due, c.new_due) for c in run.changes.all()}
    assert changes == {
        ("MZ-1", "ofpra_submission", dt.date(2026, 4, 16), dt.date(2026, 4, 18)),
        ("LY-7", "ofpra_submission", dt.date(2026, 4, 16), dt.date(2026, 4, 18)),
    }
    assert impact.counts_by_rule(run) == [("deadline", "ofpra_submission", 2)]
    # Nothing was written to the cases.
    assert Deadline.objects.get(case=cases["moves"], key="ofpra_submission").due == dt.date(
        2026, 4, 16
    )


def test_an_interrupted_impact_run_resumes_where_it_stopped(
    asylum_pack: PackVersion, cases: dict[str, Case], lawyer: User
) -> None:
    draft = draft_with_ofpra_days(asylum_pack, 10)
    run = impact.start_impact(draft.pk, user=lawyer)
    assert impact.advance(run.pk, chunk_size=1)  # then the worker dies
    impact.run_to_end(run.pk, chunk_size=1)
    run.refresh_from_db()
    assert (run.done_cases, run.changes.count()) == (3, 2)


def test_outcome_changes_are_shown_too(
    asylum_pack: PackVersion, cases: dict[str, Case], lawyer: User
) -> None:
    draft = draft_with_ofpra_days(asylum_pack, 8)
    case = cases["moves"]
    # What the case shows today says something else than the draft would.
    stored = case.evaluation
    stored["fr"]["admissibility"]["status"] = "made_up_status"
    Case.objects.filter(pk=case.pk).update(evaluation=stored)
    run = impact.start_impact(draft.pk, user=lawyer)
    impact.run_to_end(run.pk)
    change = ImpactRun.objects.get(pk=run.pk).changes.get()
    assert (change.kind, change.key, change.old_value) == (
        "outcome",
        "admissibility",
        "made_up_status",
    )


def test_legal_staff_start_and_read_the_impact_with_references_but_no_names(
    client: Client,
    asylum_pack: PackVersion,
    cases: dict[str, Case],
    lawyer: User,
    celery_eager: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    draft = draft_with_ofpra_days(asylum_pack, 10)
    sign_in_verified(client, lawyer)  # legal staff may publish: the admin asks a second factor
    page = reverse("admin:cases_impactrun_for_version", args=[draft.pk])
    assert "not been computed" in client.get(page).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page)
    assert response.status_code == 302
    html = client.get(page).content.decode()
    assert "3 / 3" in html
    assert "MZ-1" in html
    assert "LY-7" in html
    assert "MZ-2" not in html
    assert "Cimade Metz" in html
    assert "Forum Réfugiés Lyon" in html
    assert "Amina" not in html
    assert "Omar" not in html
    assert "2026-04-16" in html
    assert "2026-04-18" in html

    run = ImpactRun.objects.get(pack_version=draft)
    response = client.get(reverse("admin:cases_impactrun_csv", args=[run.pk]))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:2] == ["organisation", "file reference"]
    assert sorted((r[1], r[3], r[5], r[6]) for r in rows[1:]) == [
        ("LY-7", "ofpra_submission", "2026-04-16", "2026-04-18"),
        ("MZ-1", "ofpra_submission", "2026-04-16", "2026-04-18"),
    ]
    assert "Amina" not in response.content.decode()
    # Still no access to the cases themselves.
    assert client.get(reverse("admin:cases_case_changelist")).status_code == 403


def test_a_caseworker_cannot_see_impact_runs(
    client: Client, asylum_pack: PackVersion, cases: dict[str, Case], carla: User
) -> None:
    draft = draft_with_ofpra_days(asylum_pack, 10)
    client.login(username=carla.username, password=PASSWORD)
    response = client.get(reverse("admin:cases_impactrun_for_version", args=[draft.pk]))
    assert response.status_code == 302  # to the admin login: no staff access


def test_the_page_says_when_the_draft_changed_since_the_impact_was_computed(
    client: Client, asylum_pack: PackVersion, cases: dict[str, Case], lawyer: User
) -> None:
    draft = draft_with_ofpra_days(asylum_pack, 10)
    impact.run_to_end(impact.start_impact(draft.pk, user=lawyer).pk)
    sign_in_verified(client, lawyer)  # legal staff may publish: the admin asks a second factor
    page = reverse("admin:cases_impactrun_for_version", args=[draft.pk])
    assert "changed since this run" not in client.get(page).content.decode()
    PackVersion.objects.filter(pk=draft.pk).update(revision="edited")
    assert "changed since this run" in client.get(page).content.decode()


def test_legal_staff_follow_a_reevaluation_in_the_admin(
    client: Client, asylum_pack: PackVersion, cases: dict[str, Case], lawyer: User
) -> None:
    from cases import reevaluation
    from tests.cases.workbench import publish

    draft = draft_with_ofpra_days(asylum_pack, 10)
    publish(draft, reason="Décret 2026-123", hooks=False)
    run = reevaluation.start_run(draft.pk, chunk_size=2)
    reevaluation.apply_chunk(run.chunks.get(number=1).pk)
    sign_in_verified(client, lawyer)  # legal staff may publish: the admin asks a second factor
    listing = client.get(reverse("admin:cases_reevaluationrun_changelist")).content.decode()
    assert "2 / 3" in listing
    detail = client.get(reverse("admin:cases_reevaluationrun_change", args=[run.pk]))
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "Décret 2026-123" in html
    assert "Amina" not in html
