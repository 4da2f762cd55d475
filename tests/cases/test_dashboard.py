"""My deadlines: buckets from stored deadlines, filters, search, pages, the CSV export, and a
number of queries that does not grow with the number of cases."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import actions
from cases.models import Case, Organisation
from rules.models import PackVersion
from rules.packstore import load_pack
from rules.services import today
from tests.cases.personas import make_case, make_member
from tests.conftest import SHIPPED_PACK


def ago(days: int) -> dt.date:
    return today() - dt.timedelta(days=days)


def registered(
    org: Organisation, user: User, pack: PackVersion, days_ago: int, **fields: Any
) -> Case:
    """A case registered `days_ago` days ago: its OFPRA submission is due 8 days after."""
    return make_case(org, user, pack, events=[("registration", ago(days_ago))], **fields)


def references(rows: list[Any]) -> list[str]:
    return [row.deadline.case.reference for row in rows]


@pytest.fixture
def spread(asylum_pack: PackVersion, org_a: Organisation, carla: User, sofia: User) -> None:
    """One deadline in each bucket; the suspended one is Sofia's."""
    registered(org_a, carla, asylum_pack, 9, reference="OVERDUE", applicant_name="Olga Ivanova")
    registered(
        org_a,
        carla,
        asylum_pack,
        8,
        reference="TODAY",
        applicant_name="Tariq Aziz",
        department="69",
    )
    registered(org_a, carla, asylum_pack, 5, reference="WEEK", applicant_name="Wen Li")
    registered(org_a, carla, asylum_pack, 0, reference="LATER", applicant_name="Lena Berg")
    make_case(
        org_a,
        sofia,
        asylum_pack,
        reference="SUSPENDED",
        applicant_name="Sami Okafor",
        events=[("decision_notified", ago(10)), ("legal_aid_requested", ago(5))],
    )


def test_deadlines_fall_into_overdue_today_week_and_later_with_suspended_apart(
    client: Client, spread: None, sofia: User
) -> None:
    client.force_login(sofia)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert references(rows) == ["OVERDUE", "TODAY", "WEEK", "LATER"]
    assert [row.bucket for row in rows] == ["overdue", "today", "week", "later"]
    assert references(response.context["suspended"]) == ["SUSPENDED"]
    counts = {b["key"]: b["count"] for b in response.context["buckets"]}
    assert counts == {"overdue": 1, "today": 1, "week": 1, "later": 1, "suspended": 1}
    page = response.content.decode()
    assert "Olga Ivanova" in page
    assert "Envoi de la demande à l'OFPRA" in page.replace("&#x27;", "'")
    # What to do comes from the rule's description in the published pack, in French.
    assert "doit être envoyée par courrier à l'OFPRA dans un délai de 8 jours" in page.replace(
        "&#x27;", "'"
    )


def test_met_deadlines_and_closed_cases_are_not_listed(
    client: Client, asylum_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    met = make_case(
        org_a,
        carla,
        asylum_pack,
        reference="MET",
        events=[("registration", ago(3)), ("ofpra_submission", ago(1))],
    )
    closed = registered(org_a, carla, asylum_pack, 3, reference="CLOSED")
    actions.update_case(closed, user=carla, state=Case.State.CLOSED)
    client.force_login(carla)
    rows = client.get(reverse("dashboard")).context["rows"]
    assert [(r.deadline.case.reference, r.deadline.key) for r in rows] == [
        ("MET", "ofpra_admissibility")
    ]
    assert met.deadlines.get(key="ofpra_submission").status == "met"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("overdue", ["OVERDUE"]),
        ("today", ["TODAY"]),
        ("week", ["WEEK"]),
        ("later", ["LATER"]),
        ("suspended", ["SUSPENDED"]),
    ],
)
def test_the_status_filter_shows_one_bucket(
    client: Client, spread: None, sofia: User, status: str, expected: list[str]
) -> None:
    client.force_login(sofia)
    response = client.get(reverse("dashboard"), {"status": status})
    assert references(response.context["rows"]) == expected
    assert response.context["suspended"] == []


def test_a_caseworker_starts_with_their_own_cases_and_a_supervisor_with_everyones(
    client: Client, spread: None, carla: User, sofia: User
) -> None:
    client.force_login(carla)
    mine = client.get(reverse("dashboard"))
    assert references(mine.context["rows"]) == ["OVERDUE", "TODAY", "WEEK", "LATER"]
    assert mine.context["suspended"] == []
    everyone = client.get(reverse("dashboard"), {"caseworker": "all"})
    assert references(everyone.context["suspended"]) == ["SUSPENDED"]
    client.force_login(sofia)
    assert references(client.get(reverse("dashboard")).context["suspended"]) == ["SUSPENDED"]
    hers = client.get(reverse("dashboard"), {"caseworker": str(sofia.pk)})
    assert hers.context["rows"] == []
    assert references(hers.context["suspended"]) == ["SUSPENDED"]


def test_the_procedure_and_department_filters(
    client: Client, spread: None, sofia: User, org_a: Organisation
) -> None:
    data = json.loads(SHIPPED_PACK.read_text(encoding="utf-8"))
    other = load_pack({**data, "key": "other-procedure", "name": "Another procedure"})
    make_case(org_a, sofia, other, reference="OTHER", events=[("registration", ago(2))])
    client.force_login(sofia)
    only_other = client.get(reverse("dashboard"), {"procedure": "other-procedure"})
    assert {r.deadline.case.reference for r in only_other.context["rows"]} == {"OTHER"}
    asylum = client.get(reverse("dashboard"), {"procedure": "asylum-reexamination"})
    assert "OTHER" not in references(asylum.context["rows"])
    rhone = client.get(reverse("dashboard"), {"department": "69"})
    assert references(rhone.context["rows"]) == ["TODAY"]


@pytest.mark.parametrize("text", ["olga", "IVANOVA", "overd", "OVERDUE"])
def test_search_by_name_or_reference(client: Client, spread: None, sofia: User, text: str) -> None:
    client.force_login(sofia)
    response = client.get(reverse("dashboard"), {"q": text})
    assert references(response.context["rows"]) == ["OVERDUE"]


def test_pages_of_25_keep_the_filters(
    client: Client, asylum_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    for i in range(27):
        registered(org_a, carla, asylum_pack, 20, reference=f"P-{i:02}")
    client.force_login(carla)
    first = client.get(reverse("dashboard"), {"status": "overdue"})
    assert len(first.context["rows"]) == 25
    assert first.context["page"].paginator.num_pages == 2
    assert "status=overdue&amp;page=2" in first.content.decode()
    second = client.get(reverse("dashboard"), {"status": "overdue", "page": "2"})
    assert len(second.context["rows"]) == 2
    assert client.get(reverse("dashboard"), {"page": "99"}).status_code == 200


def read_csv(response: Any) -> list[list[str]]:
    text = b"".join(
        response.streaming_content if response.streaming else [response.content]
    ).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_the_csv_export_has_the_dashboards_deadlines_and_filters(
    client: Client, spread: None, sofia: User
) -> None:
    client.force_login(sofia)
    response = client.get(reverse("deadlines-csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, *rows = read_csv(response)
    assert len(header) == 14  # the last: the warnings of the case that concern the deadline
    assert [row[3] for row in rows] == ["OVERDUE", "TODAY", "WEEK", "LATER", "SUSPENDED"]
    overdue = rows[0]
    assert overdue[1] == ago(1).isoformat()
    assert overdue[4] == "Olga Ivanova"
    assert "doit être envoyée par courrier à l'OFPRA" in overdue[8]
    assert overdue[10].startswith("CESEDA")
    filtered = read_csv(client.get(reverse("deadlines-csv"), {"status": "week"}))
    assert [row[3] for row in filtered[1:]] == ["WEEK"]


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://x")', "+33 1 23", "-2+3", "@SUM(A1)", "\tTAB"]
)
def test_the_csv_export_defuses_spreadsheet_formulas(
    client: Client, asylum_pack: PackVersion, org_a: Organisation, carla: User, name: str
) -> None:
    registered(org_a, carla, asylum_pack, 3, reference="=1+1", applicant_name=name)
    client.force_login(carla)
    (row,) = read_csv(client.get(reverse("deadlines-csv")))[1:]
    assert row[3] == "'=1+1"
    assert row[4] == "'" + name


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        assert response.status_code == 200
        response.getvalue()  # a streamed body (the CSV export) is read from the database as sent
    return len(queries)


@pytest.mark.parametrize("name", ["dashboard", "case-list", "deadlines-csv"])
def test_the_number_of_queries_does_not_grow_with_the_cases(
    client: Client,
    asylum_pack: PackVersion,
    org_a: Organisation,
    sofia: User,
    name: str,
    django_assert_num_queries: Any,
) -> None:
    others = [make_member(f"worker{i}", org_a, first_name=f"Worker {i}") for i in range(3)]
    people = [sofia, *others]

    def add_cases(count: int) -> None:
        start = Case.objects.count()
        for i in range(start, start + count):
            make_case(
                org_a,
                people[i % 4],
                asylum_pack,
                reference=f"Q-{i:03}",
                department=["54", "69", "75", "2A"][i % 4],
                events=[
                    ("registration", ago(i % 12)),
                    ("decision_notified", ago(10)),
                    ("legal_aid_requested", ago(5)),
                ],
            )

    client.force_login(sofia)
    url = reverse(name) + "?caseworker=all"
    add_cases(5)
    client.get(url)  # warm the compiled pack cache and the session
    with_five = count_queries(client, url)
    add_cases(45)
    with django_assert_num_queries(with_five):
        response = client.get(url)
        assert response.status_code == 200
        response.getvalue()
