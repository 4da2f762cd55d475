"""Organisations, their people, and their cases: applicant, events, new elements, deadlines.

Every write goes through cases/actions.py, which re-evaluates the case with the shared
`rules.services.evaluate_request` and stores the resulting deadlines here, so that lists and
alerts never re-evaluate. Everything a caseworker can change keeps its history (who and why).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rules.models import RulePack


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A person's place in an organisation; it decides which cases they see."""

    class Role(models.TextChoices):
        CASEWORKER = "caseworker", _("caseworker")
        SUPERVISOR = "supervisor", _("supervisor")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=12, choices=Role.choices, default=Role.CASEWORKER)
    # Secret part of the personal calendar feed URL; replacing it revokes the old URL.
    feed_token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    history = HistoricalRecords(excluded_fields=["feed_token"])

    class Meta:
        verbose_name = _("membership")

    def __str__(self) -> str:
        return f"{self.user} ({self.role}, {self.organisation})"

    @property
    def is_supervisor(self) -> bool:
        return self.role == self.Role.SUPERVISOR


class Case(models.Model):
    class Language(models.TextChoices):
        FRENCH = "fr", "Français"
        ENGLISH = "en", "English"

    class State(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="cases")
    reference = models.CharField(_("file reference"), max_length=50)
    applicant_name = models.CharField(_("applicant's name"), max_length=200)
    department = models.CharField(_("department of residence"), max_length=3)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=Language.choices, default=Language.FRENCH
    )
    phone = models.CharField(_("phone (E.164)"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    sms_consent = models.BooleanField(_("agrees to SMS reminders"), default=False)
    email_consent = models.BooleanField(_("agrees to email reminders"), default=False)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
        verbose_name=_("assigned caseworker"),
    )
    procedure = models.ForeignKey(
        RulePack, on_delete=models.PROTECT, related_name="cases", verbose_name=_("procedure")
    )
    previous_reexaminations = models.PositiveIntegerField(
        _("previous reexaminations finally rejected"), default=0
    )
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OPEN)
    # The last evaluation's case-level results (authority, admissibility, right to remain,
    # warnings, rule pack version), as evaluate returned them.
    evaluation = models.JSONField(default=dict, blank=True, editable=False)
    evaluation_errors = models.JSONField(default=list, blank=True, editable=False)
    evaluated_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the case was last closed: its personal data is anonymised CASE_RETENTION_DAYS later.
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords(
        excluded_fields=["evaluation", "evaluated_at", "updated_at", "closed_at", "anonymised_at"]
    )

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "reference"], name="unique_case_reference"
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "state"]),
            # The dashboard's "my cases", and its department and procedure filter choices.
            models.Index(fields=["organisation", "assigned_to", "state"]),
            models.Index(fields=["organisation", "department"]),
            models.Index(fields=["organisation", "procedure"]),
        ]

    def __str__(self) -> str:
        return self.reference

    def evaluation_for(self, language: str) -> dict[str, Any]:
        """The last evaluation's results written in a language (the site's default otherwise)."""
        stored = self.evaluation or {}
        found = stored.get(language[:2]) or stored.get(settings.LANGUAGE_CODE[:2])
        return found if isinstance(found, dict) else {}

    def evaluation_payload(self) -> dict[str, Any]:
        """The case's facts in the shape of an API request."""
        return {
            "procedure": self.procedure.key,
            "department": self.department,
            "previous_reexaminations": self.previous_reexaminations,
            "events": [
                {
                    "type": e.type,
                    "date": e.date.isoformat(),
                    **({"outcome": e.outcome} if e.outcome else {}),
                }
                for e in self.events.all()
            ],
            "new_elements": [
                {
                    "date": n.date.isoformat(),
                    **({"known_on": n.known_on.isoformat()} if n.known_on else {}),
                }
                for n in self.new_elements.all()
            ],
        }


class CaseEvent(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(_("event"), max_length=63)
    date = models.DateField(_("date"))
    outcome = models.CharField(_("outcome"), max_length=63, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["date", "id"]
        verbose_name = _("event")

    def __str__(self) -> str:
        return f"{self.type} {self.date}"


class NewElement(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="new_elements")
    date = models.DateField(_("date it arose"))
    known_on = models.DateField(_("date the applicant learned of it"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["date", "id"]
        verbose_name = _("new element")

    def __str__(self) -> str:
        return f"{self.date}"


class Deadline(models.Model):
    """A deadline as the last evaluation of its case produced it."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        MET = "met", _("met")
        MISSED = "missed", _("missed")
        SUSPENDED = "suspended", _("suspended")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="deadlines")
    key = models.CharField(max_length=63)
    label = models.CharField(max_length=200)
    due = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    completed_on = models.DateField(null=True, blank=True)
    non_working_day = models.BooleanField(default=False)
    trigger_type = models.CharField(max_length=63)
    trigger_date = models.DateField()
    rule_version = models.PositiveIntegerField()
    confidence = models.CharField(max_length=10)
    legal_basis = models.CharField(max_length=300)
    explanation = models.TextField()
    # Label and explanation in each of the site's languages: {"en": {"label": ..., ...}}.
    texts = models.JSONField(default=dict, blank=True)
    pack_version = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["due", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "key"], name="unique_case_deadline"),
        ]
        indexes = [
            # The dashboard lists pending deadlines by due date within an organisation.
            models.Index(fields=["status", "due"]),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.due}"

    def text_in(self, language: str, name: str) -> str:
        """The label or explanation in a language, else as stored in the site's default."""
        texts = (self.texts or {}).get(language[:2]) or {}
        return str(texts.get(name) or getattr(self, name))

    @property
    def label_text(self) -> str:
        return self.text_in(get_language() or settings.LANGUAGE_CODE, "label")

    @property
    def explanation_text(self) -> str:
        return self.text_in(get_language() or settings.LANGUAGE_CODE, "explanation")

    def status_on(self, day: Any) -> str:
        """The status on a day: an open deadline whose due date has passed is missed."""
        if self.status == self.Status.OPEN and self.due is not None and self.due < day:
            return self.Status.MISSED
        return self.status

    @property
    def is_pending(self) -> bool:
        """Still to be done: not met, whether or not its due date has passed."""
        return self.status in (self.Status.OPEN, self.Status.MISSED, self.Status.SUSPENDED) and (
            self.completed_on is None
        )


class CaseView(models.Model):
    """Who looked at a case's personal data, when, and through what (an audit trail)."""

    class Through(models.TextChoices):
        PAGE = "page", _("case page")
        CSV_EXPORT = "csv_export", _("CSV export")
        FEED = "feed", _("calendar feed")
        DATA_EXPORT = "data_export", _("personal data export")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="views")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    through = models.CharField(_("through"), max_length=12, choices=Through.choices)
    at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("case view")
        verbose_name_plural = _("case views")
        indexes = [models.Index(fields=["case", "-at"])]

    def __str__(self) -> str:
        return f"{self.case_id} {self.through} {self.at:%Y-%m-%d %H:%M}"
