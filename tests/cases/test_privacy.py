"""Personal data: who viewed a case is recorded, closed cases are anonymised after the retention
period (history included, with a dry run), and one applicant's data can be exported."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from cases import actions
from cases.models import Case, CaseEvent, CaseView, NewElement
from cases.privacy import ANONYMISE_SCHEDULE_NAME, anonymise_closed_cases
from cases.tasks import ANONYMISE_TASK

NAME, PHONE, EMAIL = "Amina Diallo", "+33612345678", "amina.diallo@example.org"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def personal_case(case_a: Case, carla: User) -> Case:
    actions.update_case(case_a, user=carla, phone=PHONE, email=EMAIL, email_consent=True)
    actions.record_event(
        case_a,
        user=carla,
        type="prefecture_presentation",
        date=dt.date(2026, 3, 30),
        note=f"came with her brother, call {PHONE}",
    )
    actions.add_new_element(
        case_a, user=carla, date=dt.date(2026, 4, 2), description=f"letter to {NAME}"
    )
    return case_a


def close(case: Case, user: User, days_ago: int) -> None:
    actions.update_case(case, user=user, state=Case.State.CLOSED)
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - dt.timedelta(days=days_ago))


# --- who viewed a case ----------------------------------------------------------------------


def test_the_case_page_the_csv_and_the_feed_record_who_viewed_the_case(
    case_a: Case, carla: User, sofia: User
) -> None:
    signed_in(carla).get(reverse("case-detail", args=[case_a.pk]))
    signed_in(sofia).get(reverse("deadlines-csv"))
    Client().get(reverse("calendar-feed", args=[carla.membership.feed_token]))
    seen = {(v.user and v.user.username, v.through) for v in CaseView.objects.filter(case=case_a)}
    assert seen == {("carla", "page"), ("sofia", "csv_export"), ("carla", "feed")}


def test_a_supervisor_sees_who_viewed_a_caseworker_does_not(
    case_a: Case, carla: User, sofia: User
) -> None:
    signed_in(carla).get(reverse("case-detail", args=[case_a.pk]))
    page = signed_in(sofia).get(reverse("case-views", args=[case_a.pk]))
    assert page.status_code == 200
    assert "Carla Dumas" in page.content.decode()
    assert signed_in(carla).get(reverse("case-views", args=[case_a.pk])).status_code == 403


def test_another_organisation_cannot_see_the_views_of_a_case(case_a: Case, bruno: User) -> None:
    assert signed_in(bruno).get(reverse("case-views", args=[case_a.pk])).status_code == 404


# --- export of one person's data ------------------------------------------------------------


def test_a_supervisor_exports_everything_stored_about_the_applicant(
    personal_case: Case, sofia: User, carla: User
) -> None:
    response = signed_in(sofia).get(reverse("case-personal-data", args=[personal_case.pk]))
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["case"]["applicant_name"] == NAME
    assert data["case"]["phone"] == PHONE
    assert data["case"]["email"] == EMAIL
    assert any(PHONE in e["note"] for e in data["events"])
    assert data["new_elements"][0]["description"] == f"letter to {NAME}"
    assert data["deadlines"]
    assert data["history"]["case"]
    assert CaseView.objects.filter(case=personal_case, through="data_export").exists()
    assert (
        signed_in(carla).get(reverse("case-personal-data", args=[personal_case.pk])).status_code
        == 403
    )


def test_the_export_command_prints_the_same_json(personal_case: Case) -> None:
    out = io.StringIO()
    call_command("export_personal_data", str(personal_case.pk), stdout=out)
    assert json.loads(out.getvalue())["case"]["email"] == EMAIL


# --- retention ------------------------------------------------------------------------------


def test_the_dry_run_lists_the_cases_due_and_changes_nothing(
    personal_case: Case, carla: User, settings: Any
) -> None:
    settings.CASE_RETENTION_DAYS = 30
    close(personal_case, carla, days_ago=31)
    out = io.StringIO()
    call_command("anonymise_closed_cases", "--dry-run", stdout=out)
    assert f"case {personal_case.pk} " in out.getvalue()
    assert "would be anonymised" in out.getvalue()
    assert NAME not in out.getvalue()
    personal_case.refresh_from_db()
    assert personal_case.applicant_name == NAME
    assert personal_case.anonymised_at is None


def test_closed_cases_past_retention_are_anonymised_history_included(
    personal_case: Case, carla: User, settings: Any
) -> None:
    settings.CASE_RETENTION_DAYS = 30
    close(personal_case, carla, days_ago=31)
    call_command("anonymise_closed_cases", stdout=io.StringIO())
    personal_case.refresh_from_db()
    assert personal_case.applicant_name == "anonymised"
    assert (personal_case.phone, personal_case.email) == ("", "")
    assert personal_case.anonymised_at is not None
    stored: list[str] = []
    for row in Case.history.filter(id=personal_case.pk).values():
        stored.extend(str(v) for v in row.values())
    for model in (CaseEvent, NewElement):
        for row in model.history.filter(case_id=personal_case.pk).values():
            stored.extend(str(v) for v in row.values())
        for row in model.objects.filter(case_id=personal_case.pk).values():
            stored.extend(str(v) for v in row.values())
    text = " ".join(stored)
    for secret in (NAME, PHONE, EMAIL, "A-001"):
        assert secret not in text
    # The deadlines and events themselves stay: statistics and the audit trail survive.
    assert personal_case.events.count() == 2


def test_open_and_recently_closed_cases_are_kept(
    personal_case: Case, carla: User, settings: Any
) -> None:
    settings.CASE_RETENTION_DAYS = 30
    close(personal_case, carla, days_ago=29)
    assert anonymise_closed_cases() == 0
    personal_case.refresh_from_db()
    assert personal_case.applicant_name == NAME


def test_a_retention_of_zero_never_anonymises(
    personal_case: Case, carla: User, settings: Any
) -> None:
    settings.CASE_RETENTION_DAYS = 0
    close(personal_case, carla, days_ago=10_000)
    assert anonymise_closed_cases() == 0


def test_reopening_a_case_stops_its_retention_clock(personal_case: Case, carla: User) -> None:
    close(personal_case, carla, days_ago=1)
    actions.update_case(personal_case, user=carla, state=Case.State.OPEN)
    personal_case.refresh_from_db()
    assert personal_case.closed_at is None


def test_beat_runs_the_anonymisation_daily(db: None) -> None:
    entry = PeriodicTask.objects.get(name=ANONYMISE_SCHEDULE_NAME)
    assert entry.task == ANONYMISE_TASK
    assert entry.interval is not None
    assert (entry.interval.every, entry.interval.period) == (1, "days")
