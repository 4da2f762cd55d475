"""History a lawyer can read: a rule's versions on a time line, two versions compared field by
field, who changed what, when and why (deleted versions included), and a pack as it stood on a day.

Everything is read from django-simple-history's records; nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils import timezone

from .engine.pack import FORMAT
from .models import (
    AlertPolicy,
    DeadlineRule,
    DeadlineRuleVersion,
    EventType,
    LookupRow,
    LookupTable,
    LookupTableVersion,
    Milestone,
    Outcome,
    OutcomeRule,
    PackTranslation,
    PackVersion,
    RulePack,
    WarningRule,
)
from .packstore import (
    DEADLINE_FIELDS,
    DEADLINE_VERSION_FIELDS,
    MILESTONE_FIELDS,
    OUTCOME_FIELDS,
    OUTCOME_RULE_FIELDS,
    PACK_FIELDS,
    PROVENANCE,
    TABLE_FIELDS,
    WARNING_FIELDS,
    _record,
    alert_dict,
    deadline_version_dict,
    event_type_dict,
    lookup_version_dict,
    outcome_rule_dict,
    translations_dict,
)

# The kinds of record whose versions a lawyer follows, by the name used in URLs.
KINDS: dict[str, type[models.Model]] = {
    "deadlinerule": DeadlineRule,
    "lookuptable": LookupTable,
    "outcome": Outcome,
    "warningrule": WarningRule,
    "milestone": Milestone,
}


def _history(model: type[models.Model]) -> Any:
    return model.history  # type: ignore[attr-defined]


SKIPPED_FIELDS = {"id", "position", "history_id"}


@dataclass
class Version:
    """One version of a rule as its newest history record has it (deleted ones included)."""

    lane: str
    pk: int
    version: int
    effective_from: dt.date | None
    effective_to: dt.date | None
    confidence: str
    deleted: bool
    record: Any  # the newest historical record
    left: float = 0.0
    width: float = 100.0

    @property
    def ident(self) -> str:
        return f"{self.lane} v{self.version}" if self.lane else f"v{self.version}"


@dataclass
class Subject:
    """A rule (deadline rule, lookup table, outcome, warning, milestone) and its versions."""

    kind: str
    obj: Any
    label: str
    pack_version: PackVersion
    version_model: type[models.Model]
    version_filter: dict[str, Any]
    lane_field: str = ""
    versions: list[Version] = field(default_factory=list)
    start: dt.date | None = None
    end: dt.date | None = None
    elsewhere: list[tuple[PackVersion, int]] = field(default_factory=list)


def subject(kind: str, pk: int) -> Subject:
    """The rule of that kind and id; DoesNotExist (KeyError for an unknown kind) otherwise."""
    model = KINDS[kind]
    obj: Any = model._default_manager.get(pk=pk)
    if isinstance(obj, DeadlineRule):
        found = Subject(kind, obj, obj.key, obj.pack_version, DeadlineRuleVersion, {"rule_id": pk})
    elif isinstance(obj, LookupTable):
        found = Subject(kind, obj, obj.key, obj.pack_version, LookupTableVersion, {"table_id": pk})
    elif isinstance(obj, Outcome):
        found = Subject(
            kind, obj, obj.key, obj.pack_version, OutcomeRule, {"outcome_id": pk}, "name"
        )
    elif isinstance(obj, WarningRule):
        found = Subject(
            kind,
            obj,
            obj.code,
            obj.pack_version,
            WarningRule,
            {"pack_version_id": obj.pack_version_id, "code": obj.code},
        )
    else:
        found = Subject(
            kind,
            obj,
            obj.key,
            obj.pack_version,
            Milestone,
            {"pack_version_id": obj.pack_version_id, "key": obj.key},
        )
    found.versions = _versions(found)
    _place_on_time_line(found)
    found.elsewhere = _elsewhere(found)
    return found


def _elsewhere(found: Subject) -> list[tuple[PackVersion, int]]:
    """The same rule (same key or code) in the pack's other versions: (pack version, its id)."""
    model = type(found.obj)
    name = "code" if model is WarningRule else "key"
    others = (
        model._default_manager.filter(
            pack_version__pack_id=found.pack_version.pack_id, **{name: found.label}
        )
        .exclude(pack_version_id=found.pack_version.pk)
        .select_related("pack_version")
        .order_by("-pack_version__number", "pk")
    )
    seen: dict[int, tuple[PackVersion, int]] = {}
    for other in others:
        seen.setdefault(other.pack_version_id, (other.pack_version, other.pk))
    return list(seen.values())


def _latest_records(model: type[models.Model], **filters: Any) -> list[Any]:
    latest: dict[int, Any] = {}
    history = _history(model)
    for record in history.filter(**filters).order_by("history_date", "history_id"):
        latest[record.id] = record
    return list(latest.values())


def _versions(found: Subject) -> list[Version]:
    versions = [
        Version(
            lane=getattr(record, found.lane_field) if found.lane_field else "",
            pk=record.id,
            version=record.version,
            effective_from=record.effective_from,
            effective_to=record.effective_to,
            confidence=record.confidence,
            deleted=record.history_type == "-",
            record=record,
        )
        for record in _latest_records(found.version_model, **found.version_filter)
    ]
    return sorted(versions, key=lambda v: (v.lane, v.effective_from or dt.date.min, v.version))


def _place_on_time_line(found: Subject) -> None:
    """Bars as percentages of the span from the earliest start to the latest end (or today)."""
    days = [d for v in found.versions for d in (v.effective_from, v.effective_to) if d]
    today = timezone.localdate()
    # An open start (in force since before anyone knows) gets a visible stretch of a year.
    open_start = any(v.effective_from is None for v in found.versions)
    start = min(days, default=today) - dt.timedelta(days=365 if open_start else 30)
    end = max([*days, today]) + dt.timedelta(days=30)
    span = max((end - start).days, 1)
    for v in found.versions:
        first = v.effective_from or start
        last = v.effective_to or end
        v.left = round(100 * (first - start).days / span, 2)
        v.width = max(round(100 * ((last - first).days + 1) / span, 2), 0.5)
    found.start, found.end = start, end


def version_fields(record: Any) -> list[tuple[str, Any]]:
    """(field name, value) of a rule version, in the pack file's order."""
    model = record.instance_type
    names: tuple[str, ...]
    if model is DeadlineRuleVersion:
        names = PROVENANCE + DEADLINE_VERSION_FIELDS
    elif model is OutcomeRule:
        names = OUTCOME_RULE_FIELDS + PROVENANCE
    elif model is WarningRule:
        names = WARNING_FIELDS + PROVENANCE
    elif model is Milestone:
        names = MILESTONE_FIELDS + PROVENANCE
    else:
        names = PROVENANCE
    values = [(name, getattr(record, name)) for name in names]
    if model is LookupTableVersion:
        rows = sorted(
            (r for r in _latest_records(LookupRow, table_version_id=record.id)),
            key=lambda r: (r.position, r.id),
        )
        values.append(
            (
                "rows",
                "; ".join(
                    f"{r.key} → {r.value}" + (f" ({r.confidence})" if r.confidence else "")
                    for r in rows
                    if r.history_type != "-"
                ),
            )
        )
    return values


@dataclass
class FieldDifference:
    name: str
    old: Any
    new: Any

    @property
    def changed(self) -> bool:
        return bool(self.old != self.new)


def compare(old: Version, new: Version) -> list[FieldDifference]:
    """Every field of two versions side by side (`changed` tells which differ)."""
    old_values = dict(version_fields(old.record))
    return [
        FieldDifference(name, old_values.get(name), value)
        for name, value in version_fields(new.record)
    ]


@dataclass
class Change:
    """One history record: who, when, why, and what it changed."""

    when: dt.datetime
    user: Any
    reason: str
    kind: str  # "+", "~" or "-"
    record: str
    changes: list[tuple[str, Any, Any]]


def _changes_of(model: type[models.Model], records: list[Any], label: Any) -> list[Change]:
    result: list[Change] = []
    previous: dict[int, Any] = {}
    for record in sorted(records, key=lambda r: (r.history_date, r.history_id)):
        before = previous.get(record.id)
        changes: list[tuple[str, Any, Any]] = []
        if record.history_type == "~" and before is not None:
            delta = record.diff_against(before)
            changes = [
                (c.field, c.old, c.new) for c in delta.changes if c.field not in SKIPPED_FIELDS
            ]
        result.append(
            Change(
                when=record.history_date,
                user=record.history_user,
                reason=record.history_change_reason or "",
                kind=record.history_type,
                record=label(record),
                changes=changes,
            )
        )
        previous[record.id] = record
    return result


def change_log(found: Subject) -> list[Change]:
    """Every change to the rule and its versions (and alerts, rows), newest first."""
    history: Any = type(found.obj).history
    log: list[Change] = []
    if found.version_model is not type(found.obj):
        log += _changes_of(
            type(found.obj), list(history.filter(id=found.obj.pk)), lambda r: found.label
        )
    version_records = list(_history(found.version_model).filter(**found.version_filter))
    log += _changes_of(
        found.version_model,
        version_records,
        lambda r: f"{found.label} {getattr(r, found.lane_field, '') or ''} v{r.version}".replace(
            "  ", " "
        ),
    )
    if isinstance(found.obj, DeadlineRule):
        log += _changes_of(
            AlertPolicy,
            list(AlertPolicy.history.filter(rule_id=found.obj.pk)),
            lambda r: f"{found.label} alert ({r.audience})",
        )
    if isinstance(found.obj, LookupTable):
        ids = {r.id: r.version for r in version_records}
        log += _changes_of(
            LookupRow,
            list(LookupRow.history.filter(table_version_id__in=ids)),
            lambda r: f"{found.label} v{ids.get(r.table_version_id, '?')} row {r.key}",
        )
    return sorted(log, key=lambda c: c.when, reverse=True)


# --- the pack as it stood on a day ----------------------------------------------------------


def end_of_day(day: dt.date) -> dt.datetime:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start + dt.timedelta(days=1) - dt.timedelta(microseconds=1)


def published_on(pack: RulePack, day: dt.date) -> PackVersion | None:
    """The pack version that was published (the newest one evaluated) at the end of that day."""
    standing = PackVersion.history.as_of(end_of_day(day)).filter(
        pack_id=pack.pk, status=PackVersion.Status.PUBLISHED
    )
    return max(standing, key=lambda v: v.number, default=None)


def publications(pack: RulePack) -> list[tuple[dt.datetime, int, str]]:
    """(when, version number, status) each time a version of the pack changed status."""
    seen: dict[int, str] = {}
    events: list[tuple[dt.datetime, int, str]] = []
    records = PackVersion.history.filter(pack_id=pack.pk).order_by("history_date", "history_id")
    for record in records:
        status = "deleted" if record.history_type == "-" else record.status
        if seen.get(record.id) != status:
            events.append((record.history_date, record.number, status))
            seen[record.id] = status
    return events


def _as_of(model: type[models.Model], moment: dt.datetime, **filters: Any) -> list[Any]:
    history: Any = _history(model)
    rows = list(history.as_of(moment).filter(**filters))
    return sorted(rows, key=lambda r: (getattr(r, "position", 0), r.pk))


def pack_dict_as_of(version: PackVersion, moment: dt.datetime) -> dict[str, Any]:
    """A pack version's content as it stood at `moment`, in the pack file format (as pack_dict)."""
    stood: Any = PackVersion.history.as_of(moment).get(pk=version.pk)
    tables = []
    for table in _as_of(LookupTable, moment, pack_version_id=version.pk):
        table_versions = sorted(_as_of(LookupTableVersion, moment, table_id=table.pk), key=_number)
        tables.append(
            {
                **_record(table, TABLE_FIELDS),
                "versions": [
                    lookup_version_dict(v, _as_of(LookupRow, moment, table_version_id=v.pk))
                    for v in table_versions
                ],
            }
        )
    rules = []
    for rule in _as_of(DeadlineRule, moment, pack_version_id=version.pk):
        rule_versions = sorted(_as_of(DeadlineRuleVersion, moment, rule_id=rule.pk), key=_number)
        rules.append(
            {
                **_record(rule, DEADLINE_FIELDS),
                "versions": [deadline_version_dict(v) for v in rule_versions],
                "alerts": [alert_dict(a) for a in _as_of(AlertPolicy, moment, rule_id=rule.pk)],
            }
        )
    return {
        "format": FORMAT,
        "key": version.pack.key,
        "version": stood.number,
        **_record(stood, PACK_FIELDS),
        "notes": [line.strip() for line in stood.notes.splitlines() if line.strip()],
        "event_types": [
            event_type_dict(e) for e in _as_of(EventType, moment, pack_version_id=version.pk)
        ],
        "lookup_tables": tables,
        "milestones": [
            {**_record(m, MILESTONE_FIELDS), **_record(m, PROVENANCE)}
            for m in _as_of(Milestone, moment, pack_version_id=version.pk)
        ],
        "deadline_rules": rules,
        "outcomes": [
            {
                **_record(o, OUTCOME_FIELDS),
                "rules": [
                    outcome_rule_dict(r) for r in _as_of(OutcomeRule, moment, outcome_id=o.pk)
                ],
            }
            for o in _as_of(Outcome, moment, pack_version_id=version.pk)
        ],
        "warnings": [
            {**_record(w, WARNING_FIELDS), **_record(w, PROVENANCE)}
            for w in _as_of(WarningRule, moment, pack_version_id=version.pk)
        ],
        **translations_dict(
            sorted(
                _as_of(PackTranslation, moment, pack_version_id=version.pk),
                key=lambda t: (t.language, t.position, t.pk),
            )
        ),
    }


def _number(record: Any) -> tuple[int, int]:
    return (record.version, record.pk)
