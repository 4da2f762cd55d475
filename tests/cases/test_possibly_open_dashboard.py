"""A deadline past its due date that may still be met if extended stays on the dashboard."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from cases.models import Deadline, Organisation
from rules.models import PackVersion
from rules.services import today
from tests.cases.personas import make_case


def test_a_possibly_open_deadline_is_listed_as_overdue_with_its_words(
    client: Client, asylum_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    case = make_case(
        org_a,
        carla,
        asylum_pack,
        reference="MAYBE",
        events=[("registration", today() - dt.timedelta(days=9))],
    )
    # As an evaluation stores it between a non-working due date and the next working day.
    Deadline.objects.filter(case=case, key="ofpra_submission").update(
        status="possibly_open", next_working_day=today() + dt.timedelta(days=1)
    )
    client.force_login(carla)
    response = client.get(reverse("dashboard"))
    rows = [r for r in response.context["rows"] if r.deadline.key == "ofpra_submission"]
    assert [(r.deadline.case.reference, r.bucket) for r in rows] == [("MAYBE", "overdue")]
    page = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert "Peut-être encore possible — à vérifier avec un juriste" in page.replace("&#x27;", "'")


def test_a_stored_open_deadline_that_may_be_extended_reads_possibly_open_then_missed(
    asylum_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    case = make_case(org_a, carla, asylum_pack, events=[("registration", dt.date(2026, 4, 8))])
    deadline = Deadline.objects.get(case=case, key="ofpra_submission")
    # Due on a Saturday; the limit may run to Monday: the day the app reads it decides the status.
    deadline.status, deadline.due = Deadline.Status.OPEN, dt.date(2026, 4, 18)
    deadline.next_working_day = dt.date(2026, 4, 20)
    assert deadline.status_on(dt.date(2026, 4, 18)) == "open"
    assert deadline.status_on(dt.date(2026, 4, 19)) == "possibly_open"
    assert deadline.status_on(dt.date(2026, 4, 20)) == "possibly_open"
    assert deadline.status_on(dt.date(2026, 4, 21)) == "missed"
    deadline.next_working_day = None
    assert deadline.status_on(dt.date(2026, 4, 19)) == "missed"
