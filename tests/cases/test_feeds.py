"""The calendar feed: valid iCalendar, only the member's pending deadlines, a secret URL that
can be replaced."""

from __future__ import annotations

import datetime as dt
from typing import Any

import icalendar
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from cases.models import Case, Membership, Organisation
from rules.models import PackVersion
from rules.services import today
from tests.cases.personas import make_case


def feed(client: Client, user: User) -> icalendar.Calendar:
    token = Membership.objects.get(user=user).feed_token
    response = client.get(reverse("calendar-feed", args=[token]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def events(calendar: icalendar.Calendar) -> list[Any]:
    return list(calendar.walk("VEVENT"))


def test_the_feed_is_valid_icalendar_with_all_day_events(
    client: Client, case_a: Case, carla: User
) -> None:
    calendar = feed(client, carla)
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    (event,) = events(calendar)
    deadline = case_a.deadlines.get(key="ofpra_submission")
    assert event.decoded("DTSTART") == deadline.due
    assert event.decoded("DTEND") == deadline.due + dt.timedelta(days=1)
    assert isinstance(event.decoded("DTSTAMP"), dt.datetime)
    assert str(event["UID"]) == f"case-{case_a.pk}-ofpra_submission@delais-asile"
    assert str(event["SUMMARY"]) == "A-001 · Envoi de la demande à l'OFPRA"
    assert "Amina" not in calendar.to_ical().decode()


def test_the_uid_stays_the_same_when_the_due_date_moves(
    client: Client, case_a: Case, carla: User
) -> None:
    from cases import actions

    (before,) = events(feed(client, carla))
    actions.update_event(case_a.events.get(), user=carla, date=dt.date(2026, 4, 3))
    (after,) = events(feed(client, carla))
    assert before["UID"] == after["UID"]
    assert after.decoded("DTSTART") == dt.date(2026, 4, 11)


def test_a_caseworker_gets_their_own_cases_and_a_supervisor_the_organisations(
    client: Client,
    asylum_pack: PackVersion,
    org_a: Organisation,
    case_a: Case,
    carla: User,
    sofia: User,
    bruno: User,
) -> None:
    make_case(
        org_a,
        sofia,
        asylum_pack,
        reference="S-001",
        events=[("registration", today() - dt.timedelta(days=2))],
    )
    make_case(
        bruno.membership.organisation,
        bruno,
        asylum_pack,
        reference="B-001",
        events=[("registration", today())],
    )

    def summaries(user: User) -> set[str]:
        return {str(e["SUMMARY"]).split(" · ")[0] for e in events(feed(client, user))}

    assert summaries(carla) == {"A-001"}
    assert summaries(sofia) == {"A-001", "S-001"}
    assert summaries(bruno) == {"B-001"}


def test_met_suspended_and_closed_deadlines_are_left_out(
    client: Client, asylum_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    from cases import actions

    make_case(
        org_a,
        carla,
        asylum_pack,
        reference="MET",
        events=[
            ("registration", dt.date(2026, 4, 1)),
            ("ofpra_submission", dt.date(2026, 4, 2)),
            ("ofpra_admissibility_decision", dt.date(2026, 4, 5), "admissible"),
        ],
    )
    make_case(
        org_a,
        carla,
        asylum_pack,
        reference="SUSPENDED",
        events=[
            ("decision_notified", dt.date(2026, 4, 1)),
            ("legal_aid_requested", dt.date(2026, 4, 3)),
        ],
    )
    closed = make_case(
        org_a,
        carla,
        asylum_pack,
        reference="CLOSED",
        events=[("registration", dt.date(2026, 4, 1))],
    )
    actions.update_case(closed, user=carla, state=Case.State.CLOSED)
    make_case(
        org_a,
        carla,
        asylum_pack,
        reference="PENDING",
        events=[("registration", dt.date(2026, 4, 1))],
    )
    shown = {str(e["SUMMARY"]) for e in events(feed(client, carla))}
    assert shown == {"PENDING · Envoi de la demande à l'OFPRA"}


def test_an_unknown_token_is_a_404(client: Client, db: None) -> None:
    assert client.get(reverse("calendar-feed", args=["x" * 43])).status_code == 404


def test_renewing_the_link_revokes_the_old_one(client: Client, case_a: Case, carla: User) -> None:
    old = Membership.objects.get(user=carla).feed_token
    client.force_login(carla)
    page = client.get(reverse("calendar-settings")).content.decode()
    assert old in page
    response = client.post(reverse("calendar-rotate"))
    assert response.status_code == 302
    new = Membership.objects.get(user=carla).feed_token
    assert new != old
    assert client.get(reverse("calendar-feed", args=[old])).status_code == 404
    assert client.get(reverse("calendar-feed", args=[new])).status_code == 200
    record = Membership.objects.get(user=carla).history.latest()
    assert (record.history_user, record.history_change_reason) == (carla, "calendar link renewed")


def test_renewing_the_link_needs_a_post(client: Client, carla: User) -> None:
    old = Membership.objects.get(user=carla).feed_token
    client.force_login(carla)
    assert client.get(reverse("calendar-rotate")).status_code == 405
    assert Membership.objects.get(user=carla).feed_token == old
