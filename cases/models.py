"""Organisations, their people, and their cases: applicant, events, new elements, deadlines.

Every write goes through cases/actions.py, which re-evaluates the case with the shared
`rules.services.evaluate_request` and stores the resulting deadlines here, so that lists and
alerts never re-evaluate. Everything a caseworker can change keeps its history (who and why).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Value
from django.db.models.fields.json import HasKey, KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rules.models import PackVersion, RulePack


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

    # No index of its own: the unique (organisation, reference) and the lists' indexes begin
    # with it (each index is one more write on every case update that cannot be made in place).
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="cases", db_index=False
    )
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
    # Its warnings that concern the whole case (not some of its deadlines), by language, as
    # each of its deadlines shows them: {"fr": [{"code", "title", "message"}]}. Kept here once,
    # not copied into every deadline row: a publication that moves the review horizon changes
    # this message on every case, and would otherwise rewrite every deadline row of each.
    case_warnings = models.JSONField(default=dict, blank=True, editable=False)
    evaluation_errors = models.JSONField(default=list, blank=True, editable=False)
    evaluated_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The pack version (and its revision) that produced the stored deadlines and results: while
    # a re-evaluation runs, a case still on an older version shows its dates as being recomputed.
    # Not indexed: no list asks for the cases of a version, and an index on it would keep
    # PostgreSQL from recording a new version in place (a re-evaluation touches every case).
    evaluated_pack_version = models.ForeignKey(
        PackVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        db_index=False,
    )
    evaluated_revision = models.CharField(max_length=32, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the case was last closed: its personal data is anonymised CASE_RETENTION_DAYS later.
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The soonest due date of its deadlines still to do (cases/actions.py keeps it with them):
    # the case list is sorted by it from an index, without reading every case's deadlines.
    next_due = models.DateField(null=True, blank=True, editable=False)
    history = HistoricalRecords(
        excluded_fields=[
            "next_due",
            "evaluation",
            "case_warnings",
            "evaluated_at",
            "evaluated_pack_version",
            "evaluated_revision",
            "updated_at",
            "closed_at",
            "anonymised_at",
        ]
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
            # The dashboard's department and procedure filter choices (its counts of open
            # cases, the organisation's and one caseworker's, read the list-order indexes).
            models.Index(fields=["organisation", "department"]),
            models.Index(fields=["organisation", "procedure"]),
            # The frequent alert planner: cases written since its last run.
            models.Index(fields=["updated_at"], name="case_updated_idx"),
            # The case list's order (open first, soonest next deadline, reference), read from
            # the index a page at a time, for the organisation and for one caseworker.
            models.Index(
                fields=["organisation", "-state", "next_due", "reference"],
                name="case_list_order_idx",
            ),
            models.Index(
                fields=["organisation", "assigned_to", "-state", "next_due", "reference"],
                name="case_list_worker_order_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        written = kwargs.get("update_fields")
        if written is None or set(written) & LISTED_FROM_CASE:
            # Its deadline rows carry what the lists filter on: keep them in step.
            listed = Deadline.listed_values(self)
            self.deadlines.exclude(**listed).update(**listed)

    def evaluation_for(self, language: str) -> dict[str, Any]:
        """The last evaluation's results written in a language (the site's default otherwise)."""
        stored = self.evaluation or {}
        found = stored.get(language[:2]) or stored.get(settings.LANGUAGE_CODE[:2])
        return found if isinstance(found, dict) else {}

    def evaluation_payload(self) -> dict[str, Any]:
        """The case's facts in the shape of an API request."""
        return facts_payload(
            self.procedure.key,
            self.department,
            self.previous_reexaminations,
            [(e.type, e.date, e.outcome) for e in self.events.all()],
            [(n.date, n.known_on) for n in self.new_elements.all()],
        )


def facts_payload(
    procedure: str,
    department: str,
    previous_reexaminations: int,
    events: Iterable[tuple[str, dt.date, str]],
    new_elements: Iterable[tuple[dt.date, dt.date | None]],
) -> dict[str, Any]:
    """A case's facts in the shape of an API request: events (type, date, outcome) and new
    elements (date, known on) in their order (date, then id), as read by the re-evaluation."""
    return {
        "procedure": procedure,
        "department": department,
        "previous_reexaminations": previous_reexaminations,
        "events": [
            {"type": kind, "date": date.isoformat(), **({"outcome": outcome} if outcome else {})}
            for kind, date, outcome in events
        ],
        "new_elements": [
            {"date": date.isoformat(), **({"known_on": known_on.isoformat()} if known_on else {})}
            for date, known_on in new_elements
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


# What a deadline still to do is (cases/dashboard.py lists them); the same values, in the same
# order, as the lists' queries, so that PostgreSQL matches them with the partial indexes below.
PENDING_STATUSES = ("open", "missed", "suspended", "possibly_open")
PENDING_ROW = models.Q(status__in=PENDING_STATUSES, completed_on__isnull=True, case_open=True)
# Case fields copied on its deadline rows (Case.save keeps them in step).
LISTED_FROM_CASE = {
    "organisation",
    "organisation_id",
    "state",
    "assigned_to",
    "assigned_to_id",
    "reference",
}


class Deadline(models.Model):
    """A deadline as the last evaluation of its case produced it."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        MET = "met", _("met")
        MISSED = "missed", _("missed")
        SUSPENDED = "suspended", _("suspended")
        # Past a due date on a non-working day, up to the next working day, when the pack says
        # the limit may be extended: still to do, and alerts still count to `due`.
        POSSIBLY_OPEN = "possibly_open", _("possibly still open")
        # Done after the due date, by the next working day: in time only if extended.
        POSSIBLY_MET = "possibly_met", _("possibly met")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="deadlines")
    key = models.CharField(max_length=63)
    label = models.CharField(max_length=200)
    due = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=13, choices=Status.choices)
    completed_on = models.DateField(null=True, blank=True)
    non_working_day = models.BooleanField(default=False)
    # When the limit may be extended: the working day it may run to (the due date never moves).
    next_working_day = models.DateField(null=True, blank=True)
    trigger_type = models.CharField(max_length=63)
    trigger_date = models.DateField()
    rule_version = models.PositiveIntegerField()
    confidence = models.CharField(max_length=10)
    legal_basis = models.CharField(max_length=300)
    explanation = models.TextField()
    # Label and explanation in each of the site's languages: {"en": {"label": ..., ...}}.
    texts = models.JSONField(default=dict, blank=True)
    pack_version = models.PositiveIntegerField()
    # Which record set produced this row: the pack version's id and revision at evaluation.
    # Not indexed, like Case.evaluated_pack_version: recorded in place on re-evaluation.
    pack_version_ref = models.ForeignKey(
        PackVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    pack_revision = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Copied from the case (Case.save and save() below keep them in step; bulk writers use
    # listed_values): the dashboard reads an organisation's or a caseworker's deadlines still
    # to do from one partial index in due-date order, without joining every case.
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        db_index=False,
    )
    case_open = models.BooleanField(default=True, editable=False)
    # The lists' order is due date, then file reference, then key: all three in the index.
    case_reference = models.CharField(max_length=50, blank=True, editable=False)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        db_index=False,
    )
    history = HistoricalRecords(
        excluded_fields=["updated_at", "organisation", "case_open", "case_reference", "assigned_to"]
    )

    class Meta:
        ordering = ["due", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "key"], name="unique_case_deadline"),
        ]
        indexes = [
            models.Index(fields=["status", "due"]),
            # The frequent alert planner: deadlines written since its last run.
            models.Index(fields=["updated_at"], name="deadline_updated_idx"),
            # The dashboard: an organisation's (a caseworker's) deadlines still to do, by date.
            # The case (and organisation) carried along on PostgreSQL: the CSV export's audit
            # of the cases a file holds reads them from the index alone, not from each row.
            models.Index(
                fields=["organisation", "due", "case_reference", "key"],
                condition=PENDING_ROW,
                include=["case", "id"],
                name="deadline_pending_org_idx",
            ),
            models.Index(
                fields=["assigned_to", "due", "case_reference", "key"],
                condition=PENDING_ROW,
                include=["organisation", "case", "id"],
                name="deadline_pending_worker_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.due}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("update_fields") is None:
            for name, value in self.listed_values(self.case).items():
                setattr(self, name, value)
        super().save(*args, **kwargs)

    @staticmethod
    def listed_values(case: Case) -> dict[str, Any]:
        """The case's fields a deadline row carries for the lists."""
        return {
            "organisation_id": case.organisation_id,
            "case_open": case.state == Case.State.OPEN,
            "case_reference": case.reference,
            "assigned_to_id": case.assigned_to_id,
        }

    def text_in(self, language: str, name: str) -> str:
        """The label or explanation in a language, else as stored in the site's default."""
        return text_in(self.texts, language, name, getattr(self, name))

    def warnings_in(self, language: str, case: Case | None = None) -> list[dict[str, str]]:
        """The warnings of the case's result that concern this deadline, in a language:
        [{"code", "title", "message"}], the case's own (`case`, else this row's) and this
        row's (stored by cases.actions: Case.case_warnings and deadline_warnings)."""
        case = case if case is not None else self.case
        return warnings_in(self.texts, language, case.case_warnings)

    @property
    def warnings(self) -> list[dict[str, str]]:
        return self.warnings_in(get_language() or settings.LANGUAGE_CODE)

    @property
    def label_text(self) -> str:
        return self.text_in(get_language() or settings.LANGUAGE_CODE, "label")

    @property
    def explanation_text(self) -> str:
        return self.text_in(get_language() or settings.LANGUAGE_CODE, "explanation")

    def status_on(self, day: Any) -> str:
        """The status on a day: an open deadline whose due date has passed is missed.

        When the limit may be extended to the next working day, it is "possibly open" until that
        day, then missed; the due date itself never moves.
        """
        return status_on(self.status, self.due, self.next_working_day, day)

    @property
    def is_pending(self) -> bool:
        """Still to be done: not met, whether or not its due date has passed."""
        return self.status in (
            self.Status.OPEN,
            self.Status.MISSED,
            self.Status.SUSPENDED,
            self.Status.POSSIBLY_OPEN,
        ) and (self.completed_on is None)


# Deadline's texts and status from a row's plain values (the CSV export reads no instances).


def text_in(texts: Any, language: str, name: str, stored: str) -> str:
    """A deadline's label or explanation in a language, else `stored` (the site's default)."""
    found = (texts or {}).get(language[:2]) or {}
    return str(found.get(name) or stored)


def warnings_in(texts: Any, language: str, case_warnings: Any = None) -> list[dict[str, str]]:
    """A deadline's warnings in a language, else in the site's default (Deadline.warnings_in):
    its case's (`case_warnings`, Case.case_warnings) and its own (in its `texts`)."""
    found = (texts or {}).get(language[:2]) or {}
    if "label" not in found:  # not stored in that language: the site's default
        found = (texts or {}).get(settings.LANGUAGE_CODE[:2]) or {}
    shared = case_warnings or {}
    if language[:2] in shared:
        mine = shared[language[:2]]
    else:
        mine = shared.get(settings.LANGUAGE_CODE[:2])
    return merged_warnings(warning_list(mine), warning_list(found.get("warnings")))


def merged_warnings(*lists: list[dict[str, str]]) -> list[dict[str, str]]:
    """Warnings from several lists, one per code, in the order of their codes (the engine's:
    a code concerns either the whole case or some deadlines, never both; rows stored before
    Case.case_warnings held the case's too)."""
    found: dict[str, dict[str, str]] = {}
    for warnings in lists:
        for warning in warnings:
            found.setdefault(str(warning.get("code", "")), warning)
    return [found[code] for code in sorted(found)]


def warning_list(warnings: Any) -> list[dict[str, str]]:
    """The stored warnings that are warnings (objects), from a list or its JSON text."""
    if isinstance(warnings, str):
        warnings = json.loads(warnings)
    if not isinstance(warnings, list):
        return []
    return [w for w in warnings if isinstance(w, dict)]


class TextAt(KeyTextTransform):
    """A key's text, NULL where it holds JSON null on SQLite as on PostgreSQL (Django's own
    KeyTextTransform gives the text 'null' on SQLite)."""

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        lhs, params, keys = self.preprocess_lhs(compiler, connection)
        path = "$" + "".join(f".{json.dumps(key)}" for key in keys)
        return f"JSON_EXTRACT({lhs}, %s)", (*params, path)


def texts_in_query(language: str) -> dict[str, Any]:
    """text_in and warnings_in worked out by the database, to annotate a query of deadlines:
    "label_text" and "explanation_text" (text_in), "warnings_json" and "case_warnings_json"
    (what warnings_in reads of the row's texts and of its case's warnings, as JSON text:
    warning_list decodes each; NULL when there are none).

    The CSV export reads its rows this way: one language's texts cross the wire instead of every
    language's JSON, and nothing is decoded per row (tests/cases/test_texts_in_query.py checks
    that both give the same on every shape of stored texts).
    """
    mine = KeyTransform(language[:2], "texts")
    default = KeyTransform(settings.LANGUAGE_CODE[:2], "texts")
    fall_back = language[:2] != settings.LANGUAGE_CODE[:2]

    def text(name: str) -> Coalesce:
        return Coalesce(
            NullIf(TextAt(name, mine), Value("")),
            F(name),
            output_field=models.TextField(),
        )

    def warnings(texts: KeyTransform) -> Cast:
        return Cast(KeyTransform("warnings", texts), models.TextField())

    shared = KeyTransform(language[:2], "case__case_warnings")
    shared_default = KeyTransform(settings.LANGUAGE_CODE[:2], "case__case_warnings")
    return {
        "label_text": text("label"),
        "explanation_text": text("explanation"),
        "warnings_json": (
            models.Case(
                models.When(HasKey(mine, "label"), then=warnings(mine)),
                default=warnings(default),
                output_field=models.TextField(),
            )
            if fall_back
            else warnings(mine)
        ),
        "case_warnings_json": (
            models.Case(
                models.When(
                    HasKey(F("case__case_warnings"), language[:2]),
                    then=Cast(shared, models.TextField()),
                ),
                default=Cast(shared_default, models.TextField()),
                output_field=models.TextField(),
            )
            if fall_back
            else Cast(shared, models.TextField())
        ),
    }


def status_on(
    status: str, due: dt.date | None, next_working_day: dt.date | None, day: dt.date
) -> str:
    """Deadline.status_on from a row's values (the re-evaluation reads rows as tuples)."""
    if status in (Deadline.Status.OPEN, Deadline.Status.POSSIBLY_OPEN) and due is not None:
        if due >= day:
            return status
        if next_working_day is not None and day <= next_working_day:
            return Deadline.Status.POSSIBLY_OPEN.value
        return Deadline.Status.MISSED.value
    return status


def next_due_of(deadlines: Any) -> Any:
    """The soonest due date of the deadlines still to do (Case.next_due), or None."""
    return min((d.due for d in deadlines if d.is_pending and d.due is not None), default=None)


class ReevaluationRun(models.Model):
    """Every open case of a procedure re-evaluated after a pack version was published.

    The cases are split into chunks stored up front (ReevaluationChunk); workers claim a chunk
    with a conditional update and a lease, and mark it applied in the same transaction as its
    cases' writes, so a worker killed mid-chunk leaves it to be taken again and a chunk is never
    applied twice. See cases/reevaluation.py.
    """

    class State(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")

    pack_version = models.ForeignKey(
        PackVersion, on_delete=models.PROTECT, related_name="reevaluation_runs"
    )
    reason = models.TextField(_("reason"), blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.RUNNING
    )
    total_cases = models.PositiveIntegerField(_("cases"), default=0)
    done_cases = models.PositiveIntegerField(_("cases done"), default=0)
    changed_cases = models.PositiveIntegerField(_("cases whose dates moved"), default=0)
    failed_cases = models.PositiveIntegerField(_("cases refused by the new rules"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("re-evaluation after publishing")
        verbose_name_plural = _("re-evaluations after publishing")
        constraints = [
            # A publication starts one run, however many times its hook is called.
            models.UniqueConstraint(fields=["pack_version"], name="unique_reevaluation_run"),
        ]
        indexes = [models.Index(fields=["state"])]

    def __str__(self) -> str:
        return f"{self.pack_version} ({self.done_cases}/{self.total_cases})"


class ReevaluationChunk(models.Model):
    run = models.ForeignKey(ReevaluationRun, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    case_ids = models.JSONField(default=list)
    # A worker holds the chunk until lease_until; past it, another worker may take it over.
    lease_until = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Written in the same transaction as the chunk's cases: set means applied, exactly once.
    applied_at = models.DateTimeField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="unique_reevaluation_chunk"),
        ]
        indexes = [
            # The sweep: chunks not yet applied (cases/reevaluation.py: sweep).
            models.Index(
                fields=["lease_until"],
                condition=models.Q(applied_at__isnull=True),
                name="reevaluation_chunk_todo_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} chunk {self.number}"


class DeadlineMove(models.Model):
    """A deadline whose due date or status a re-evaluation changed (for the caseworkers' notice)."""

    run = models.ForeignKey(ReevaluationRun, on_delete=models.CASCADE, related_name="moves")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    key = models.CharField(max_length=63)
    label = models.CharField(max_length=200)
    texts = models.JSONField(default=dict, blank=True)
    old_due = models.DateField(null=True, blank=True)
    new_due = models.DateField(null=True, blank=True)
    # As long as Deadline.status: "possibly_open" has 13 characters.
    old_status = models.CharField(max_length=13, blank=True)
    new_status = models.CharField(max_length=13, blank=True)

    class Meta:
        ordering = ["run", "case", "key"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.key}: {self.old_due} -> {self.new_due}"

    def label_in(self, language: str) -> str:
        return str(((self.texts or {}).get(language[:2]) or {}).get("label") or self.label)


class ImpactRun(models.Model):
    """What a draft pack version would change in every open case of its procedure.

    A job evaluates each case with the draft (chunk by chunk, resuming from `done_cases`) and
    stores every difference with what the case shows today as ImpactChange rows.
    """

    class State(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    pack_version = models.ForeignKey(
        PackVersion, on_delete=models.CASCADE, related_name="impact_runs"
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.RUNNING
    )
    case_ids = models.JSONField(default=list, editable=False)
    total_cases = models.PositiveIntegerField(_("cases"), default=0)
    done_cases = models.PositiveIntegerField(_("cases done"), default=0)
    changed_cases = models.PositiveIntegerField(_("cases that would change"), default=0)
    as_of = models.DateField(_("judged on"))
    # The draft's revision when the run started: an edit since makes the run out of date.
    revision = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Moves with every chunk: a running impact left untouched past the lease is queued again.
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("impact of a draft")
        verbose_name_plural = _("impacts of drafts")

    def __str__(self) -> str:
        return f"impact of {self.pack_version} ({self.done_cases}/{self.total_cases})"


class ImpactChange(models.Model):
    """One difference: a deadline's due date or status, or an outcome, old and new."""

    class Kind(models.TextChoices):
        DEADLINE = "deadline", _("deadline")
        OUTCOME = "outcome", _("outcome")

    run = models.ForeignKey(ImpactRun, on_delete=models.CASCADE, related_name="changes")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(_("rule"), max_length=63)
    label = models.CharField(max_length=200, blank=True)
    old_due = models.DateField(null=True, blank=True)
    new_due = models.DateField(null=True, blank=True)
    old_value = models.CharField(max_length=200, blank=True)
    new_value = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["run", "case", "kind", "key"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.key}"


class CaseView(models.Model):
    """Who looked at a case's personal data, when, and through what (an audit trail)."""

    class Through(models.TextChoices):
        PAGE = "page", _("case page")
        CSV_EXPORT = "csv_export", _("CSV export")
        FEED = "feed", _("calendar feed")
        DATA_EXPORT = "data_export", _("personal data export")

    # No foreign key constraints in the database: a CSV export records thousands of views in one
    # INSERT … SELECT from rows that exist, and the constraints' checks at commit (one locking
    # SELECT … FOR KEY SHARE per row and key, writing a lock into every case row) were half of
    # the export's time to its first byte. Deleting a case or a user still takes its views with it
    # (CASCADE) or empties their user (SET_NULL): Django does both, not the database
    # (tests/cases/test_case_views_follow_deletions.py). The (case, -at) index serves the case
    # page's list; a case_id index of its own would only repeat it.
    case = models.ForeignKey(
        Case,
        on_delete=models.CASCADE,
        related_name="views",
        db_constraint=False,
        db_index=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_constraint=False,
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
