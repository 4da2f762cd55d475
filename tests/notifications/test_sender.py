"""The sender: an exclusive claim, a recorded attempt per call, bounded retries with backoff,
permanent errors that stop, and a last check that the alert still applies."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from cases.models import Case, Deadline
from notifications.models import DeliveryAttempt, MessageTemplate, Notification
from notifications.planner import plan_cases
from notifications.sender import claim, send_notification
from notifications.transports.sms import Sms
from tests.notifications.conftest import NOW, paris
from tests.notifications.servers import SinchApi, SmtpServer

Status = Notification.Status
Kind = Notification.Kind

TWO_DAYS_BEFORE = paris(2026, 3, 10, 9)


def alert(case: Case, **filters: Any) -> Notification:
    plan_cases([case.pk], now=NOW)
    return Notification.objects.get(case=case, **filters)


def test_it_sends_a_due_reminder_once_and_records_the_attempt(deadline_case: Case) -> None:
    reminder = alert(deadline_case, lead_days=2)
    assert send_notification(reminder.pk, now=TWO_DAYS_BEFORE).status == "sent"
    (message,) = mail.outbox
    assert message.to == ["carla@cimade-metz.example.org"]
    assert message.subject.startswith("Échéance dans 2 jours : A-001")
    assert message.extra_headers["Message-ID"] == f"<alert-{reminder.pk}@example.org>"

    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts, reminder.language) == (Status.SENT, 1, "fr")
    assert reminder.sent_at is not None
    (attempt,) = reminder.delivery_attempts.all()
    assert (attempt.ok, attempt.number, attempt.provider_status) == (True, 1, "accepted")
    assert attempt.finished_at is not None
    assert attempt.duration_ms is not None

    assert send_notification(reminder.pk, now=TWO_DAYS_BEFORE).status == "skipped"
    assert len(mail.outbox) == 1


def test_an_alert_is_not_sent_before_its_time(deadline_case: Case) -> None:
    reminder = alert(deadline_case, lead_days=2)
    assert send_notification(reminder.pk, now=paris(2026, 3, 10, 7, 59)).status == "skipped"
    assert not mail.outbox


def test_of_two_claims_on_one_row_one_wins(deadline_case: Case) -> None:
    reminder = alert(deadline_case, lead_days=2)
    assert claim(reminder.pk, TWO_DAYS_BEFORE) is True
    assert claim(reminder.pk, TWO_DAYS_BEFORE) is False
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (Status.SENDING, 1)


def test_a_row_whose_worker_died_is_claimed_again_after_the_lease(
    deadline_case: Case, settings: Any
) -> None:
    reminder = alert(deadline_case, lead_days=2)
    assert claim(reminder.pk, TWO_DAYS_BEFORE)
    lease = dt.timedelta(seconds=settings.ALERT_SENDING_LEASE_SECONDS)
    assert send_notification(reminder.pk, now=TWO_DAYS_BEFORE + lease).status == "skipped"
    later = TWO_DAYS_BEFORE + lease + dt.timedelta(seconds=1)
    assert send_notification(reminder.pk, now=later).status == "sent"
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (Status.SENT, 2)


def test_the_provider_answering_500_then_201_makes_one_retry_and_one_message(
    deadline_case: Case, sinch: SinchApi
) -> None:
    Case.objects.filter(pk=deadline_case.pk).update(sms_consent=True)
    sms = alert(deadline_case, channel="sms", lead_days=2)
    sinch.fail_next = [500]

    outcome = send_notification(sms.pk, now=TWO_DAYS_BEFORE)
    assert (outcome.status, outcome.retry_in) == ("retry", 60)
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == (Status.PLANNED, 1)
    assert sms.send_after == TWO_DAYS_BEFORE + dt.timedelta(seconds=60)
    assert sms.last_error == "SMS provider answered HTTP 500 internal_error"
    assert send_notification(sms.pk, now=TWO_DAYS_BEFORE).status == "skipped"  # not yet

    assert send_notification(sms.pk, now=TWO_DAYS_BEFORE + dt.timedelta(seconds=61)).status == (
        "sent"
    )
    assert [r.status for r in sinch.posts()] == [500, 201]
    assert len(sinch.batches) == 1
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.last_error) == (Status.SENT, 2, "")
    assert (sms.sms_encoding, sms.sms_segments) == ("GSM-7", 1)
    assert sms.provider_message_id == "01TESTBATCH000001"
    assert list(sms.delivery_attempts.values_list("ok", "provider_status")) == [
        (False, "HTTP 500 internal_error"),
        (True, "HTTP 201"),
    ]


def test_retries_back_off_and_stop_after_the_maximum(deadline_case: Case, sinch: SinchApi) -> None:
    Case.objects.filter(pk=deadline_case.pk).update(sms_consent=True)
    sms = alert(deadline_case, channel="sms", lead_days=2)
    sinch.fail_next = [503] * 10
    now, delays = TWO_DAYS_BEFORE, []
    for _ in range(3):  # ALERT_MAX_ATTEMPTS
        outcome = send_notification(sms.pk, now=now)
        delays.append(outcome.retry_in)
        now += dt.timedelta(hours=2)
    assert delays == [60, 120, None]
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == (Status.FAILED, 3)
    assert sms.last_error == "SMS provider answered HTTP 503 internal_error (3 attempts)"
    assert send_notification(sms.pk, now=now).status == "skipped"
    assert len(sinch.posts()) == 3


def test_a_permanent_error_stops_at_once_and_says_why(
    deadline_case: Case, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse.add("carla@cimade-metz.example.org")
    reminder = alert(deadline_case, lead_days=2)
    outcome = send_notification(reminder.pk, now=TWO_DAYS_BEFORE)
    assert (outcome.status, outcome.retry_in) == ("failed", None)
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (Status.FAILED, 1)
    assert reminder.last_error == "SMTP server refused the recipient (550) (permanent error)"
    attempt = reminder.delivery_attempts.get()
    assert (attempt.ok, attempt.permanent, attempt.provider_status) == (False, True, "550")


def test_a_caseworker_without_an_email_address_fails_visibly(deadline_case: Case) -> None:
    deadline_case.assigned_to.email = ""
    deadline_case.assigned_to.save()
    reminder = alert(deadline_case, lead_days=2)
    assert send_notification(reminder.pk, now=TWO_DAYS_BEFORE).status == "failed"
    reminder.refresh_from_db()
    assert reminder.last_error == "no email address (permanent error)"


def test_a_missing_template_is_a_permanent_error(deadline_case: Case) -> None:
    MessageTemplate.objects.filter(name="caseworker_reminder").delete()
    reminder = alert(deadline_case, lead_days=2)
    assert send_notification(reminder.pk, now=TWO_DAYS_BEFORE).status == "failed"
    reminder.refresh_from_db()
    assert reminder.last_error.startswith("cannot write the message: no reviewed email template")
    assert reminder.delivery_attempts.get().permanent


def test_an_sms_due_in_the_evening_waits_for_8_the_next_morning(
    deadline_case: Case, sms_outbox: list[Sms]
) -> None:
    Case.objects.filter(pk=deadline_case.pk).update(sms_consent=True)
    sms = alert(deadline_case, channel="sms", lead_days=2)
    assert send_notification(sms.pk, now=paris(2026, 3, 10, 20, 30)).status == "deferred"
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.send_after) == (Status.PLANNED, 0, paris(2026, 3, 11, 8))
    assert not sms_outbox


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"due": dt.date(2026, 3, 20)}, "deadline moved"),
        ({"status": "met", "completed_on": dt.date(2026, 3, 9)}, "deadline done"),
    ],
)
def test_an_alert_that_stopped_applying_after_planning_is_cancelled_not_sent(
    deadline_case: Case, change: dict[str, Any], reason: str
) -> None:
    reminder = alert(deadline_case, lead_days=2)
    Deadline.objects.filter(case=deadline_case).update(**change)
    assert send_notification(reminder.pk, now=TWO_DAYS_BEFORE).status == "cancelled"
    reminder.refresh_from_db()
    assert (reminder.status, reminder.cancel_reason) == (Status.CANCELLED, reason)
    assert not mail.outbox


def test_withdrawn_consent_stops_an_sms_already_planned(
    deadline_case: Case, sms_outbox: list[Sms]
) -> None:
    Case.objects.filter(pk=deadline_case.pk).update(sms_consent=True)
    sms = alert(deadline_case, channel="sms", lead_days=2)
    Case.objects.filter(pk=deadline_case.pk).update(sms_consent=False)
    assert send_notification(sms.pk, now=TWO_DAYS_BEFORE).status == "cancelled"
    assert not sms_outbox


def test_after_a_crash_mid_call_the_provider_is_asked_before_sending_again(
    deadline_case: Case, sinch: SinchApi, settings: Any
) -> None:
    """The worker died after Sinch took the SMS and before the row was updated."""
    Case.objects.filter(pk=deadline_case.pk).update(sms_consent=True)
    sms = alert(deadline_case, channel="sms", lead_days=2)
    assert claim(sms.pk, TWO_DAYS_BEFORE)
    DeliveryAttempt.objects.create(notification=sms, number=1, started_at=TWO_DAYS_BEFORE)
    sinch.batches.append(
        {
            "id": "01EARLIER",
            "to": ["+33612345678"],
            "from": "x",
            "body": "x",
            "client_reference": f"alert-{sms.pk}",
            "canceled": False,
        }
    )

    later = TWO_DAYS_BEFORE + dt.timedelta(seconds=settings.ALERT_SENDING_LEASE_SECONDS + 1)
    assert send_notification(sms.pk, now=later).status == "sent"
    assert not sinch.posts()  # not sent a second time
    sms.refresh_from_db()
    assert (sms.status, sms.provider_message_id) == (Status.SENT, "01EARLIER")
    assert sms.delivery_attempts.filter(reconciled=True, ok=True).count() == 1


def test_an_email_whose_sender_died_mid_call_goes_again_under_the_same_message_id(
    deadline_case: Case, settings: Any
) -> None:
    reminder = alert(deadline_case, lead_days=2)
    assert claim(reminder.pk, TWO_DAYS_BEFORE)
    DeliveryAttempt.objects.create(notification=reminder, number=1, started_at=TWO_DAYS_BEFORE)
    later = TWO_DAYS_BEFORE + dt.timedelta(seconds=settings.ALERT_SENDING_LEASE_SECONDS + 1)
    assert send_notification(reminder.pk, now=later).status == "sent"
    assert mail.outbox[0].extra_headers["Message-ID"] == f"<alert-{reminder.pk}@example.org>"


def test_workers_dying_on_every_attempt_end_in_a_visible_failure(
    deadline_case: Case, settings: Any
) -> None:
    reminder = alert(deadline_case, lead_days=2)
    Notification.objects.filter(pk=reminder.pk).update(
        status=Status.SENDING, attempts=3, claimed_at=TWO_DAYS_BEFORE
    )
    later = TWO_DAYS_BEFORE + dt.timedelta(seconds=settings.ALERT_SENDING_LEASE_SECONDS + 1)
    assert send_notification(reminder.pk, now=later).status == "failed"
    reminder.refresh_from_db()
    assert reminder.status == Status.FAILED
    assert reminder.last_error.startswith("gave up")


def test_a_late_reminder_for_a_date_already_passed_is_cancelled(deadline_case: Case) -> None:
    reminder = alert(deadline_case, lead_days=0)
    assert send_notification(reminder.pk, now=paris(2026, 3, 13, 9)).status == "cancelled"
    reminder.refresh_from_db()
    assert reminder.cancel_reason == "due date passed before the reminder went out"


def test_the_task_retries_through_celery_with_the_backoff(
    asylum_pack: Any,
    org_a: Any,
    caseworker: Any,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from celery.exceptions import Retry

    from notifications import tasks
    from tests.notifications.conftest import make_deadline_case

    soon = timezone.localdate() + dt.timedelta(days=2)
    case = make_deadline_case(org_a, caseworker, asylum_pack, deadlines={"ofpra_submission": soon})
    reminder = alert(case, lead_days=2)
    Notification.objects.filter(pk=reminder.pk).update(send_after=paris(2020, 1, 1))
    smtp_server.busy.add(caseworker.email)
    retried: dict[str, Any] = {}

    def fake_retry(**kwargs: Any) -> Retry:
        retried.update(kwargs)
        return Retry()

    monkeypatch.setattr(tasks.send_notification, "retry", fake_retry)
    with pytest.raises(Retry):
        tasks.send_notification.run(reminder.pk)
    assert retried == {"countdown": 60, "max_retries": 3}
    reminder.refresh_from_db()
    assert (reminder.status, reminder.last_error) == (
        Status.PLANNED,
        "SMTP server refused the recipient (451)",
    )
