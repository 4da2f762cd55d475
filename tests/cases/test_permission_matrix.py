"""Every route, for every kind of visitor: the expected answer, from the URL configuration.

The routes are read from the URLconf, so a new view without a line in MATRIX fails
`test_every_route_has_an_entry`. The admin site counts as one route (its index): its pages
have Django's own permission checks, tested in the apps' admin tests.

Outcomes: a status code ("200", "403", "404", "405", "401"), "login" (sent to a sign-in page),
"2fa" (sent to the second factor), "redirect" (any other redirect: a form done).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from cases.models import CaseEvent, NewElement
from cases.roles import LEGAL_STAFF
from notifications.models import Notification
from tests.cases.personas import make_case, make_member
from tests.conftest import sign_in_verified

EXAMPLE = (
    Path(__file__).resolve().parents[2] / "rules" / "packs" / "asylum-reexamination"
).joinpath("api-example.json")

PERSONAS = ("anonymous", "link", "caseworker_a", "supervisor_a", "caseworker_b", "legal", "admin")
BOGUS_TOKEN = "not-the-secret-token"

Expected = Mapping[str, str | tuple[str, ...]]

# Shorthands for rows: who may do what.
MEMBER_OF_A: Expected = {
    "anonymous": "login",
    "link": "login",
    "caseworker_a": "200",
    "supervisor_a": "200",
    "caseworker_b": "404",
    "legal": "403",
    "admin": "403",
}
ANY_MEMBER: Expected = {**MEMBER_OF_A, "caseworker_b": "200"}
SUPERVISOR_OF_A: Expected = {**MEMBER_OF_A, "caseworker_a": "403"}
SIGNED_IN: Expected = dict.fromkeys(PERSONAS, "200") | {"anonymous": "login", "link": "login"}
API: Expected = dict.fromkeys(PERSONAS, "200") | {"anonymous": "401", "link": "401"}
EVERYONE: Expected = dict.fromkeys(PERSONAS, "200")
TOKEN_HOLDER: Expected = dict.fromkeys(PERSONAS, "404") | {"link": "200"}
# The rules workbench's pages in the admin: staff with the rules app's permissions, second factor
# verified (rules/admin_views); everyone else is sent to the admin's sign-in.
RULES_STAFF: Expected = dict.fromkeys(PERSONAS, "login") | {"legal": "200", "admin": "200"}

# route name: (method, expected outcome per persona)
MATRIX: dict[str, tuple[str, Expected]] = {
    "admin:index": (
        "GET",
        {
            "anonymous": "login",
            "link": "login",
            "caseworker_a": "login",
            "supervisor_a": "login",
            "caseworker_b": "login",
            "legal": "200",
            "admin": "200",
        },
    ),
    "healthz": ("GET", EVERYONE),
    "set_language": ("POST", dict.fromkeys(PERSONAS, "redirect")),
    "api-schema": ("GET", EVERYONE),
    "api-docs": ("GET", EVERYONE),
    "api-evaluate": ("POST", API),
    "api-packs": ("GET", API),
    "api-pack": ("GET", API),
    "dashboard": ("GET", ANY_MEMBER),
    "login": ("GET", dict.fromkeys(PERSONAS, "redirect") | {"anonymous": "200", "link": "200"}),
    # Signed out, everyone lands on the sign-in page.
    "logout": ("POST", dict.fromkeys(PERSONAS, "login")),
    "two-factor": ("GET", SIGNED_IN),
    "case-list": ("GET", ANY_MEMBER),
    "case-create": ("GET", ANY_MEMBER),
    "case-detail": ("GET", MEMBER_OF_A),
    "case-edit": ("GET", MEMBER_OF_A),
    "case-views": ("GET", SUPERVISOR_OF_A),
    "case-personal-data": ("GET", SUPERVISOR_OF_A),
    "event-create": ("GET", MEMBER_OF_A),
    "event-edit": ("GET", MEMBER_OF_A),
    "event-delete": ("GET", MEMBER_OF_A),
    "element-create": ("GET", MEMBER_OF_A),
    "element-edit": ("GET", MEMBER_OF_A),
    "element-delete": ("GET", MEMBER_OF_A),
    "deadlines-csv": ("GET", ANY_MEMBER),
    "calendar-settings": ("GET", ANY_MEMBER),
    "calendar-rotate": (
        "POST",
        {
            **ANY_MEMBER,
            "caseworker_a": "redirect",
            "supervisor_a": "redirect",
            "caseworker_b": "redirect",
        },
    ),
    "calendar-feed": ("GET", TOKEN_HOLDER),
    "notifications:health": ("GET", dict.fromkeys(PERSONAS, ("200", "503"))),
    "notifications:list": ("GET", SIGNED_IN),
    # Another organisation's alert answers as one that does not exist.
    "notifications:acknowledge": (
        "POST",
        {
            **MEMBER_OF_A,
            "caseworker_a": "redirect",
            "supervisor_a": "redirect",
            "legal": "404",
            "admin": "404",
        },
    ),
    "notifications:ack": ("GET", TOKEN_HOLDER),
    # Saving a case as a scenario needs both the case and rules.add_scenario: no caseworker or
    # supervisor has it, and legal staff and administrators are outside any organisation.
    "case-save-scenario": (
        "POST",
        {**MEMBER_OF_A, "caseworker_a": "403", "supervisor_a": "403", "caseworker_b": "404"},
    ),
    "rules_workbench:history": ("GET", RULES_STAFF),
    "rules_workbench:as_of": ("GET", RULES_STAFF),
    "rules_workbench:review": ("GET", RULES_STAFF),
    "rules_workbench:import": ("GET", RULES_STAFF),
    "rules_workbench:export": ("GET", RULES_STAFF),
}


def route_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    names.add("admin:index")
                    continue
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                names.add(namespace + (pattern.name or f"<unnamed {pattern.pattern}>"))

    walk(get_resolver().url_patterns, "")
    return names


def test_every_route_has_an_entry() -> None:
    assert route_names() == set(MATRIX), (
        f"routes without an entry: {sorted(route_names() - set(MATRIX))}; "
        f"entries without a route: {sorted(set(MATRIX) - route_names())}"
    )


@pytest.fixture
def world(asylum_pack: Any, org_a: Any, org_b: Any, carla: User) -> dict[str, Any]:
    case = make_case(
        org_a, carla, asylum_pack, reference="M-1", events=[("registration", dt.date(2026, 4, 1))]
    )
    element = NewElement.objects.create(case=case, date=dt.date(2026, 3, 1))
    alert = Notification.objects.create(
        case=case,
        deadline_key="x",
        due=dt.date(2026, 4, 20),
        kind=Notification.Kind.OVERDUE,
        audience=Notification.Audience.CASEWORKER,
        channel=Notification.Channel.EMAIL,
        recipient_key=f"user:{carla.pk}",
        recipient_user=carla,
        send_after=timezone.now(),
        status=Notification.Status.SENT,
        sent_at=timezone.now(),
    )
    return {
        "case": case,
        "event": CaseEvent.objects.filter(case=case).first(),
        "element": element,
        "alert": alert,
        "feed_token": carla.membership.feed_token,
        "pack_version": asylum_pack,
        "rule": asylum_pack.deadline_rules.first(),
    }


def url_for(name: str, world: dict[str, Any], persona: str) -> str:
    case = world["case"]
    token_of: dict[str, str] = {
        "calendar-feed": world["feed_token"],
        "notifications:ack": world["alert"].ack_token,
    }
    builders: dict[str, Callable[[], list[Any]]] = {
        "api-pack": lambda: ["asylum-reexamination"],
        "case-detail": lambda: [case.pk],
        "case-edit": lambda: [case.pk],
        "case-views": lambda: [case.pk],
        "case-personal-data": lambda: [case.pk],
        "event-create": lambda: [case.pk],
        "element-create": lambda: [case.pk],
        "event-edit": lambda: [case.pk, world["event"].pk],
        "event-delete": lambda: [case.pk, world["event"].pk],
        "element-edit": lambda: [case.pk, world["element"].pk],
        "element-delete": lambda: [case.pk, world["element"].pk],
        "notifications:acknowledge": lambda: [world["alert"].pk],
        "case-save-scenario": lambda: [case.pk],
        "rules_workbench:history": lambda: ["deadlinerule", world["rule"].pk],
        "rules_workbench:as_of": lambda: [world["pack_version"].pack_id],
        "rules_workbench:export": lambda: [world["pack_version"].pk],
    }
    if name in token_of:
        return reverse(name, args=[token_of[name] if persona == "link" else BOGUS_TOKEN])
    return reverse(name, args=builders.get(name, list)())


def outcome(response: Any) -> str:
    if response.status_code in (301, 302):
        location = response["Location"]
        if "/login/" in location:
            return "login"
        if "/two-factor/" in location:
            return "2fa"
        return "redirect"
    return str(response.status_code)


def client_for(persona: str, world: dict[str, Any], people: dict[str, User]) -> Client:
    if persona in ("anonymous", "link"):
        return Client()
    user = people[persona]
    if persona in ("legal", "admin"):
        return sign_in_verified(Client(), user)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def people(carla: User, sofia: User, bruno: User, db: None) -> dict[str, User]:
    legal = make_member("lea", None)
    legal.is_staff = True
    legal.save()
    legal.groups.add(Group.objects.get(name=LEGAL_STAFF))
    admin = User.objects.create_superuser("root", "root@example.org", "not-a-real-secret")
    return {
        "caseworker_a": carla,
        "supervisor_a": sofia,
        "caseworker_b": bruno,
        "legal": legal,
        "admin": admin,
    }


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_route_answers_each_visitor_as_expected(
    name: str, world: dict[str, Any], people: dict[str, User]
) -> None:
    method, expected = MATRIX[name]
    assert set(expected) == set(PERSONAS), name
    body = EXAMPLE.read_text() if name == "api-evaluate" else None
    seen = {}
    for persona in PERSONAS:
        client = client_for(persona, world, people)
        url = url_for(name, world, persona)
        if method == "POST":
            if body is not None:
                response = client.post(url, data=body, content_type="application/json")
            else:
                response = client.post(url, {"language": "en"})
        else:
            response = client.get(url)
        seen[persona] = outcome(response)
    wrong = {}
    for persona, answer in seen.items():
        allowed = expected[persona]
        if answer not in ((allowed,) if isinstance(allowed, str) else allowed):
            wrong[persona] = f"{answer}, expected {allowed}"
    assert not wrong, f"{name}: {wrong}"
