"""Fixtures for the alert tests: people with email addresses, cases with stored deadlines, a
fixed clock, and real SMTP and SMS servers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User

from cases.models import Case, Deadline, Organisation
from notifications.schedule import PARIS
from notifications.transports.sms import LocmemSmsBackend, Sms
from rules.models import PackVersion
from tests.cases import personas
from tests.notifications.servers import SINCH_SENDER, SINCH_TOKEN, SinchApi, SmtpServer

# The personas of the caseworkers' app (tests/cases/personas.py), as fixtures here too.
org_a, org_b, carla, sofia, bruno, nadia = (
    personas.org_a,
    personas.org_b,
    personas.carla,
    personas.sofia,
    personas.bruno,
    personas.nadia,
)

# Monday 2 March 2026, 09:00 in Paris; the deadlines below fall due on Thursday 12 March.
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
DUE = dt.date(2026, 3, 12)
# A deadline of the shipped pack with every audience in its alert policy: the caseworker by
# email at 5, 2, 1 and 0 days and when overdue; the applicant by SMS and email at 2 and 0 days;
# the supervisors when the overdue alert is not acknowledged within a working day.
KEY = "ofpra_submission"
LABEL = "Sending the request to OFPRA"


def paris(year: int, month: int, day: int, hour: int = 8, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS)


def make_deadline_case(
    organisation: Organisation,
    caseworker: User,
    pack: PackVersion,
    *,
    deadlines: dict[str, dt.date] | None = None,
    status: str = "open",
    **fields: Any,
) -> Case:
    """A case with stored deadlines, written directly (the planner reads only stored rows)."""
    values: dict[str, Any] = {
        "reference": f"A-{Case.objects.count() + 1:03d}",
        "applicant_name": "Amina Diallo",
        "department": "57",
        "preferred_language": "fr",
        "phone": "06 12 34 56 78",
        "email": "amina@example.net",
        "sms_consent": False,
        "email_consent": False,
    }
    values.update(fields)
    case = Case.objects.create(
        organisation=organisation, assigned_to=caseworker, procedure=pack.pack, **values
    )
    for key, due in (deadlines if deadlines is not None else {KEY: DUE}).items():
        Deadline.objects.create(
            case=case,
            key=key,
            label=LABEL if key == KEY else key.replace("_", " "),
            due=due,
            status=status,
            trigger_type="registration",
            trigger_date=due - dt.timedelta(days=8),
            rule_version=2,
            confidence="certain",
            legal_basis="CESEDA R531-36",
            explanation="8 days after registration.",
            pack_version=1,
        )
    return case


@pytest.fixture(autouse=True)
def alert_settings(settings: Any) -> None:
    """The documented defaults, pinned, whatever the environment says."""
    settings.LANGUAGE_CODE = "fr"
    settings.ALERT_BASE_URL = "https://delais.example.org"
    settings.ALERT_SEND_HOUR = 8
    settings.ALERT_SMS_START_HOUR = 8
    settings.ALERT_SMS_END_HOUR = 20
    settings.ALERT_FALLBACK_LANGUAGES = ["fr", "en"]
    settings.ALERT_MAX_ATTEMPTS = 3
    settings.ALERT_RETRY_BASE_SECONDS = 60
    settings.ALERT_RETRY_MAX_SECONDS = 3600
    settings.ALERT_SENDING_LEASE_SECONDS = 300
    settings.ALERT_REQUEUE_SECONDS = 600
    settings.ALERT_PLANNER_MAX_AGE_MINUTES = 15
    settings.ALERT_MAX_LATENESS_MINUTES = 15
    settings.DEFAULT_FROM_EMAIL = "delais-asile@example.org"
    settings.SMS_BACKEND = "locmem"


@pytest.fixture
def sms_outbox() -> Iterator[list[Sms]]:
    LocmemSmsBackend.outbox.clear()
    yield LocmemSmsBackend.outbox
    LocmemSmsBackend.outbox.clear()


@pytest.fixture
def caseworker(carla: User) -> User:
    carla.email = "carla@cimade-metz.example.org"
    carla.save(update_fields=["email"])
    return carla


@pytest.fixture
def supervisor(sofia: User) -> User:
    sofia.email = "sofia@cimade-metz.example.org"
    sofia.save(update_fields=["email"])
    return sofia


@pytest.fixture
def deadline_case(
    asylum_pack: PackVersion, org_a: Organisation, caseworker: User, supervisor: User
) -> Case:
    """Carla's case with the OFPRA submission due on 12 March 2026; no applicant consent."""
    return make_deadline_case(org_a, caseworker, asylum_pack)


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


@pytest.fixture
def sinch(settings: Any) -> Iterator[SinchApi]:
    api = SinchApi().start()
    settings.SMS_BACKEND = "sinch"
    settings.SMS_API_URL = api.url
    settings.SMS_API_TOKEN = SINCH_TOKEN
    settings.SMS_SENDER = SINCH_SENDER
    settings.SMS_TIMEOUT = 5
    yield api
    api.stop()
