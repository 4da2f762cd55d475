"""People and cases for the web app's tests: two organisations, their members, and outsiders.

Imported by the conftest of tests/cases and tests/browser, so that both test the same personas:
Carla (caseworker) and Sofia (supervisor) of organisation A, Bruno (caseworker) of organisation B,
and Nadia, who has an account but no organisation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest
from django.contrib.auth.models import User

from cases import actions
from cases.models import Case, CaseEvent, Membership, NewElement, Organisation
from rules.models import PackVersion

PASSWORD = "not-a-real-secret"


def make_member(
    username: str,
    organisation: Organisation | None,
    role: str = "caseworker",
    first_name: str = "",
    last_name: str = "",
) -> User:
    user = User.objects.create_user(
        username, password=PASSWORD, first_name=first_name, last_name=last_name
    )
    if organisation is not None:
        Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


def make_case(
    organisation: Organisation,
    assigned_to: User,
    pack: PackVersion,
    events: Sequence[tuple[Any, ...]] = (),
    **fields: Any,
) -> Case:
    """A case opened and its events recorded through cases/actions.py, as the app does."""
    values: dict[str, Any] = {
        "reference": f"R-{Case.objects.count() + 1}",
        "applicant_name": "Applicant",
        "department": "54",
    }
    values.update(fields)
    case = actions.create_case(
        organisation=organisation,
        user=assigned_to,
        assigned_to=assigned_to,
        procedure=pack.pack,
        **values,
    )
    for event in events:
        actions.record_event(
            case,
            user=assigned_to,
            type=event[0],
            date=event[1],
            outcome=event[2] if len(event) > 2 else "",
        )
    return case


def import_timeline(
    organisation: Organisation, user: User, pack: PackVersion, reference: str, request: Any
) -> Case:
    """A case with the facts of a generated API request (tests.rules.test_random_timelines),
    its events and new elements written as an import would, not yet evaluated with them."""
    case = actions.create_case(
        organisation=organisation,
        user=user,
        assigned_to=user,
        procedure=pack.pack,
        reference=reference,
        applicant_name="Applicant",
        department=request["department"],
        previous_reexaminations=request["previous_reexaminations"],
    )
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case=case,
            type=e["type"],
            date=dt.date.fromisoformat(e["date"]),
            outcome=e.get("outcome", ""),
        )
        for e in request["events"]
    )
    NewElement.objects.bulk_create(
        NewElement(
            case=case,
            date=dt.date.fromisoformat(e["date"]),
            known_on=dt.date.fromisoformat(e["known_on"]) if e.get("known_on") else None,
        )
        for e in request["new_elements"]
    )
    return case


@pytest.fixture
def org_a(db: None) -> Organisation:
    return Organisation.objects.create(name="Cimade Metz")


@pytest.fixture
def org_b(db: None) -> Organisation:
    return Organisation.objects.create(name="Forum Réfugiés Lyon")


@pytest.fixture
def carla(org_a: Organisation) -> User:
    return make_member("carla", org_a, "caseworker", "Carla", "Dumas")


@pytest.fixture
def sofia(org_a: Organisation) -> User:
    return make_member("sofia", org_a, "supervisor", "Sofia", "Marchetti")


@pytest.fixture
def bruno(org_b: Organisation) -> User:
    return make_member("bruno", org_b, "caseworker", "Bruno", "Keller")


@pytest.fixture
def nadia(db: None) -> User:
    """An account with no organisation (legal staff look like this)."""
    return make_member("nadia", None)


@pytest.fixture
def case_a(asylum_pack: PackVersion, org_a: Organisation, carla: User) -> Case:
    """Carla's case in organisation A, with a registration that starts a deadline."""
    return make_case(
        org_a,
        carla,
        asylum_pack,
        reference="A-001",
        applicant_name="Amina Diallo",
        events=[("registration", dt.date(2026, 4, 1))],
    )
