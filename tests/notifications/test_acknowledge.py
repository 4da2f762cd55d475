"""Caseworkers acknowledge an alert from the email link or the web; that stops escalation."""

from __future__ import annotations

import re

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from cases.models import Case
from notifications.models import Notification
from notifications.planner import plan_cases
from tests.cases.personas import PASSWORD
from tests.notifications.conftest import NOW, paris

Kind = Notification.Kind
Status = Notification.Status


def overdue_sent_and_escalation_planned(case: Case) -> tuple[Notification, Notification]:
    plan_cases([case.pk], now=NOW)
    Notification.objects.filter(kind=Kind.OVERDUE).update(
        status=Status.SENT, sent_at=paris(2026, 3, 13, 8)
    )
    plan_cases([case.pk], now=paris(2026, 3, 13, 9))
    return (
        Notification.objects.get(kind=Kind.OVERDUE),
        Notification.objects.get(kind=Kind.ESCALATION),
    )


def unmasked(page: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", page)


def login(client: Client, user: User) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_opening_the_email_link_only_asks_mail_scanners_cannot_acknowledge(
    client: Client, deadline_case: Case
) -> None:
    overdue, _ = overdue_sent_and_escalation_planned(deadline_case)
    response = client.get(reverse("notifications:ack", args=[overdue.ack_token]))
    assert response.status_code == 200
    assert b'<form method="post">' in response.content
    overdue.refresh_from_db()
    assert overdue.acknowledged_at is None


def test_posting_the_email_link_acknowledges_and_stops_the_escalation(
    client: Client, deadline_case: Case, caseworker: User
) -> None:
    overdue, escalation = overdue_sent_and_escalation_planned(deadline_case)
    response = client.post(reverse("notifications:ack", args=[overdue.ack_token]))
    assert response.status_code == 200
    overdue.refresh_from_db()
    escalation.refresh_from_db()
    assert overdue.acknowledged_at is not None
    assert overdue.acknowledged_by == caseworker
    assert (escalation.status, escalation.cancel_reason) == (
        Status.CANCELLED,
        "overdue alert acknowledged",
    )
    # A second click changes nothing.
    first = overdue.acknowledged_at
    client.post(reverse("notifications:ack", args=[overdue.ack_token]))
    overdue.refresh_from_db()
    assert overdue.acknowledged_at == first


def test_a_wrong_token_or_an_applicant_alert_token_finds_nothing(
    client: Client, deadline_case: Case
) -> None:
    Case.objects.filter(pk=deadline_case.pk).update(sms_consent=True)
    plan_cases([deadline_case.pk], now=NOW)
    applicant = Notification.objects.filter(audience="applicant").first()
    assert applicant is not None
    assert client.get(reverse("notifications:ack", args=["nope"])).status_code == 404
    assert client.get(reverse("notifications:ack", args=[applicant.ack_token])).status_code == 404


def test_the_caseworker_acknowledges_from_their_alert_list(
    client: Client, deadline_case: Case, caseworker: User
) -> None:
    overdue, escalation = overdue_sent_and_escalation_planned(deadline_case)
    login(client, caseworker)
    page = client.get(reverse("notifications:list"))
    assert page.status_code == 200
    assert "Mes alertes" in page.content.decode()  # French first, like the rest of the app
    assert "Accuser réception" in page.content.decode()
    assert b"A-001" in page.content
    response = client.post(reverse("notifications:acknowledge", args=[overdue.pk]))
    assert response.status_code == 302
    escalation.refresh_from_db()
    assert escalation.status == Status.CANCELLED


def test_a_supervisor_of_the_organisation_may_acknowledge_an_outsider_gets_a_404(
    client: Client, deadline_case: Case, supervisor: User, bruno: User
) -> None:
    overdue, _ = overdue_sent_and_escalation_planned(deadline_case)
    url = reverse("notifications:acknowledge", args=[overdue.pk])
    # Exactly as if it did not exist.
    missing_url = reverse("notifications:acknowledge", args=[overdue.pk + 10_000])
    foreign = login(client, bruno).post(url)
    missing = client.post(missing_url)
    assert foreign.status_code == missing.status_code == 404
    # The same page, but for the CSRF token each page masks afresh and the address itself.
    assert unmasked(foreign.content).replace(url.encode(), b"URL") == unmasked(
        missing.content
    ).replace(missing_url.encode(), b"URL")
    overdue.refresh_from_db()
    assert overdue.acknowledged_at is None
    assert login(client, supervisor).post(url).status_code == 302
    overdue.refresh_from_db()
    assert overdue.acknowledged_by == supervisor


def test_the_alert_list_needs_a_sign_in(client: Client) -> None:
    assert client.get(reverse("notifications:list")).status_code == 302
