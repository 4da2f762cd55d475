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
    Deadline.objects.filter(case=case, key="ofpra_submission").update(status="possibly_open")
    client.force_login(carla)
    response = client.get(reverse("dashboard"))
    rows = [r for r in response.context["rows"] if r.deadline.key == "ofpra_submission"]
    assert [(r.deadline.case.reference, r.bucket) for r in rows] == [("MAYBE", "overdue")]
    page = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert "Peut-être encore possible — à vérifier avec un juriste" in page.replace("&#x27;", "'")
