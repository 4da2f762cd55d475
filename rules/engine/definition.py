"""What a rule pack is made of: the records of the pack file format, their fields and limits.

A pack version is plain data: event types, lookup tables, milestones, deadline rules, outcomes and
warnings, each rule version with its provenance (legal basis, source, dates in force, confidence).
The same structure comes from a pack file, goes back to one, and is built from the database records
that legal staff edit in the admin.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

FORMAT = "rulepack/1"

CONFIDENCES = ("certain", "likely", "unsure")
TRIGGER_CHOICES = ("first", "latest")
TRIGGER_OCCURRENCES = ("any", "first", "subsequent")
CALENDARS = ("national", "authority", "applicant")
RESUMPTIONS = ("remaining", "restart")
EXTENSIONS = ("none", "possible")
VERSION_BY = ("pack", "trigger", "anchor")
HOLIDAY_ACTIONS = ("add", "remove")
# A holiday adjustment's `subdivision` that applies to every calendar of the pack's country.
NATIONAL = "national"
ALERT_AUDIENCES = ("caseworker", "applicant", "supervisor")
ALERT_CHANNELS = ("email", "sms")
MAX_LEAD_DAYS = 90
OUTCOME_SHAPES = ("status", "value")
MAX_OFFSET = 3660
# durable_rules hangs when more than 512 rules hang off one alpha node and fails at run time when
# one fact passes more than 64 alpha nodes: stay well below both.
MAX_RULES_PER_FACT = 48

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
PACK_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


class PackError(ValueError):
    """A pack that fails validation; `errors` lists (field path, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors[:10]))
        self.errors = errors


@dataclass(frozen=True)
class Provenance:
    """Where a rule version comes from and when it is in force."""

    version: int = 1
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    legal_basis: str = ""
    source_title: str = ""
    source_url: str = ""
    confidence: str = "unsure"
    notes: str = ""

    def in_force_on(self, day: dt.date) -> bool:
        if self.effective_from is not None and day < self.effective_from:
            return False
        return self.effective_to is None or day <= self.effective_to


@dataclass(frozen=True)
class EventType:
    code: str
    label: str
    outcomes: tuple[str, ...] = ()
    description: str = ""
    # Event types whose first occurrence this event cannot precede (e.g. a registration is not
    # dated before the presentation): a request that breaks this is refused, naming the event.
    not_before: tuple[str, ...] = ()


@dataclass(frozen=True)
class LookupRow:
    key: str
    value: str
    label: str = ""
    # How sure the pack is of this row (empty: the table version's confidence), and why.
    confidence: str = ""
    notes: str = ""


@dataclass(frozen=True)
class LookupTableVersion(Provenance):
    rows: tuple[LookupRow, ...] = ()

    def row_confidence(self, row: LookupRow) -> str:
        """A row's own confidence, else the version's."""
        return row.confidence or self.confidence


@dataclass(frozen=True)
class LookupTable:
    key: str
    label: str
    description: str = ""
    versions: tuple[LookupTableVersion, ...] = ()

    def in_force_on(self, day: dt.date) -> LookupTableVersion | None:
        candidates = [v for v in self.versions if v.in_force_on(day)]
        return max(candidates, key=lambda v: v.version) if candidates else None


@dataclass(frozen=True)
class Milestone(Provenance):
    key: str = ""
    label: str = ""
    from_deadline: str = ""
    fallback_event: str = ""
    fallback_choice: str = "latest"


@dataclass(frozen=True)
class DeadlineRuleVersion(Provenance):
    trigger_event: str = ""
    trigger_milestone: str = ""
    trigger_outcome: str = ""
    trigger_choice: str = "first"
    trigger_occurrence: str = "any"
    offset: int = 0
    unit: str = "calendar_days"
    calendar: str = "national"
    non_working_day_policy: str = "flag"
    completed_by: str = ""
    completion_on_or_after_trigger: bool = False
    suspended_by: str = ""
    suspension_window_deadline: str = ""
    resumed_by: str = ""
    resumption: str = "remaining"
    # Departments this version is limited to (empty: all). For a department it lists, a version
    # with a list wins over one without.
    departments: tuple[str, ...] = ()
    # "possible": a limit ending on a non-working day may be extended to the next working day;
    # the due date is kept and the result says what may still be possible until then.
    extension: str = "none"
    extension_basis: str = ""
    extension_confidence: str = ""
    # What the deadline asks for under this version (its own numbers); empty: the rule's
    # description.
    description: str = ""


@dataclass(frozen=True)
class AlertRule:
    """When and whom to remind of a deadline (operational policy, not law)."""

    audience: str = "caseworker"
    channels: tuple[str, ...] = ("email",)
    lead_days: tuple[int, ...] = ()
    overdue: bool = False
    after_working_days: int = 0


@dataclass(frozen=True)
class DeadlineRule:
    key: str
    label: str
    description: str = ""
    versions: tuple[DeadlineRuleVersion, ...] = ()
    alerts: tuple[AlertRule, ...] = ()
    # Which date chooses the version in force: "pack" (the pack's anchor event if it names one,
    # else the trigger), "trigger" or "anchor".
    version_by: str = "pack"


@dataclass(frozen=True)
class OutcomeRule(Provenance):
    name: str = ""
    priority: int = 0
    when: tuple[Any, ...] | list[Any] = ()
    result: Any = None
    since: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Outcome:
    key: str
    label: str
    shape: str = "status"
    rules: tuple[OutcomeRule, ...] = ()


@dataclass(frozen=True)
class WarningRule(Provenance):
    code: str = ""
    message: str = ""
    when: tuple[Any, ...] | list[Any] = ()


@dataclass(frozen=True)
class HolidayAdjustment:
    """A day added to or removed from the public holidays of one calendar (or all: national)."""

    subdivision: str = NATIONAL
    date: str = ""  # "YYYY-MM-DD" (that day) or "MM-DD" (every year)
    action: str = "add"
    name: str = ""


@dataclass(frozen=True)
class HolidayAdjustmentVersion(Provenance):
    """Holidays the pack adds or removes on top of the `holidays` package, on the days in force."""

    days: tuple[HolidayAdjustment, ...] = ()


@dataclass(frozen=True)
class PackDefinition:
    key: str
    name: str
    version: int
    verified_on: dt.date
    reviewed_until: dt.date | None = None
    description: str = ""
    source_title: str = ""
    source_url: str = ""
    holiday_country: str = "FR"
    weekend_days: tuple[int, ...] = (5, 6)
    department_table: str = ""
    authority_table: str = ""
    authority_outcome: str = "competent_authority"
    # An event type whose (first) date chooses rule versions instead of each trigger's date.
    anchor_event: str = ""
    notes: tuple[str, ...] = ()
    event_types: tuple[EventType, ...] = ()
    lookup_tables: tuple[LookupTable, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    deadline_rules: tuple[DeadlineRule, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    warnings: tuple[WarningRule, ...] = ()
    holiday_adjustments: tuple[HolidayAdjustmentVersion, ...] = ()
    # Pack texts in other languages: {"fr": {"English text": "texte français"}} (like gettext).
    translations: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def settings(self) -> dict[str, Any]:
        """The values a condition may name as {"setting": ...}."""
        return {
            "reviewed_until": self.reviewed_until.isoformat() if self.reviewed_until else None,
            "verified_on": self.verified_on.isoformat(),
        }

    def event_type(self, code: str) -> EventType | None:
        return next((e for e in self.event_types if e.code == code), None)

    def lookup_table(self, key: str) -> LookupTable | None:
        return next((t for t in self.lookup_tables if t.key == key), None)
