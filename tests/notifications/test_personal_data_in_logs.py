"""No name, phone number or email address in any log: a case goes through every path (web
sign-in, case and event forms with their errors, pages, CSV, calendar feed, API with its errors,
alert planning, email and SMS sends and a failed send) while every logger records at DEBUG, and
the records, and what the console SMS backend prints, are scanned for the applicant's data."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from cases.models import Case
from notifications.models import Notification
from notifications.planner import plan_cases
from notifications.sender import send_notification
from rules.models import PackVersion
from tests.cases.personas import PASSWORD
from tests.notifications.conftest import paris
from tests.notifications.servers import SmtpServer

NAME = "Zéphirine Quatrebarbes"
PHONE_TYPED = "06 98 76 54 32"
PHONE_E164 = "+33698765432"
EMAIL = "zephirine.quatrebarbes@example.net"
EXAMPLE = json.loads(
    (
        Path(__file__).resolve().parents[2]
        / "rules"
        / "packs"
        / "asylum-reexamination"
        / "api-example.json"
    ).read_text()
)

# Each way the data could be written: the name in parts, the number in its usual spellings.
NEEDLES = [
    "Quatrebarbes",
    "Zéphirine",
    "Zephirine",
    PHONE_E164,
    "698765432",
    "98 76 54 32",
    "98.76.54.32",
    EMAIL,
    "zephirine.quatrebarbes",
    # The caseworker's own address is personal data too.
    "carla@cimade-metz.example.org",
]


# The SMTP server of the test (aiosmtpd) logs what it receives; it stands for the mail provider.
TEST_SERVERS = ("mail.log",)


@pytest.fixture
def every_logger_at_debug(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
        logger = logging.getLogger(name)
        # A logger that does not propagate would hide its records from the capture.
        assert logger.propagate or logger.handlers == [] or name.startswith("py.warnings"), name
    return caplog


def leaks(text: str) -> list[str]:
    lowered = text.lower()
    return [needle for needle in NEEDLES if needle.lower() in lowered]


def test_no_personal_data_reaches_any_log(
    every_logger_at_debug: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    asylum_pack: PackVersion,
    caseworker: User,
    supervisor: User,
    smtp_server: SmtpServer,
    settings: Any,
    celery_eager: None,
) -> None:
    caplog = every_logger_at_debug
    settings.SMS_BACKEND = "console"
    client = Client()
    client.raise_request_exception = False

    # Sign-in, with one wrong password first (login throttling logs attempts).
    client.post(reverse("login"), {"username": "carla", "password": "wrong"})
    assert (
        client.post(reverse("login"), {"username": "carla", "password": PASSWORD}).status_code
        == 302
    )

    # The case form: once refused (bad phone), then accepted.
    form = {
        "applicant_name": NAME,
        "reference": "LOG-1",
        "procedure": asylum_pack.pack_id,
        "department": "57",
        "previous_reexaminations": "0",
        "preferred_language": "fr",
        "phone": f"{PHONE_TYPED} 99",
        "sms_consent": "on",
        "email": EMAIL,
        "email_consent": "on",
        "assigned_to": caseworker.pk,
    }
    assert client.post(reverse("case-create"), form).status_code == 200
    assert client.post(reverse("case-create"), {**form, "phone": PHONE_TYPED}).status_code == 302
    case = Case.objects.get(reference="LOG-1")
    assert case.phone == PHONE_E164

    # Events: a refused one (a year typed wrong) and a real one with a note naming the applicant.
    event = {"type": "registration", "date": "2126-03-02", "note": f"{NAME} came"}
    assert client.post(reverse("event-create", args=[case.pk]), event).status_code == 200
    event["date"] = "2026-03-02"
    assert client.post(reverse("event-create", args=[case.pk]), event).status_code == 302

    # Pages, exports, feed, refusals.
    assert client.get(reverse("case-detail", args=[case.pk])).status_code == 200
    assert client.get(reverse("deadlines-csv")).status_code == 200
    assert client.get(reverse("case-personal-data", args=[case.pk])).status_code == 403
    assert client.get(reverse("case-detail", args=[case.pk + 1000])).status_code == 404
    assert client.get(f"/cases/?q={NAME}").status_code == 200
    feed = Client().get(reverse("calendar-feed", args=[caseworker.membership.feed_token]))
    assert feed.status_code == 200
    sofia = Client()
    sofia.force_login(supervisor)
    assert sofia.get(reverse("case-personal-data", args=[case.pk])).status_code == 200

    # The API: a good request and refused ones quoting the data.
    token = Token.objects.create(user=caseworker).key
    api = Client(HTTP_AUTHORIZATION=f"Token {token}")
    for payload in (
        EXAMPLE,
        {**EXAMPLE, "applicant": NAME, "phone": PHONE_E164},
        {**EXAMPLE, "department": EMAIL},
        {**EXAMPLE, "new_elements": [{"date": "2126-01-01", "description": NAME}]},
    ):
        api.post(
            "/api/v1/evaluate",
            data=json.dumps(payload),
            content_type="application/json",
        )

    # Alerts: planned, then sent by email and SMS; the first SMS fails (no backend configured).
    plan_cases([case.pk], now=paris(2026, 3, 2, 9))
    alerts = Notification.objects.filter(case=case).order_by("send_after", "pk")
    assert {a.channel for a in alerts} >= {"email", "sms"}
    settings.SMS_BACKEND = ""
    first_sms = alerts.filter(channel="sms").first()
    assert first_sms is not None
    send_notification(first_sms.pk, now=first_sms.send_after + dt.timedelta(minutes=1))
    settings.SMS_BACKEND = "console"
    for alert in alerts.exclude(pk=first_sms.pk):
        send_notification(alert.pk, now=alert.send_after + dt.timedelta(minutes=1))
    assert Notification.objects.filter(case=case, status="sent", channel="sms").exists()
    assert Notification.objects.filter(case=case, status="sent", channel="email").exists()
    assert mail.outbox or smtp_server.messages

    printed = capsys.readouterr()
    assert "SMS to +33" in printed.out  # the console backend did print the SMS
    found = {}
    for record in caplog.records:
        if record.name.startswith(TEST_SERVERS):
            continue
        text = record.getMessage() + " " + (record.exc_text or "")
        if leaks(text):
            found[f"{record.name}: {text[:200]}"] = leaks(text)
    assert not found, found
    assert not leaks(printed.out + printed.err), (printed.out + printed.err)[:2000]
    assert len(caplog.records) > 10  # the paths did log: the scan looked at something
