"""Rule packs as records legal staff edit: every field of the pack file, with history.

A pack version holds a whole procedure (event types, lookup tables, milestones, deadline rules,
outcomes, warnings) so that it can be drafted, compared and published as a whole. Inside it,
each rule has versions with the dates they are in force, their legal basis, source and confidence:
a case keeps the rule version in force on its trigger's date.

Field names match the pack file's keys (rules/engine/pack.py), so that records and files convert
into each other without a mapping table.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from .engine import pack as pack_format
from .engine.periods import NON_WORKING_DAY_POLICIES, UNITS


def _choices(
    values: tuple[str, ...], labels: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    labels = labels or {}
    return [(v, labels.get(v, v.replace("_", " "))) for v in values]


CONFIDENCE_CHOICES = _choices(pack_format.CONFIDENCES)
UNIT_CHOICES = _choices(UNITS)
POLICY_CHOICES = _choices(
    NON_WORKING_DAY_POLICIES,
    {
        "flag": "keep the date and flag it",
        "next_working_day": "extend to the next working day",
        "previous_working_day": "move to the previous working day",
    },
)
CALENDAR_CHOICES = _choices(
    pack_format.CALENDARS,
    {
        "national": "national calendar",
        "authority": "the competent authority's department",
        "applicant": "the applicant's department",
    },
)
TRIGGER_CHOICE_CHOICES = _choices(
    pack_format.TRIGGER_CHOICES,
    {"first": "the first such event", "latest": "the latest such event"},
)
OCCURRENCE_CHOICES = _choices(
    pack_format.TRIGGER_OCCURRENCES,
    {
        "any": "any occurrence",
        "first": "only when it is the first of its type",
        "subsequent": "only when it is not the first of its type",
    },
)
RESUMPTION_CHOICES = _choices(
    pack_format.RESUMPTIONS,
    {"remaining": "the remaining period runs again", "restart": "the full period runs again"},
)
SHAPE_CHOICES = _choices(pack_format.OUTCOME_SHAPES)
EXTENSION_CHOICES = _choices(
    pack_format.EXTENSIONS,
    {
        "none": "not extended (the date is kept)",
        "possible": "may be extended to the next working day (date kept, shown as possible)",
    },
)
VERSION_BY_CHOICES = _choices(
    pack_format.VERSION_BY,
    {
        "pack": "as the pack says (its anchor event if it names one, else the trigger)",
        "trigger": "the trigger event's date",
        "anchor": "the pack's anchor event's date",
    },
)
HOLIDAY_ACTION_CHOICES = _choices(
    pack_format.HOLIDAY_ACTIONS, {"add": "add a holiday", "remove": "remove a holiday"}
)


def default_weekend_days() -> list[int]:
    return [5, 6]


def new_revision() -> str:
    return uuid.uuid4().hex


class RulePack(models.Model):
    """A procedure (e.g. asylum reexamination); its content lives in its versions."""

    key = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key

    def published_version(self) -> PackVersion | None:
        return self.versions.filter(status=PackVersion.Status.PUBLISHED).order_by("-number").first()


class PackVersion(models.Model):
    """One version of a pack's whole content; the newest published one is evaluated."""

    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        PUBLISHED = "published", "published"
        RETIRED = "retired", "retired"

    pack = models.ForeignKey(RulePack, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    verified_on = models.DateField(help_text="When the content was last checked against the law.")
    reviewed_until = models.DateField(
        null=True,
        blank=True,
        help_text="Events after this day get the review_horizon warning: the law after it has "
        "not been reviewed.",
    )
    source_title = models.CharField(max_length=300)
    source_url = models.URLField(max_length=500, blank=True)
    holiday_country = models.CharField(max_length=10, default="FR")
    weekend_days = models.JSONField(
        default=default_weekend_days,
        help_text="Weekday numbers (Monday = 0) that are never working days, e.g. [5, 6].",
    )
    department_table = models.CharField(
        max_length=63,
        help_text="Lookup table listing the accepted department codes, with the "
        "public-holiday subdivision of each (empty value: national calendar).",
    )
    authority_table = models.CharField(
        max_length=63,
        blank=True,
        help_text="Lookup table giving the competent authority's department for each department.",
    )
    anchor_event = models.CharField(
        max_length=63,
        blank=True,
        help_text="Event type whose first date chooses the rule versions in force, instead of "
        "each trigger's date (e.g. the application's lodging for a transition). Empty: trigger.",
    )
    authority_outcome = models.SlugField(
        max_length=63,
        default="competent_authority",
        help_text="Name of the result field that carries the competent authority.",
    )
    notes = models.TextField(blank=True, help_text="Notes shown with every result, one per line.")
    revision = models.CharField(
        max_length=32,
        default=new_revision,
        editable=False,
        help_text="Bumped on every change to the version's records; compiled rules follow it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    publish_reason = models.TextField(
        blank=True, editable=False, help_text="Why it was published (kept with the history)."
    )
    published_alone = models.BooleanField(
        default=False,
        editable=False,
        help_text="Published by its last editor, as the four-eyes setting allowed.",
    )
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_edited_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["revision"])

    class Meta:
        ordering = ["pack__key", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["pack", "number"], name="unique_pack_version_number"),
            # Publishing swaps the published version inside one transaction: never two.
            models.UniqueConstraint(
                fields=["pack"],
                condition=models.Q(status="published"),
                name="one_published_version_per_pack",
            ),
        ]
        permissions = [("publish_packversion", "Can publish a pack version")]

    def __str__(self) -> str:
        return f"{self.pack.key} v{self.number} ({self.status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Only the publication fields of a published or retired version may change.
        if self.pk is not None:
            stored = PackVersion.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored not in (None, PackVersion.Status.DRAFT):
                changed = set(kwargs.get("update_fields") or ()) - PUBLICATION_FIELDS
                if not kwargs.get("update_fields") or changed:
                    raise ReadOnlyVersion(self)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.status != PackVersion.Status.DRAFT:
            raise ReadOnlyVersion(self)
        return super().delete(*args, **kwargs)

    @property
    def is_draft(self) -> bool:
        return self.status == PackVersion.Status.DRAFT


# What publishing and retiring a version may write; everything else is frozen once published.
PUBLICATION_FIELDS = frozenset(
    {"status", "published_at", "published_by", "publish_reason", "published_alone", "revision"}
)


class ReadOnlyVersion(ValidationError):
    """A change to a published or retired pack version, or to one of its records."""

    def __init__(self, version: PackVersion) -> None:
        self.version = version
        super().__init__(read_only_message(version))


def read_only_message(version: PackVersion) -> str:
    return (
        f"{version.pack.key} version {version.number} is {version.status}: its records cannot "
        "be changed. Copy it as a new draft, change the draft, and publish it."
    )


class PackRecord(models.Model):
    """A record that belongs to a pack version, directly or through its parent."""

    json_fields: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._refuse_unless_draft()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse_unless_draft()
        return super().delete(*args, **kwargs)

    def pack_version_id_for_revision(self) -> int | None:
        raise NotImplementedError

    def _refuse_unless_draft(self) -> None:
        version_id = self.pack_version_id_for_revision()
        if version_id is None:
            return
        version = PackVersion.objects.select_related("pack").filter(pk=version_id).first()
        if version is not None and version.status != PackVersion.Status.DRAFT:
            raise ReadOnlyVersion(version)

    def clean(self) -> None:
        # Only what a record can tell alone; the pack-wide judgement is the form layer's
        # (rules/admin.py through rules/packstore.validate_record), which sees the whole save.
        errors = {}
        for name in self.json_fields:
            try:
                json.loads(getattr(self, name) or "null")
            except ValueError as error:
                errors[name] = f"not valid JSON: {error}"
        if errors:
            raise ValidationError(errors)


class Provenance(PackRecord):
    """Where a rule comes from and when it is in force."""

    version = models.PositiveIntegerField(default=1)
    effective_from = models.DateField(
        null=True, blank=True, help_text="First day in force (empty: no known start)."
    )
    effective_to = models.DateField(
        null=True, blank=True, help_text="Last day in force (empty: still in force)."
    )
    legal_basis = models.CharField(max_length=300, help_text="e.g. CESEDA R531-36")
    source_title = models.CharField(max_length=300)
    source_url = models.URLField(max_length=500, blank=True)
    confidence = models.CharField(max_length=10, choices=CONFIDENCE_CHOICES)
    notes = models.TextField(blank=True)

    class Meta:
        abstract = True


class EventType(PackRecord):
    pack_version = models.ForeignKey(
        PackVersion, on_delete=models.CASCADE, related_name="event_types"
    )
    position = models.PositiveIntegerField(default=0)
    code = models.SlugField(max_length=63)
    label = models.CharField(max_length=200)
    outcomes = models.CharField(
        max_length=500,
        blank=True,
        help_text="Allowed outcomes, comma-separated; when given, an outcome is required.",
    )
    description = models.TextField(blank=True)
    not_before = models.CharField(
        max_length=500,
        blank=True,
        help_text="Event types (comma-separated) whose first occurrence this event cannot "
        "precede; a case that breaks this is refused.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["pack_version", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pack_version", "code"], name="unique_event_type"),
        ]

    def __str__(self) -> str:
        return self.code

    def pack_version_id_for_revision(self) -> int | None:
        return self.pack_version_id

    @property
    def outcome_list(self) -> list[str]:
        return [o.strip() for o in self.outcomes.split(",") if o.strip()]

    @property
    def not_before_list(self) -> list[str]:
        return [o.strip() for o in self.not_before.split(",") if o.strip()]


class LookupTable(PackRecord):
    pack_version = models.ForeignKey(
        PackVersion, on_delete=models.CASCADE, related_name="lookup_tables"
    )
    position = models.PositiveIntegerField(default=0)
    key = models.SlugField(max_length=63)
    label = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["pack_version", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pack_version", "key"], name="unique_lookup_table"),
        ]

    def __str__(self) -> str:
        return self.key

    def pack_version_id_for_revision(self) -> int | None:
        return self.pack_version_id


class LookupTableVersion(Provenance):
    table = models.ForeignKey(LookupTable, on_delete=models.CASCADE, related_name="versions")
    history = HistoricalRecords()

    class Meta:
        ordering = ["table", "version"]
        constraints = [
            models.UniqueConstraint(fields=["table", "version"], name="unique_lookup_version"),
        ]

    def __str__(self) -> str:
        return f"{self.table.key} v{self.version}" if self.table_id else f"v{self.version}"

    def pack_version_id_for_revision(self) -> int | None:
        return (
            LookupTable.objects.filter(pk=self.table_id)
            .values_list("pack_version_id", flat=True)
            .first()
        )


class LookupRow(PackRecord):
    table_version = models.ForeignKey(
        LookupTableVersion, on_delete=models.CASCADE, related_name="rows"
    )
    position = models.PositiveIntegerField(default=0)
    key = models.CharField(max_length=50)
    value = models.CharField(max_length=200, blank=True)
    label = models.CharField(max_length=300, blank=True)
    confidence = models.CharField(
        max_length=10,
        blank=True,
        choices=CONFIDENCE_CHOICES,
        help_text="How sure the pack is of this row; empty: the table version's confidence.",
    )
    notes = models.TextField(blank=True, help_text="Why this row's confidence differs, if it does.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["table_version", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["table_version", "key"], name="unique_lookup_row"),
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.value}"

    def pack_version_id_for_revision(self) -> int | None:
        return (
            LookupTableVersion.objects.filter(pk=self.table_version_id)
            .values_list("table__pack_version_id", flat=True)
            .first()
        )


class Milestone(Provenance):
    """A derived date, e.g. the notification date: a deadline's resolution, else an event."""

    pack_version = models.ForeignKey(
        PackVersion, on_delete=models.CASCADE, related_name="milestones"
    )
    position = models.PositiveIntegerField(default=0)
    key = models.SlugField(max_length=63)
    label = models.CharField(max_length=200)
    from_deadline = models.CharField(
        max_length=63,
        blank=True,
        help_text="Deadline whose completion date (if met) or due date (otherwise) this is.",
    )
    fallback_event = models.CharField(
        max_length=63, blank=True, help_text="Event type used when that deadline does not exist."
    )
    fallback_choice = models.CharField(
        max_length=10, choices=TRIGGER_CHOICE_CHOICES, default="latest"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["pack_version", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pack_version", "key", "version"], name="unique_milestone"
            ),
        ]

    def __str__(self) -> str:
        return self.key

    def pack_version_id_for_revision(self) -> int | None:
        return self.pack_version_id


class DeadlineRule(PackRecord):
    pack_version = models.ForeignKey(
        PackVersion, on_delete=models.CASCADE, related_name="deadline_rules"
    )
    position = models.PositiveIntegerField(default=0)
    key = models.SlugField(max_length=63)
    label = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    version_by = models.CharField(
        max_length=8,
        choices=VERSION_BY_CHOICES,
        default="pack",
        help_text="Which date chooses the version in force.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["pack_version", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pack_version", "key"], name="unique_deadline_rule"),
        ]

    def __str__(self) -> str:
        return self.key

    def pack_version_id_for_revision(self) -> int | None:
        return self.pack_version_id


class DeadlineRuleVersion(Provenance):
    rule = models.ForeignKey(DeadlineRule, on_delete=models.CASCADE, related_name="versions")
    trigger_event = models.CharField(
        max_length=63, blank=True, help_text="Event type that starts the time limit."
    )
    trigger_milestone = models.CharField(
        max_length=63, blank=True, help_text="Or a milestone (derived date) that starts it."
    )
    trigger_outcome = models.CharField(
        max_length=63, blank=True, help_text="Only events with this outcome trigger it."
    )
    trigger_choice = models.CharField(
        max_length=10, choices=TRIGGER_CHOICE_CHOICES, default="first"
    )
    trigger_occurrence = models.CharField(max_length=12, choices=OCCURRENCE_CHOICES, default="any")
    offset = models.PositiveIntegerField(help_text="How many units the time limit lasts.")
    unit = models.CharField(
        max_length=16,
        choices=UNIT_CHOICES,
        default="calendar_days",
        help_text="months: same day of the month, else the month's last day.",
    )
    calendar = models.CharField(max_length=12, choices=CALENDAR_CHOICES, default="national")
    non_working_day_policy = models.CharField(max_length=24, choices=POLICY_CHOICES, default="flag")
    completed_by = models.CharField(
        max_length=63, blank=True, help_text="Event type that meets the deadline."
    )
    completion_on_or_after_trigger = models.BooleanField(
        default=False, help_text="Only a completing event dated on or after the trigger counts."
    )
    suspended_by = models.CharField(
        max_length=63, blank=True, help_text="Event type that suspends the time limit."
    )
    suspension_window_deadline = models.CharField(
        max_length=63,
        blank=True,
        help_text="The suspending event counts only if dated on or before this deadline's due "
        "date (empty: this deadline's own).",
    )
    resumed_by = models.CharField(
        max_length=63, blank=True, help_text="Event type that ends the suspension."
    )
    resumption = models.CharField(max_length=12, choices=RESUMPTION_CHOICES, default="remaining")
    departments = models.CharField(
        max_length=300,
        blank=True,
        help_text="Only for these departments, comma-separated (e.g. 976); there it wins over "
        "a version without departments. Empty: every department.",
    )
    extension = models.CharField(
        max_length=10,
        choices=EXTENSION_CHOICES,
        default="none",
        help_text="possible: a due date on a non-working day may be extended to the next working "
        "day; the result shows that day, the due date never moves.",
    )
    extension_basis = models.CharField(
        max_length=300, blank=True, help_text="Legal basis of the possible extension."
    )
    extension_confidence = models.CharField(
        max_length=10,
        blank=True,
        choices=CONFIDENCE_CHOICES,
        help_text="Confidence in the possible extension.",
    )
    description = models.TextField(
        blank=True,
        help_text="What the deadline asks for under this version, with its own numbers "
        "(e.g. 7 days); empty: the rule's description. Its French goes in the translations.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["rule", "version"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "version"], name="unique_deadline_version"),
        ]

    def __str__(self) -> str:
        return f"{self.rule.key} v{self.version}" if self.rule_id else f"v{self.version}"

    @property
    def department_list(self) -> list[str]:
        return [part.strip() for part in self.departments.split(",") if part.strip()]

    def pack_version_id_for_revision(self) -> int | None:
        return (
            DeadlineRule.objects.filter(pk=self.rule_id)
            .values_list("pack_version_id", flat=True)
            .first()
        )


class AlertPolicy(PackRecord):
    """When and whom to remind of a deadline: operational policy kept with the rule."""

    class Audience(models.TextChoices):
        CASEWORKER = "caseworker", "the assigned caseworker"
        APPLICANT = "applicant", "the applicant (only with consent)"
        SUPERVISOR = "supervisor", "the supervisors, when an overdue alert is not acknowledged"

    rule = models.ForeignKey(DeadlineRule, on_delete=models.CASCADE, related_name="alerts")
    position = models.PositiveIntegerField(default=0)
    audience = models.CharField(max_length=12, choices=Audience.choices)
    channels = models.CharField(
        max_length=50, default="email", help_text="Comma-separated: email, sms."
    )
    lead_days = models.CharField(
        max_length=100,
        blank=True,
        help_text="Days before the due date to remind, comma-separated (0: on the due day).",
    )
    overdue = models.BooleanField(default=False, help_text="Also remind once it is overdue.")
    after_working_days = models.PositiveIntegerField(
        default=0,
        help_text="Supervisors: working days an overdue alert may stay "
        "unacknowledged before they are told.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["rule", "position", "id"]

    def __str__(self) -> str:
        return f"{self.audience} via {self.channels}"

    def pack_version_id_for_revision(self) -> int | None:
        return (
            DeadlineRule.objects.filter(pk=self.rule_id)
            .values_list("pack_version_id", flat=True)
            .first()
        )

    @staticmethod
    def split(text: str) -> list[str]:
        return [part.strip() for part in text.split(",") if part.strip()]


class Outcome(PackRecord):
    pack_version = models.ForeignKey(PackVersion, on_delete=models.CASCADE, related_name="outcomes")
    position = models.PositiveIntegerField(default=0)
    key = models.SlugField(max_length=63, help_text="The result field, e.g. admissibility.")
    label = models.CharField(max_length=200)
    shape = models.CharField(
        max_length=10,
        choices=SHAPE_CHOICES,
        default="status",
        help_text="status: {status, reasons, legal_basis}; value: the winning rule's result.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["pack_version", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pack_version", "key"], name="unique_outcome"),
        ]

    def __str__(self) -> str:
        return self.key

    def pack_version_id_for_revision(self) -> int | None:
        return self.pack_version_id


class OutcomeRule(Provenance):
    json_fields = ("when", "result")
    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveIntegerField(default=0)
    name = models.SlugField(max_length=63)
    priority = models.PositiveIntegerField(
        default=0, help_text="Among the rules that hold, the highest priority decides."
    )
    when = models.JSONField(
        default=list, blank=True, help_text="Condition (see the README); empty: always holds."
    )
    result = models.JSONField(help_text="The status code (or, for a value outcome, the value).")
    since = models.CharField(
        max_length=100,
        blank=True,
        help_text="alias.field of the date the status started, e.g. decision.date",
    )
    reason = models.TextField(
        blank=True,
        help_text="Sentence shown as a reason; {alias.field} "
        "placeholders are filled from the facts that matched.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["outcome", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["outcome", "name", "version"], name="unique_outcome_rule"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def pack_version_id_for_revision(self) -> int | None:
        return (
            Outcome.objects.filter(pk=self.outcome_id)
            .values_list("pack_version_id", flat=True)
            .first()
        )


class WarningRule(Provenance):
    json_fields = ("when",)
    pack_version = models.ForeignKey(PackVersion, on_delete=models.CASCADE, related_name="warnings")
    position = models.PositiveIntegerField(default=0)
    code = models.SlugField(max_length=63)
    message = models.TextField()
    when = models.TextField(default="[]", blank=True, help_text="Condition as JSON.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["pack_version", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pack_version", "code", "version"], name="unique_warning_rule"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def pack_version_id_for_revision(self) -> int | None:
        return self.pack_version_id


class HolidayAdjustmentVersion(Provenance):
    """Holidays a pack adds or removes on top of the `holidays` package, on the days in force."""

    pack_version = models.ForeignKey(
        PackVersion, on_delete=models.CASCADE, related_name="holiday_adjustments"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["pack_version", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["pack_version", "version"], name="unique_holiday_adjustment_version"
            ),
        ]

    def __str__(self) -> str:
        return f"holiday adjustments v{self.version}"

    def pack_version_id_for_revision(self) -> int | None:
        return self.pack_version_id


class HolidayAdjustmentDay(PackRecord):
    adjustment = models.ForeignKey(
        HolidayAdjustmentVersion, on_delete=models.CASCADE, related_name="days"
    )
    position = models.PositiveIntegerField(default=0)
    subdivision = models.CharField(
        max_length=20,
        help_text="A holidays-package subdivision (e.g. 57, 971), or 'national' for every "
        "calendar of the country.",
    )
    date = models.CharField(
        max_length=10,
        blank=True,
        help_text="YYYY-MM-DD for one day, MM-DD for that day every year; empty to remove the "
        "holidays package's holiday of that name (in English) whatever its date.",
    )
    action = models.CharField(max_length=6, choices=HOLIDAY_ACTION_CHOICES, default="add")
    name = models.CharField(
        max_length=200, help_text="The holiday's name (translated by the pack)."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["adjustment", "position", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.subdivision} {self.date}"

    def pack_version_id_for_revision(self) -> int | None:
        return (
            HolidayAdjustmentVersion.objects.filter(pk=self.adjustment_id)
            .values_list("pack_version_id", flat=True)
            .first()
        )


class PackTranslation(PackRecord):
    """A pack text in another language (the English text as written in the pack is the key)."""

    pack_version = models.ForeignKey(
        PackVersion, on_delete=models.CASCADE, related_name="translations"
    )
    position = models.PositiveIntegerField(default=0)
    language = models.CharField(max_length=2, help_text="Two-letter code, e.g. fr.")
    source = models.TextField(help_text="The text exactly as the pack writes it.")
    text = models.TextField(help_text="The translation; keep {alias.field} placeholders.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["pack_version", "language", "position", "id"]

    def __str__(self) -> str:
        return f"{self.language}: {self.source[:40]}"

    def pack_version_id_for_revision(self) -> int | None:
        return self.pack_version_id


class Scenario(models.Model):
    """A case kept as data with the results it must give: a draft that breaks one is not published.

    `request` holds the facts in the shape of an API request (with `as_of`, the day they are
    judged on); `expect` the deadlines and outcomes it must give (see rules/scenarios.py).
    """

    pack = models.ForeignKey(RulePack, on_delete=models.CASCADE, related_name="scenarios")
    name = models.SlugField(max_length=100)
    description = models.TextField(blank=True)
    request = models.JSONField(help_text="The facts, as an API request, with as_of.")
    expect = models.JSONField(help_text="The deadlines and outcomes the facts must give.")
    origin = models.CharField(
        max_length=200,
        blank=True,
        help_text="Where it comes from: a shipped scenario file, a case, the admin.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["pack", "name"]
        constraints = [
            models.UniqueConstraint(fields=["pack", "name"], name="unique_scenario_name"),
        ]

    def __str__(self) -> str:
        return self.name


RECORD_MODELS: tuple[type[models.Model], ...] = (
    PackVersion,
    EventType,
    LookupTable,
    LookupTableVersion,
    LookupRow,
    Milestone,
    DeadlineRule,
    DeadlineRuleVersion,
    AlertPolicy,
    Outcome,
    OutcomeRule,
    WarningRule,
    HolidayAdjustmentVersion,
    HolidayAdjustmentDay,
    PackTranslation,
)
