"""A status shown anywhere is today's, not the one of the day the case was last computed."""

from __future__ import annotations

import csv
import datetime as dt
import io

import icalendar
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from cases.models import Case, Deadline, Membership, Organisation
from rules.models import PackVersion
from rules.services import today
from tests.cases.personas import PASSWORD, make_case

# Every page that shows a date or a status reads the day from rules.services.today.
CLOCK_READERS = (
    "cases.views.cases.today",
    "cases.views.dashboard.today",
    "cases.views.exports.today",
    "cases.views.feeds.today",
)


@pytest.fixture
def computed_open(asylum_pack: PackVersion, org_a: Organisation, carla: User) -> Case:
    """A case computed today whose OFPRA submission is still open (due in about a week)."""
    registration = today() - dt.timedelta(days=1)
    case = make_case(
        org_a,
        carla,
        asylum_pack,
        reference="MZ-9",
        events=[("prefecture_presentation", registration), ("registration", registration)],
    )
    deadline = Deadline.objects.get(case=case, key="ofpra_submission")
    assert deadline.status == "open"
    return case


def move_clock(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    for name in CLOCK_READERS:
        monkeypatch.setattr(name, lambda: day)


@pytest.fixture
def english(client: Client, carla: User) -> Client:
    client.login(username=carla.username, password=PASSWORD)
    client.cookies["django_language"] = "en"
    return client


def test_a_month_later_the_page_the_csv_the_feed_and_the_dashboard_say_missed(
    english: Client, computed_open: Case, carla: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    deadline = Deadline.objects.get(case=computed_open, key="ofpra_submission")
    assert deadline.due is not None
    move_clock(monkeypatch, deadline.due + dt.timedelta(days=30))

    page = english.get(reverse("case-detail", args=[computed_open.pk])).content.decode()
    assert 'class="badge badge-missed"' in page

    response = english.get(reverse("deadlines-csv"))
    rows = list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig")), delimiter=";"))
    row = next(r for r in rows if r[3] == "MZ-9" and r[1] == deadline.due.isoformat())
    assert (row[0], row[2]) == ("Overdue", "Missed")

    token = Membership.objects.get(user=carla).feed_token
    feed = icalendar.Calendar.from_ical(english.get(reverse("calendar-feed", args=[token])).content)
    event = next(e for e in feed.walk("VEVENT") if e.decoded("DTSTART") == deadline.due)
    assert str(event["X-DELAIS-STATUS"]) == "missed"
    assert str(event["DESCRIPTION"]).startswith("Missed")

    dashboard = english.get(reverse("dashboard"), {"status": "overdue"}).content.decode()
    assert "MZ-9" in dashboard


def test_before_the_due_date_the_same_case_reads_to_do_everywhere(
    english: Client, computed_open: Case, carla: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    deadline = Deadline.objects.get(case=computed_open, key="ofpra_submission")
    assert deadline.due is not None
    move_clock(monkeypatch, deadline.due - dt.timedelta(days=1))
    page = english.get(reverse("case-detail", args=[computed_open.pk])).content.decode()
    assert 'class="badge badge-open"' in page
    response = english.get(reverse("deadlines-csv"))
    rows = list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig")), delimiter=";"))
    row = next(r for r in rows if r[3] == "MZ-9" and r[1] == deadline.due.isoformat())
    assert row[2] == "To do"
    token = Membership.objects.get(user=carla).feed_token
    feed = icalendar.Calendar.from_ical(english.get(reverse("calendar-feed", args=[token])).content)
    event = next(e for e in feed.walk("VEVENT") if e.decoded("DTSTART") == deadline.due)
    assert str(event["X-DELAIS-STATUS"]) == "open"
