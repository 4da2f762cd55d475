"""What the dashboard's cheaper reads still show: every page of the list is the matching slice of
the whole ordered list, the department filter offers exactly the departments of the reader's
organisation's cases, and each row shows its case, date and caseworker."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

from cases.dashboard import PENDING, departments_of
from cases.forms import person_name
from cases.models import Deadline, Organisation
from rules.models import PackVersion
from rules.services import today
from tests.cases.personas import make_case, make_member


def test_each_page_is_its_slice_of_the_whole_ordered_list(
    client: Client, asylum_pack: PackVersion, org_a: Organisation, sofia: User
) -> None:
    workers = [make_member(f"worker{i}", org_a, first_name=f"Worker {i}") for i in range(3)]
    for i in range(30):
        make_case(
            org_a,
            workers[i % 3],
            asylum_pack,
            reference=f"P-{29 - i:02}",  # the reference order is not the creation order
            events=[("registration", today() - dt.timedelta(days=i % 7))],
        )
    everything = [
        (d.case_reference, d.key)
        for d in Deadline.objects.filter(
            organisation=org_a,
            case_open=True,
            status__in=PENDING,
            completed_on__isnull=True,
            due__isnull=False,
        ).order_by("due", "case_reference", "key")
    ]
    assert len(everything) > 25  # two pages at least
    client.force_login(sofia)
    shown = []
    for number in range(1, (len(everything) + 24) // 25 + 1):
        page = client.get(reverse("dashboard"), {"caseworker": "all", "page": str(number)})
        shown += [(r.deadline.case.reference, r.deadline.key) for r in page.context["rows"]]
    assert shown == everything


def test_the_department_filter_offers_the_departments_of_the_organisations_cases(
    client: Client,
    asylum_pack: PackVersion,
    org_a: Organisation,
    org_b: Organisation,
    carla: User,
    bruno: User,
) -> None:
    for department in ["69", "2A", "54", "69", "976", "54"]:
        make_case(org_a, carla, asylum_pack, department=department)
    make_case(org_b, bruno, asylum_pack, department="13")
    assert departments_of(org_a.pk) == ["2A", "54", "69", "976"]
    assert departments_of(org_b.pk) == ["13"]
    client.force_login(carla)
    form = client.get(reverse("dashboard")).context["form"]
    assert [value for value, _ in form.fields["department"].choices] == [
        "",
        "2A",
        "54",
        "69",
        "976",
    ]


def test_a_row_shows_its_case_due_date_and_caseworker_in_the_readers_language(
    client: Client, asylum_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    case = make_case(
        org_a,
        carla,
        asylum_pack,
        reference="ROW-1",
        applicant_name="Olga Ivanova",
        department="69",
        events=[("registration", today() - dt.timedelta(days=2))],
    )
    deadline = case.deadlines.get(key="ofpra_submission")
    assert deadline.due is not None
    client.force_login(carla)
    for language in ("fr", "en"):
        client.cookies["django_language"] = language
        page = client.get(reverse("dashboard")).content.decode()
        with translation.override(language):
            shown = f"{date_format(deadline.due, 'D')} {date_format(deadline.due, 'DATE_FORMAT')}"
            label = deadline.label_text
        assert f'<time datetime="{deadline.due.isoformat()}" class="due">{shown}</time>' in page
        url = reverse("case-detail", args=[case.pk])
        assert f'href="{url}" class="strong">Olga Ivanova' in page
        assert "ROW-1 · 69" in page
        assert label.replace("'", "&#x27;") in page
        assert f">{person_name(carla)}</td>" in page
