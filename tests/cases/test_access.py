"""Each boundary proved from the outside: an outsider gets a 404, a 403 or a login page, never
another organisation's data; members see their own organisation's cases."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse

from cases.models import Case, CaseEvent, Membership, NewElement
from cases.roles import LEGAL_STAFF
from rules.models import PackVersion
from tests.cases.personas import make_case
from tests.conftest import sign_in_verified

SECRET_BITS = ("Amina Diallo", "A-001")


@pytest.fixture
def element(case_a: Case, carla: User) -> NewElement:
    from cases import actions

    return actions.add_new_element(case_a, user=carla, date=dt.date(2026, 1, 5))


def case_urls(case: Case, event: CaseEvent, element: NewElement) -> list[str]:
    return [
        reverse("case-detail", args=[case.pk]),
        reverse("case-edit", args=[case.pk]),
        reverse("event-create", args=[case.pk]),
        reverse("event-edit", args=[case.pk, event.pk]),
        reverse("event-delete", args=[case.pk, event.pk]),
        reverse("element-create", args=[case.pk]),
        reverse("element-edit", args=[case.pk, element.pk]),
        reverse("element-delete", args=[case.pk, element.pk]),
    ]


APP_URLS = ["dashboard", "case-list", "case-create", "deadlines-csv", "calendar-settings"]


def assert_login_page(response: Any, url: str) -> None:
    assert response.status_code == 302, url
    assert response["Location"].startswith(reverse("login")), url


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def assert_nothing_of_a(response: object) -> None:
    body = getattr(response, "content", b"").decode("utf-8", "replace")
    for bit in SECRET_BITS:
        assert bit not in body


def test_anonymous_visitors_are_sent_to_the_login_page_everywhere(
    client: Client, case_a: Case, element: NewElement
) -> None:
    event = case_a.events.get()
    for url in [reverse(name) for name in APP_URLS] + case_urls(case_a, event, element):
        assert_login_page(client.get(url), url)
        response = client.post(url)
        if response.status_code != 405:  # read-only pages refuse a POST before anything else
            assert_login_page(response, url)
    assert case_a.events.count() == 1


def test_another_organisations_caseworker_gets_404_on_every_case_url(
    client: Client, case_a: Case, element: NewElement, bruno: User
) -> None:
    login(client, bruno)
    event = case_a.events.get()
    for url in case_urls(case_a, event, element):
        assert client.get(url).status_code == 404, url
        response = client.post(
            url,
            {
                "type": "registration",
                "date": "2026-04-02",
                "reference": "X",
                "applicant_name": "X",
                "department": "75",
            },
        )
        assert response.status_code in (404, 405), url
        assert_nothing_of_a(response)
    case_a.refresh_from_db()
    assert (case_a.reference, case_a.events.count(), case_a.new_elements.count()) == ("A-001", 1, 1)


def test_an_event_cannot_be_reached_through_another_case(
    client: Client, asylum_pack: PackVersion, case_a: Case, bruno: User
) -> None:
    own = make_case(bruno.membership.organisation, bruno, asylum_pack, reference="B-001")
    login(client, bruno)
    event = case_a.events.get()
    for name in ("event-edit", "event-delete"):
        assert client.get(reverse(name, args=[own.pk, event.pk])).status_code == 404
        assert client.post(reverse(name, args=[own.pk, event.pk])).status_code == 404
    assert CaseEvent.objects.filter(pk=event.pk).exists()


def test_another_organisations_lists_exports_and_feed_show_nothing_of_it(
    client: Client, asylum_pack: PackVersion, case_a: Case, bruno: User
) -> None:
    make_case(
        bruno.membership.organisation,
        bruno,
        asylum_pack,
        reference="B-001",
        applicant_name="Bilal Haddad",
        events=[("registration", dt.date(2026, 4, 1))],
    )
    login(client, bruno)
    for url in [
        reverse("dashboard"),
        reverse("dashboard") + "?caseworker=all",
        reverse("case-list"),
        reverse("case-list") + "?state=all&q=Amina",
        reverse("deadlines-csv"),
        reverse("deadlines-csv") + "?caseworker=all",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_nothing_of_a(response)
    assert "Bilal Haddad" in client.get(reverse("case-list")).content.decode()
    feed = client.get(reverse("calendar-feed", args=[bruno.membership.feed_token]))
    assert feed.status_code == 200
    assert b"B-001" in feed.content
    assert b"A-001" not in feed.content


def test_filtering_on_another_organisations_caseworker_matches_nothing(
    client: Client, case_a: Case, carla: User, bruno: User
) -> None:
    login(client, bruno)
    response = client.get(reverse("dashboard"), {"caseworker": carla.pk})
    assert response.status_code == 200
    assert_nothing_of_a(response)


def test_someone_outside_any_organisation_is_refused_the_app(
    client: Client, case_a: Case, element: NewElement, nadia: User
) -> None:
    login(client, nadia)
    for name in APP_URLS:
        response = client.get(reverse(name))
        assert response.status_code == 403, name
        assert_nothing_of_a(response)
    event = case_a.events.get()
    for url in case_urls(case_a, event, element):
        assert client.get(url).status_code == 403, url
        assert client.post(url).status_code in (403, 405), url
    assert case_a.events.count() == 1


def test_an_unknown_or_revoked_feed_token_is_a_404(client: Client, carla: User) -> None:
    assert client.get(reverse("calendar-feed", args=["not-a-token"])).status_code == 404
    assert client.get("/feeds/.ics").status_code == 404
    carla.is_active = False
    carla.save()
    assert (
        client.get(reverse("calendar-feed", args=[carla.membership.feed_token])).status_code == 404
    )


def test_caseworkers_see_their_organisations_cases_and_supervisors_too(
    client: Client, case_a: Case, carla: User, sofia: User
) -> None:
    for person in (carla, sofia):
        login(client, person)
        response = client.get(reverse("case-detail", args=[case_a.pk]))
        assert response.status_code == 200
        assert "Amina Diallo" in response.content.decode()
        assert "Amina Diallo" in client.get(reverse("case-list")).content.decode()


def test_members_get_no_admin_access_by_default(
    client: Client, case_a: Case, carla: User, sofia: User
) -> None:
    for person in (carla, sofia):
        login(client, person)
        for url in (
            reverse("admin:cases_case_changelist"),
            reverse("admin:cases_case_change", args=[case_a.pk]),
        ):
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login"))


def test_staff_of_another_organisation_cannot_see_its_cases_in_the_admin(
    client: Client, case_a: Case, bruno: User
) -> None:
    bruno.is_staff = True
    bruno.save()
    bruno.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="cases",
            codename__in=["view_case", "change_case", "view_membership", "view_organisation"],
        )
    )
    login(client, bruno)
    listing = client.get(reverse("admin:cases_case_changelist"))
    assert listing.status_code == 200
    assert_nothing_of_a(listing)
    change = client.get(reverse("admin:cases_case_change", args=[case_a.pk]))
    # The admin answers a missing object with a redirect to its index and a message.
    assert change.status_code in (302, 404)
    assert_nothing_of_a(change)
    memberships = client.get(reverse("admin:cases_membership_changelist"))
    assert "carla" not in memberships.content.decode()
    organisations = client.get(reverse("admin:cases_organisation_changelist"))
    assert "Cimade Metz" not in organisations.content.decode()


def test_staff_of_the_same_organisation_see_its_cases_in_the_admin(
    client: Client, case_a: Case, sofia: User
) -> None:
    sofia.is_staff = True
    sofia.save()
    sofia.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="cases", codename__in=["view_case", "change_case"]
        )
    )
    login(client, sofia)
    response = client.get(reverse("admin:cases_case_change", args=[case_a.pk]))
    assert response.status_code == 200
    assert "Amina Diallo" in response.content.decode()
    # The feed token is a secret even from colleagues with admin access.
    assert Membership.objects.get(user=sofia).feed_token not in response.content.decode()


def test_legal_staff_edit_rules_but_cannot_see_cases(
    client: Client, case_a: Case, nadia: User
) -> None:
    nadia.is_staff = True
    nadia.save()
    nadia.groups.add(Group.objects.get(name=LEGAL_STAFF))
    sign_in_verified(client, nadia)
    assert client.get(reverse("admin:rules_packversion_changelist")).status_code == 200
    for url in (
        reverse("admin:cases_case_changelist"),
        reverse("admin:cases_case_change", args=[case_a.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert_nothing_of_a(response)
    assert client.get(reverse("case-detail", args=[case_a.pk])).status_code == 403


def test_the_legal_staff_group_holds_every_rules_permission_and_none_on_cases(db: None) -> None:
    group = Group.objects.get(name=LEGAL_STAFF)
    rules = Permission.objects.filter(content_type__app_label="rules")
    assert set(rules) <= set(group.permissions.all())
    # From the cases app: only the impact and re-evaluation runs (references, no applicant).
    assert set(
        group.permissions.filter(content_type__app_label="cases").values_list("codename", flat=True)
    ) == {"view_impactrun", "add_impactrun", "view_reevaluationrun", "view_reevaluationchunk"}
