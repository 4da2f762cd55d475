"""Deadline alerts: one row per alert that should go out, its delivery attempts, its words.

A `Notification` is planned ahead by notifications/planner.py and claimed by
notifications/sender.py with a conditional update; the database, not the broker, is the source
of truth for what is due, what was sent and what failed. See notifications/README.md.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cases.models import Case, Deadline

# Stands for "no lead time" (overdue and escalation alerts) inside the unique key, because two
# NULLs never conflict in a unique index (PostgreSQL and SQLite alike).
NO_LEAD_DAYS = -1


def new_ack_token() -> str:
    return secrets.token_urlsafe(32)


class Notification(models.Model):
    """One alert to one recipient on one channel about one deadline's due date."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", _("reminder")
        OVERDUE = "overdue", _("overdue")
        ESCALATION = "escalation", _("escalation")

    class Audience(models.TextChoices):
        CASEWORKER = "caseworker", _("caseworker")
        APPLICANT = "applicant", _("applicant")
        SUPERVISOR = "supervisor", _("supervisor")

    class Channel(models.TextChoices):
        EMAIL = "email", _("email")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notifications")
    # SET_NULL: a deadline whose trigger is deleted disappears, but what was sent about it stays.
    deadline = models.ForeignKey(
        Deadline, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    deadline_key = models.CharField(max_length=63)
    due = models.DateField(_("due date alerted"))
    kind = models.CharField(max_length=10, choices=Kind.choices)
    audience = models.CharField(max_length=10, choices=Audience.choices)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    lead_days = models.SmallIntegerField(
        null=True,
        blank=True,
        help_text=_("Days before the due date; empty when overdue or an escalation."),
    )
    # "user:<id>" for staff, "applicant" for the case's applicant: the recipient part of the key.
    recipient_key = models.CharField(max_length=32)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )
    language = models.CharField(
        max_length=8, blank=True, help_text=_("Language of the words sent (after fallback).")
    )
    send_after = models.DateTimeField(_("send after"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    attempts = models.PositiveSmallIntegerField(default=0)
    enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Last time a send task was queued.")
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=100, blank=True)
    last_error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    sms_encoding = models.CharField(max_length=5, blank=True)
    sms_segments = models.PositiveSmallIntegerField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Secret of the acknowledgement link in staff emails.
    ack_token = models.CharField(max_length=64, unique=True, default=new_ack_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-send_after", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            # Planning twice creates nothing: one alert per deadline due date, kind, lead time,
            # channel and recipient. The case and deadline key (not the deadline row) name the
            # deadline, so a deadline row deleted and re-created for the same date re-sends
            # nothing; the due date is part of the key, so a deadline that moves gets fresh
            # alerts for its new date.
            models.UniqueConstraint(
                F("case"),
                F("deadline_key"),
                F("due"),
                F("kind"),
                Coalesce(F("lead_days"), Value(NO_LEAD_DAYS)),
                F("channel"),
                F("recipient_key"),
                name="unique_alert",
            ),
        ]
        indexes = [
            # The dispatcher's query (notifications/dispatch.py: due_ids) and the health
            # check's oldest due alert: planned rows by send time.
            models.Index(
                fields=["send_after"], condition=Q(status="planned"), name="alert_planned_due_idx"
            ),
            # Reclaiming rows whose sender died (dispatch.py: due_ids).
            models.Index(
                fields=["claimed_at"],
                condition=Q(status="sending"),
                name="alert_sending_claimed_idx",
            ),
            models.Index(fields=["case", "status"]),
            models.Index(fields=["status", "updated_at"]),
            # The frequent planner (planner.changed_since): caseworkers' overdue alerts told or
            # acknowledged since its last run (supervisors' escalation counts from them).
            models.Index(
                fields=["sent_at"],
                condition=Q(kind="overdue", audience="caseworker"),
                name="alert_overdue_sent_idx",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=Q(kind="overdue", audience="caseworker", status="failed"),
                name="alert_overdue_failed_idx",
            ),
            models.Index(
                fields=["acknowledged_at"],
                condition=Q(kind="overdue", audience="caseworker"),
                name="alert_overdue_ack_idx",
            ),
        ]

    def __str__(self) -> str:
        lead = "" if self.lead_days is None else f" J-{self.lead_days}"
        return f"#{self.pk} {self.kind}{lead} {self.deadline_key} {self.due} {self.channel}"

    @property
    def is_staff_alert(self) -> bool:
        return self.audience != self.Audience.APPLICANT


class DeliveryAttempt(models.Model):
    """One call to a transport: saved before the call, completed after it.

    An attempt with no `finished_at` is one whose process died during the call: the provider may
    or may not have the message (see sender.py on reconciliation).
    """

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="delivery_attempts"
    )
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    ok = models.BooleanField(null=True, help_text=_("Empty: the process died during the call."))
    permanent = models.BooleanField(default=False)
    reconciled = models.BooleanField(
        default=False, help_text=_("Not sent again: the provider already had this message.")
    )
    provider_status = models.CharField(max_length=100, blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["notification", "number", "id"]
        verbose_name = _("delivery attempt")

    def __str__(self) -> str:
        return f"#{self.notification_id}.{self.number}"


class MessageTemplate(models.Model):
    """The words of one kind of alert, in one language, for one channel (editable by staff).

    Rendered with Django's template language; only `reviewed` templates are ever sent. French
    and English are shipped (notifications/templates/notifications/messages/) and created by
    notifications/shipped.py after every migrate when missing; staff edits are never overwritten.
    """

    class Name(models.TextChoices):
        CASEWORKER_REMINDER = "caseworker_reminder", _("caseworker: reminder before the due date")
        CASEWORKER_OVERDUE = "caseworker_overdue", _("caseworker: deadline missed")
        SUPERVISOR_ESCALATION = (
            "supervisor_escalation",
            _("supervisor: overdue alert not acknowledged"),
        )
        APPLICANT_REMINDER = "applicant_reminder", _("applicant: reminder before the due date")
        APPLICANT_OVERDUE = "applicant_overdue", _("applicant: deadline missed")

    name = models.CharField(max_length=40, choices=Name.choices)
    channel = models.CharField(max_length=5, choices=Notification.Channel.choices)
    language = models.CharField(
        max_length=8,
        help_text=_("ISO 639-1 code, as in the case's preferred language: fr, en, ar, ps, ru..."),
    )
    subject = models.CharField(max_length=500, blank=True, help_text=_("Email only. One line."))
    text = models.TextField(help_text=_("Plain text (email body, or the SMS itself)."))
    html = models.TextField(blank=True, help_text=_("Email only: the HTML version."))
    reviewed = models.BooleanField(
        default=False,
        help_text=_(
            "Only reviewed templates are sent; until then the fallback languages are used."
        ),
    )
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["name", "channel", "language"]
        verbose_name = _("message template")
        constraints = [
            models.UniqueConstraint(
                fields=["name", "channel", "language"], name="unique_message_template"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} / {self.channel} / {self.language}"


class PlannerRun(models.Model):
    """One run of the periodic planner; the health check reads the latest."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    cases = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    revived = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    enqueued = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"
        verbose_name = _("planner run")

    def __str__(self) -> str:
        return f"planner run {self.started_at:%Y-%m-%d %H:%M:%S}"


class RecomputeNotice(models.Model):
    """One email to one caseworker after a re-evaluation: which of their cases moved and how.

    One row per run and recipient (unique), claimed with a conditional update before sending, so
    each caseworker is told once per re-evaluation (see notifications/recompute.py).
    """

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    run = models.ForeignKey(
        "cases.ReevaluationRun", on_delete=models.CASCADE, related_name="notices"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recompute_notices"
    )
    language = models.CharField(max_length=8)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    attempts = models.PositiveSmallIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notice of recomputed dates")
        verbose_name_plural = _("notices of recomputed dates")
        constraints = [
            models.UniqueConstraint(fields=["run", "recipient"], name="unique_recompute_notice"),
        ]

    def __str__(self) -> str:
        return f"notice #{self.pk} run {self.run_id} user {self.recipient_id}"
