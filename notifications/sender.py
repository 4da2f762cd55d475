"""Send one alert: claim it, check it still applies, call the transport, record what happened.

The claim is a conditional update (``status=planned, send_after<=now -> sending``): of two
workers holding the same id, one updates the row and sends, the other updates nothing and stops.
A row left in "sending" by a worker that died is claimed again once its lease has passed.

Each transport call is recorded as a DeliveryAttempt saved *before* the call and completed after
it. Before any second attempt, the sender asks the provider whether it already has the message
under the alert's reference: an earlier call may have been taken by the provider and its answer
lost (a timeout, a dropped connection, a process that died mid-call; an attempt left unfinished
is the latter). Sinch can tell; SMTP cannot, so an email may then go out twice under the same
Message-ID. See notifications/README.md for what "exactly once" means here.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.template import TemplateSyntaxError
from django.utils import timezone

from cases.models import Case, Deadline, Membership

from . import schedule
from .messages import NoTemplate, render
from .models import DeliveryAttempt, Notification
from .segments import sms_size
from .transports import Delivery, Outgoing, Transport, TransportError, transport_for

logger = logging.getLogger(__name__)

Status = Notification.Status
Kind = Notification.Kind
Audience = Notification.Audience
Channel = Notification.Channel


@dataclass(frozen=True)
class SendOutcome:
    status: str  # sent, skipped, cancelled, deferred, retry, failed
    retry_in: int | None = None


def reference(notification_id: int) -> str:
    """The alert's name at the provider: Message-ID, SMS client reference."""
    return f"alert-{notification_id}"


def claim(notification_id: int, now: dt.datetime) -> bool:
    """Take the row for sending; False when it is not due or another worker has it."""
    lease_start = now - dt.timedelta(seconds=settings.ALERT_SENDING_LEASE_SECONDS)
    return bool(
        Notification.objects.filter(pk=notification_id)
        .filter(
            Q(status=Status.PLANNED, send_after__lte=now)
            | Q(status=Status.SENDING, claimed_at__lt=lease_start)
        )
        .update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1, updated_at=now)
    )


def obsolete_reason(notification: Notification, today: dt.date) -> str:
    """Why this alert must not go out any more, or "" when it still applies."""
    case = notification.case
    if case.state != Case.State.OPEN:
        return "case closed"
    deadline = Deadline.objects.filter(case_id=case.pk, key=notification.deadline_key).first()
    if deadline is None:
        return "deadline removed"
    if deadline.due != notification.due:
        return "deadline moved"
    if deadline.status not in (
        Deadline.Status.OPEN,
        Deadline.Status.MISSED,
        Deadline.Status.POSSIBLY_OPEN,
    ) or (deadline.completed_on is not None):
        return "deadline done"
    if notification.kind == Kind.REMINDER and notification.due < today:
        return "due date passed before the reminder went out"
    if notification.audience == Audience.APPLICANT:
        consent = case.sms_consent if notification.channel == Channel.SMS else case.email_consent
        if not consent:
            return "consent withdrawn"
    elif notification.audience == Audience.CASEWORKER:
        if notification.recipient_user_id != case.assigned_to_id:
            return "caseworker changed"
    elif notification.recipient_user_id is None:
        return "recipient account deleted"
    elif not Membership.objects.filter(
        user_id=notification.recipient_user_id,
        organisation_id=case.organisation_id,
        role=Membership.Role.SUPERVISOR,
    ).exists():
        return "recipient is no longer a supervisor"
    if (
        notification.kind == Kind.ESCALATION
        and Notification.objects.filter(
            case_id=case.pk,
            deadline_key=notification.deadline_key,
            due=notification.due,
            kind=Kind.OVERDUE,
            audience=Audience.CASEWORKER,
            acknowledged_at__isnull=False,
        ).exists()
    ):
        return "overdue alert acknowledged"
    return ""


def address_of(notification: Notification) -> str:
    if notification.audience == Audience.APPLICANT:
        case = notification.case
        return case.phone if notification.channel == Channel.SMS else case.email
    user = notification.recipient_user
    if user is None or not user.is_active:
        return ""
    # Staff accounts have no phone number: a staff SMS alert fails visibly ("no phone number").
    return user.email if notification.channel == Channel.EMAIL else ""


def send_notification(
    notification_id: int, *, now: dt.datetime | None = None, transport: Transport | None = None
) -> SendOutcome:
    """Claim, check, send and record one alert. Never raises for a transport's error.

    Two short transactions around the provider call, never one across it: the first claims the
    row and records the attempt as started (both must be durable before the call), the second
    records the outcome.
    """
    now = now or timezone.now()
    with transaction.atomic():
        if not claim(notification_id, now):
            return SendOutcome("skipped")
        notification = Notification.objects.select_related(
            "case", "case__assigned_to", "deadline", "recipient_user"
        ).get(pk=notification_id)
        job = _Send(notification, now, transport)
        ready = job.prepare()
    if isinstance(ready, SendOutcome):
        return ready
    return job.deliver(ready)


@dataclass
class _Ready:
    outgoing: Outgoing
    attempt: DeliveryAttempt
    ask_first: bool  # an earlier attempt exists: ask the provider before sending again
    recorded: dict[str, object]  # language and SMS size, saved with the outcome


class _Send:
    def __init__(
        self, notification: Notification, now: dt.datetime, transport: Transport | None
    ) -> None:
        self.n = notification
        self.now = now
        self.claimed_at = notification.claimed_at
        self._transport = transport

    def finish(self, **fields: object) -> bool:
        """Record the outcome, if the row is still ours (a lease that ran out is not)."""
        updated = Notification.objects.filter(
            pk=self.n.pk,
            status=Status.SENDING,
            claimed_at=self.claimed_at,
        ).update(updated_at=timezone.now(), **fields)
        if not updated:
            logger.warning("alert %d: lost the claim before recording the outcome", self.n.pk)
        return bool(updated)

    def prepare(self) -> _Ready | SendOutcome:
        """Inside the claim's transaction: stop here, or get the message and its attempt."""
        n = self.n
        maximum = settings.ALERT_MAX_ATTEMPTS
        if n.attempts > maximum:
            self.finish(
                status=Status.FAILED,
                last_error=f"gave up: {maximum} attempts, the last one never finished",
            )
            logger.error("alert %d failed: attempts exhausted by lost workers", n.pk)
            return SendOutcome("failed")

        reason = obsolete_reason(n, schedule.local_date(self.now))
        if reason:
            self.finish(status=Status.CANCELLED, cancelled_at=self.now, cancel_reason=reason)
            logger.info("alert %d cancelled at send time: %s", n.pk, reason)
            return SendOutcome("cancelled")

        if n.channel == Channel.SMS and not schedule.in_sms_window(
            self.now, settings.ALERT_SMS_START_HOUR, settings.ALERT_SMS_END_HOUR
        ):
            opens = schedule.clamp_to_sms_window(
                self.now, settings.ALERT_SMS_START_HOUR, settings.ALERT_SMS_END_HOUR
            )
            # Not an attempt: give the count back and wait for the morning.
            self.finish(
                status=Status.PLANNED,
                send_after=opens,
                attempts=F("attempts") - 1,
                enqueued_at=None,
            )
            return SendOutcome("deferred")

        try:
            message = render(n, self.now)
        except (NoTemplate, TemplateSyntaxError) as error:
            return self.failed(
                TransportError(f"cannot write the message: {error}", permanent=True), attempt=None
            )
        size = sms_size(message.text) if n.channel == Channel.SMS else None
        outgoing = Outgoing(
            to=address_of(n),
            subject=message.subject,
            text=message.text,
            html=message.html if n.channel == Channel.EMAIL else "",
            reference=reference(n.pk),
        )
        # A retry: the earlier call's outcome may be unknown (timed out or cut off after the
        # provider took the message, or never finished), so ask the provider first.
        ask_first = n.attempts > 1 and n.delivery_attempts.exists()
        attempt = DeliveryAttempt.objects.create(
            notification=n, number=n.attempts, started_at=timezone.now()
        )
        return _Ready(
            outgoing=outgoing,
            attempt=attempt,
            ask_first=ask_first,
            recorded={
                "language": message.language,
                "sms_encoding": size.encoding if size else "",
                "sms_segments": size.segments if size else None,
            },
        )

    def deliver(self, ready: _Ready) -> SendOutcome:
        """Outside any transaction: call the provider, then record what it said."""
        n = self.n
        started = time.monotonic()
        try:
            transport = self._transport or transport_for(n.channel)
            found = transport.find_sent(ready.outgoing.reference) if ready.ask_first else None
            delivery = found or transport.send(ready.outgoing)
        except TransportError as error:
            with transaction.atomic():
                self.close_attempt(ready.attempt, started, ok=False, error=error)
                return self.failed(error, attempt=ready.attempt, recorded=ready.recorded)
        with transaction.atomic():
            self.close_attempt(
                ready.attempt, started, ok=True, delivery=delivery, reconciled=found is not None
            )
            self.finish(
                status=Status.SENT,
                sent_at=timezone.now(),
                last_error="",
                provider_message_id=delivery.provider_message_id[:100],
                **ready.recorded,
            )
        logger.info(
            "alert %d sent (%s, attempt %d%s)",
            n.pk,
            n.channel,
            n.attempts,
            ", found at the provider" if found else "",
        )
        return SendOutcome("sent")

    def close_attempt(
        self,
        attempt: DeliveryAttempt,
        started: float,
        *,
        ok: bool,
        delivery: Delivery | None = None,
        error: TransportError | None = None,
        reconciled: bool = False,
    ) -> None:
        attempt.finished_at = timezone.now()
        attempt.duration_ms = int((time.monotonic() - started) * 1000)
        attempt.ok = ok
        attempt.reconciled = reconciled
        if delivery is not None:
            attempt.provider_status = delivery.provider_status[:100]
            attempt.provider_message_id = delivery.provider_message_id[:100]
        if error is not None:
            attempt.provider_status = error.provider_status[:100]
            attempt.error = error.message
            attempt.permanent = error.permanent
        attempt.save(
            update_fields=[
                "finished_at",
                "duration_ms",
                "ok",
                "reconciled",
                "provider_status",
                "provider_message_id",
                "error",
                "permanent",
            ]
        )

    def failed(
        self,
        error: TransportError,
        *,
        attempt: DeliveryAttempt | None,
        recorded: dict[str, object] | None = None,
    ) -> SendOutcome:
        n = self.n
        recorded = recorded or {}
        if attempt is None:  # failed before any transport call: still show it as an attempt
            DeliveryAttempt.objects.create(
                notification=n,
                number=n.attempts,
                started_at=self.now,
                finished_at=timezone.now(),
                duration_ms=0,
                ok=False,
                permanent=error.permanent,
                error=error.message,
            )
        if error.permanent or n.attempts >= settings.ALERT_MAX_ATTEMPTS:
            kind = "permanent error" if error.permanent else f"{n.attempts} attempts"
            self.finish(status=Status.FAILED, last_error=f"{error.message} ({kind})", **recorded)
            logger.error("alert %d failed (%s, %s)", n.pk, n.channel, kind)
            return SendOutcome("failed")
        delay = schedule.retry_delay(
            n.attempts, settings.ALERT_RETRY_BASE_SECONDS, settings.ALERT_RETRY_MAX_SECONDS
        )
        retry_at = self.now + dt.timedelta(seconds=delay)
        # enqueued_at = retry_at: the task's own retry is the way back; the dispatcher only
        # steps in if that message is lost (ALERT_REQUEUE_SECONDS after retry_at).
        self.finish(
            status=Status.PLANNED,
            send_after=retry_at,
            enqueued_at=retry_at,
            last_error=error.message,
            **recorded,
        )
        logger.warning("alert %d: attempt %d failed, retry in %d s", n.pk, n.attempts, delay)
        return SendOutcome("retry", retry_in=delay)
