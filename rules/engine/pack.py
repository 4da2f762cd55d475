"""A rule pack version as plain data: the pack file format, parsed and validated.

The same structure comes from a pack file (loadrulepack), goes back to one (exportrulepack), and is
built from the database records that legal staff edit in the admin. One validator serves all three,
and names the offending field with a path such as `deadline_rules[2].versions[0].offset`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from . import conditions
from .calendars import CalendarError, get_calendar
from .periods import NON_WORKING_DAY_POLICIES, UNITS

FORMAT = "rulepack/1"

CONFIDENCES = ("certain", "likely", "unsure")
TRIGGER_CHOICES = ("first", "latest")
TRIGGER_OCCURRENCES = ("any", "first", "subsequent")
CALENDARS = ("national", "authority", "applicant")
RESUMPTIONS = ("remaining", "restart")
ALERT_AUDIENCES = ("caseworker", "applicant", "supervisor")
ALERT_CHANNELS = ("email", "sms")
MAX_LEAD_DAYS = 90
OUTCOME_SHAPES = ("status", "value")
MAX_OFFSET = 3660
# durable_rules hangs when more than 512 rules hang off one alpha node and fails at run time when
# one fact passes more than 64 alpha nodes: stay well below both.
MAX_RULES_PER_FACT = 48

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_PACK_KEY = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


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


@dataclass(frozen=True)
class LookupTableVersion(Provenance):
    rows: tuple[LookupRow, ...] = ()


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
    notes: tuple[str, ...] = ()
    event_types: tuple[EventType, ...] = ()
    lookup_tables: tuple[LookupTable, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    deadline_rules: tuple[DeadlineRule, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    warnings: tuple[WarningRule, ...] = ()
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


# --- reading a dict -------------------------------------------------------------------------


class _Reader:
    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append((path, message))

    def obj(self, path: str, raw: Any, cls: type, allowed: Iterable[str]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            self.error(path, "expected an object")
            return {}
        for name in raw:
            if name not in allowed:
                self.error(f"{path}.{name}" if path else name, "unknown field")
        return raw

    def text(self, path: str, raw: Any, *, required: bool = False, max_length: int = 2000) -> str:
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            self.error(path, "expected text")
            return ""
        if required and not raw.strip():
            self.error(path, "required")
        if len(raw) > max_length:
            self.error(path, f"at most {max_length} characters")
        return raw

    def key(self, path: str, raw: Any, pattern: re.Pattern[str] = _KEY) -> str:
        value = self.text(path, raw, required=True)
        if value and not pattern.match(value):
            self.error(path, "lower-case letters, digits and underscores, starting with a letter")
        return value

    def choice(self, path: str, raw: Any, choices: Iterable[str], default: str) -> str:
        choices = tuple(choices)
        if raw is None:
            return default
        if raw not in choices:
            self.error(path, f"expected one of {', '.join(choices)}")
            return default
        return str(raw)

    def integer(self, path: str, raw: Any, *, low: int, high: int, default: int) -> int:
        if raw is None:
            return default
        if isinstance(raw, bool) or not isinstance(raw, int):
            self.error(path, "expected a whole number")
            return default
        if not low <= raw <= high:
            self.error(path, f"expected a number from {low} to {high}")
        return int(raw)

    def boolean(self, path: str, raw: Any, default: bool) -> bool:
        if raw is None:
            return default
        if not isinstance(raw, bool):
            self.error(path, "expected true or false")
            return default
        return raw

    def date(self, path: str, raw: Any, *, required: bool = False) -> dt.date | None:
        if raw is None:
            if required:
                self.error(path, "required")
            return None
        if isinstance(raw, dt.date):
            return raw
        if isinstance(raw, str) and re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", raw):
            try:
                return dt.date.fromisoformat(raw)
            except ValueError:
                pass
        self.error(path, "expected a date (YYYY-MM-DD)")
        return None

    def items(self, path: str, raw: Any) -> list[Any]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.error(path, "expected a list")
            return []
        return raw

    def provenance(self, path: str, raw: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "version": self.integer(
                f"{path}.version", raw.get("version"), low=1, high=9999, default=1
            ),
            "effective_from": self.date(f"{path}.effective_from", raw.get("effective_from")),
            "effective_to": self.date(f"{path}.effective_to", raw.get("effective_to")),
            "legal_basis": self.text(
                f"{path}.legal_basis", raw.get("legal_basis"), required=True, max_length=300
            ),
            "source_title": self.text(
                f"{path}.source_title", raw.get("source_title"), required=True, max_length=300
            ),
            "source_url": self.text(f"{path}.source_url", raw.get("source_url"), max_length=500),
            "confidence": self.choice(
                f"{path}.confidence", raw.get("confidence"), CONFIDENCES, "unsure"
            ),
            "notes": self.text(f"{path}.notes", raw.get("notes"), max_length=5000),
        }
        if "confidence" not in raw:
            self.error(f"{path}.confidence", "required (certain, likely or unsure)")
        url = values["source_url"]
        if url and not url.startswith(("https://", "http://")):
            self.error(f"{path}.source_url", "expected an http(s) link")
        start, end = values["effective_from"], values["effective_to"]
        if start and end and end < start:
            self.error(f"{path}.effective_to", "ends before it starts")
        return values


_PROVENANCE_FIELDS = {f.name for f in fields(Provenance)}


def _names(cls: type, *extra: str) -> set[str]:
    return {f.name for f in fields(cls)} | set(extra)


def parse_pack(raw: Any) -> PackDefinition:
    """Parse and validate a pack dict (the pack file format); raise PackError listing problems."""
    r = _Reader()
    top = r.obj("", raw, PackDefinition, _names(PackDefinition, "format"))
    if not top:
        raise PackError(r.errors or [("", "expected an object")])
    if top.get("format") != FORMAT:
        r.error("format", f"expected {FORMAT!r}")

    event_types = []
    for i, item in enumerate(r.items("event_types", top.get("event_types"))):
        path = f"event_types[{i}]"
        item = r.obj(path, item, EventType, _names(EventType))
        outcomes = r.items(f"{path}.outcomes", item.get("outcomes"))
        for j, outcome in enumerate(outcomes):
            r.key(f"{path}.outcomes[{j}]", outcome)
        not_before = r.items(f"{path}.not_before", item.get("not_before"))
        for j, other in enumerate(not_before):
            r.key(f"{path}.not_before[{j}]", other)
        event_types.append(
            EventType(
                code=r.key(f"{path}.code", item.get("code")),
                label=r.text(f"{path}.label", item.get("label"), required=True, max_length=200),
                outcomes=tuple(str(o) for o in outcomes),
                description=r.text(f"{path}.description", item.get("description")),
                not_before=tuple(str(o) for o in not_before),
            )
        )

    lookup_tables = []
    for i, item in enumerate(r.items("lookup_tables", top.get("lookup_tables"))):
        path = f"lookup_tables[{i}]"
        item = r.obj(path, item, LookupTable, _names(LookupTable))
        versions = []
        for j, version in enumerate(r.items(f"{path}.versions", item.get("versions"))):
            vpath = f"{path}.versions[{j}]"
            version = r.obj(vpath, version, LookupTableVersion, _names(LookupTableVersion))
            rows = []
            for k, row in enumerate(r.items(f"{vpath}.rows", version.get("rows"))):
                rpath = f"{vpath}.rows[{k}]"
                row = r.obj(rpath, row, LookupRow, _names(LookupRow))
                rows.append(
                    LookupRow(
                        key=r.text(f"{rpath}.key", row.get("key"), required=True, max_length=50),
                        value=r.text(f"{rpath}.value", row.get("value"), max_length=200),
                        label=r.text(f"{rpath}.label", row.get("label"), max_length=300),
                    )
                )
            versions.append(LookupTableVersion(**r.provenance(vpath, version), rows=tuple(rows)))
        lookup_tables.append(
            LookupTable(
                key=r.key(f"{path}.key", item.get("key")),
                label=r.text(f"{path}.label", item.get("label"), required=True, max_length=200),
                description=r.text(f"{path}.description", item.get("description")),
                versions=tuple(versions),
            )
        )

    milestones = []
    for i, item in enumerate(r.items("milestones", top.get("milestones"))):
        path = f"milestones[{i}]"
        item = r.obj(path, item, Milestone, _names(Milestone))
        milestones.append(
            Milestone(
                **r.provenance(path, item),
                key=r.key(f"{path}.key", item.get("key")),
                label=r.text(f"{path}.label", item.get("label"), required=True, max_length=200),
                from_deadline=r.text(f"{path}.from_deadline", item.get("from_deadline")),
                fallback_event=r.text(f"{path}.fallback_event", item.get("fallback_event")),
                fallback_choice=r.choice(
                    f"{path}.fallback_choice",
                    item.get("fallback_choice"),
                    TRIGGER_CHOICES,
                    "latest",
                ),
            )
        )

    deadline_rules = []
    for i, item in enumerate(r.items("deadline_rules", top.get("deadline_rules"))):
        path = f"deadline_rules[{i}]"
        item = r.obj(path, item, DeadlineRule, _names(DeadlineRule))
        rule_versions: list[DeadlineRuleVersion] = []
        for j, version in enumerate(r.items(f"{path}.versions", item.get("versions"))):
            rule_versions.append(_parse_deadline_version(r, f"{path}.versions[{j}]", version))
        alerts = [
            _parse_alert(r, f"{path}.alerts[{j}]", alert)
            for j, alert in enumerate(r.items(f"{path}.alerts", item.get("alerts")))
        ]
        deadline_rules.append(
            DeadlineRule(
                key=r.key(f"{path}.key", item.get("key")),
                label=r.text(f"{path}.label", item.get("label"), required=True, max_length=200),
                description=r.text(f"{path}.description", item.get("description")),
                versions=tuple(rule_versions),
                alerts=tuple(alerts),
            )
        )

    outcomes = []
    for i, item in enumerate(r.items("outcomes", top.get("outcomes"))):
        path = f"outcomes[{i}]"
        item = r.obj(path, item, Outcome, _names(Outcome))
        rules = []
        for j, rule in enumerate(r.items(f"{path}.rules", item.get("rules"))):
            rpath = f"{path}.rules[{j}]"
            rule = r.obj(rpath, rule, OutcomeRule, _names(OutcomeRule))
            rules.append(
                OutcomeRule(
                    **r.provenance(rpath, rule),
                    name=r.key(f"{rpath}.name", rule.get("name")),
                    priority=r.integer(
                        f"{rpath}.priority", rule.get("priority"), low=0, high=1000, default=0
                    ),
                    when=_json_list(r, f"{rpath}.when", rule.get("when")),
                    result=rule.get("result"),
                    since=r.text(f"{rpath}.since", rule.get("since"), max_length=100),
                    reason=r.text(f"{rpath}.reason", rule.get("reason"), max_length=1000),
                )
            )
        outcomes.append(
            Outcome(
                key=r.key(f"{path}.key", item.get("key")),
                label=r.text(f"{path}.label", item.get("label"), required=True, max_length=200),
                shape=r.choice(f"{path}.shape", item.get("shape"), OUTCOME_SHAPES, "status"),
                rules=tuple(rules),
            )
        )

    warnings = []
    for i, item in enumerate(r.items("warnings", top.get("warnings"))):
        path = f"warnings[{i}]"
        item = r.obj(path, item, WarningRule, _names(WarningRule))
        warnings.append(
            WarningRule(
                **r.provenance(path, item),
                code=r.key(f"{path}.code", item.get("code")),
                message=r.text(
                    f"{path}.message", item.get("message"), required=True, max_length=1000
                ),
                when=_json_list(r, f"{path}.when", item.get("when")),
            )
        )

    notes = r.items("notes", top.get("notes"))
    for i, note in enumerate(notes):
        r.text(f"notes[{i}]", note, required=True)
    translations = _parse_translations(r, top.get("translations"))
    weekend = r.items("weekend_days", top.get("weekend_days", [5, 6]))
    for i, day in enumerate(weekend):
        r.integer(f"weekend_days[{i}]", day, low=0, high=6, default=5)

    pack = PackDefinition(
        key=r.key("key", top.get("key"), _PACK_KEY),
        name=r.text("name", top.get("name"), required=True, max_length=200),
        version=r.integer("version", top.get("version"), low=1, high=100000, default=1),
        verified_on=r.date("verified_on", top.get("verified_on"), required=True)
        or dt.date(1970, 1, 1),
        reviewed_until=r.date("reviewed_until", top.get("reviewed_until")),
        description=r.text("description", top.get("description"), max_length=5000),
        source_title=r.text("source_title", top.get("source_title"), required=True, max_length=300),
        source_url=r.text("source_url", top.get("source_url"), max_length=500),
        holiday_country=r.text(
            "holiday_country", top.get("holiday_country", "FR"), required=True, max_length=10
        ),
        weekend_days=tuple(d for d in weekend if isinstance(d, int)),
        department_table=r.text("department_table", top.get("department_table"), required=True),
        authority_table=r.text("authority_table", top.get("authority_table")),
        authority_outcome=r.key(
            "authority_outcome", top.get("authority_outcome", "competent_authority")
        ),
        notes=tuple(str(n) for n in notes),
        event_types=tuple(event_types),
        lookup_tables=tuple(lookup_tables),
        milestones=tuple(milestones),
        deadline_rules=tuple(deadline_rules),
        outcomes=tuple(outcomes),
        warnings=tuple(warnings),
        translations=translations,
    )
    # Cross-record checks run even when fields were refused (those fall back to defaults), so
    # that one run lists every problem; a path already reported is not reported twice.
    reported = {path for path, _ in r.errors}
    r.errors.extend(e for e in validate_pack(pack) if e[0] not in reported)
    if r.errors:
        raise PackError(r.errors)
    return pack


_LANGUAGE = re.compile(r"^[a-z]{2}$")
_PLACEHOLDERS = re.compile(r"\{[a-z][a-z0-9_]*\.[a-z_.]+\}")


def _parse_translations(r: _Reader, raw: Any) -> dict[str, dict[str, str]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        r.error("translations", "expected an object: language -> {text: translation}")
        return {}
    result: dict[str, dict[str, str]] = {}
    for language, table in raw.items():
        path = f"translations.{language}"
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            r.error(path, "a language is a two-letter code, e.g. fr")
            continue
        if not isinstance(table, dict):
            r.error(path, "expected an object: text -> translation")
            continue
        entries: dict[str, str] = {}
        for source, text in table.items():
            if not isinstance(text, str) or not text.strip():
                r.error(f"{path}[{source!r}]", "expected a non-empty translation")
                continue
            if sorted(_PLACEHOLDERS.findall(source)) != sorted(_PLACEHOLDERS.findall(text)):
                r.error(f"{path}[{source!r}]", "keep the same {alias.field} placeholders")
                continue
            entries[source] = text
        result[language] = entries
    return result


def _json_list(r: _Reader, path: str, raw: Any) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        r.error(path, "expected a list of patterns")
        return []
    return raw


def _parse_alert(r: _Reader, path: str, raw: Any) -> AlertRule:
    raw = r.obj(path, raw, AlertRule, _names(AlertRule))
    audience = r.choice(f"{path}.audience", raw.get("audience"), ALERT_AUDIENCES, "caseworker")
    channels = r.items(f"{path}.channels", raw.get("channels"))
    for j, channel in enumerate(channels):
        if channel not in ALERT_CHANNELS:
            r.error(f"{path}.channels[{j}]", f"expected one of {', '.join(ALERT_CHANNELS)}")
    if not channels:
        r.error(f"{path}.channels", "name at least one channel")
    elif len(set(map(str, channels))) != len(channels):
        r.error(f"{path}.channels", "list each channel once")
    lead_days = r.items(f"{path}.lead_days", raw.get("lead_days"))
    for j, days in enumerate(lead_days):
        r.integer(f"{path}.lead_days[{j}]", days, low=0, high=MAX_LEAD_DAYS, default=0)
    if len(set(map(str, lead_days))) != len(lead_days):
        r.error(f"{path}.lead_days", "list each lead time once")
    overdue = r.boolean(f"{path}.overdue", raw.get("overdue"), False)
    after = r.integer(
        f"{path}.after_working_days", raw.get("after_working_days"), low=0, high=30, default=0
    )
    if audience == "supervisor" and (lead_days or not overdue or after < 1):
        r.error(
            f"{path}.audience",
            "a supervisor is alerted only about an overdue deadline "
            "not acknowledged: set overdue, after_working_days >= 1 and no lead_days",
        )
    if not lead_days and not overdue:
        r.error(f"{path}.lead_days", "give lead times, or overdue, or both")
    return AlertRule(
        audience=audience,
        channels=tuple(str(c) for c in channels),
        lead_days=tuple(sorted({d for d in lead_days if isinstance(d, int)}, reverse=True)),
        overdue=overdue,
        after_working_days=after,
    )


def _parse_deadline_version(r: _Reader, path: str, raw: Any) -> DeadlineRuleVersion:
    raw = r.obj(path, raw, DeadlineRuleVersion, _names(DeadlineRuleVersion))
    return DeadlineRuleVersion(
        **r.provenance(path, raw),
        trigger_event=r.text(f"{path}.trigger_event", raw.get("trigger_event")),
        trigger_milestone=r.text(f"{path}.trigger_milestone", raw.get("trigger_milestone")),
        trigger_outcome=r.text(f"{path}.trigger_outcome", raw.get("trigger_outcome")),
        trigger_choice=r.choice(
            f"{path}.trigger_choice", raw.get("trigger_choice"), TRIGGER_CHOICES, "first"
        ),
        trigger_occurrence=r.choice(
            f"{path}.trigger_occurrence", raw.get("trigger_occurrence"), TRIGGER_OCCURRENCES, "any"
        ),
        offset=r.integer(f"{path}.offset", raw.get("offset"), low=0, high=MAX_OFFSET, default=0),
        unit=r.choice(f"{path}.unit", raw.get("unit"), UNITS, "calendar_days"),
        calendar=r.choice(f"{path}.calendar", raw.get("calendar"), CALENDARS, "national"),
        non_working_day_policy=r.choice(
            f"{path}.non_working_day_policy",
            raw.get("non_working_day_policy"),
            NON_WORKING_DAY_POLICIES,
            "flag",
        ),
        completed_by=r.text(f"{path}.completed_by", raw.get("completed_by")),
        completion_on_or_after_trigger=r.boolean(
            f"{path}.completion_on_or_after_trigger",
            raw.get("completion_on_or_after_trigger"),
            False,
        ),
        suspended_by=r.text(f"{path}.suspended_by", raw.get("suspended_by")),
        suspension_window_deadline=r.text(
            f"{path}.suspension_window_deadline", raw.get("suspension_window_deadline")
        ),
        resumed_by=r.text(f"{path}.resumed_by", raw.get("resumed_by")),
        resumption=r.choice(f"{path}.resumption", raw.get("resumption"), RESUMPTIONS, "remaining"),
    )


# --- whole-pack validation ------------------------------------------------------------------


def validate_pack(pack: PackDefinition) -> list[tuple[str, str]]:
    """Cross-record checks: references, overlaps, cycles, calendars, conditions, engine limits."""
    errors: list[tuple[str, str]] = []
    add = errors.append
    codes = [e.code for e in pack.event_types]
    outcomes_of = {e.code: e.outcomes for e in pack.event_types}
    deadline_keys = [d.key for d in pack.deadline_rules]
    milestone_keys = [m.key for m in pack.milestones]
    table_keys = [t.key for t in pack.lookup_tables]

    for label, keys, path in (
        ("event type", codes, "event_types"),
        ("deadline rule", deadline_keys, "deadline_rules"),
        ("milestone", milestone_keys, "milestones"),
        ("lookup table", table_keys, "lookup_tables"),
        ("outcome", [o.key for o in pack.outcomes], "outcomes"),
    ):
        seen: set[str] = set()
        for i, key in enumerate(keys):
            if key in seen:
                add((f"{path}[{i}]", f"{label} {key!r} is defined twice"))
            seen.add(key)

    try:
        get_calendar(pack.holiday_country, None, pack.weekend_days)
    except CalendarError as error:
        add(("holiday_country", str(error)))
    if not pack.weekend_days or len(set(pack.weekend_days)) != len(pack.weekend_days):
        add(("weekend_days", "list each weekend day once"))

    for name in ("department_table", "authority_table"):
        value = getattr(pack, name)
        if value and value not in table_keys:
            add((name, f"no lookup table {value!r}"))
    if pack.reviewed_until and pack.reviewed_until < dt.date(1900, 1, 1):
        add(("reviewed_until", "implausible date"))

    for i, table in enumerate(pack.lookup_tables):
        _check_versions(errors, f"lookup_tables[{i}]", table.versions, lambda v: ())
        for j, version in enumerate(table.versions):
            seen_rows: set[str] = set()
            for k, row in enumerate(version.rows):
                if row.key in seen_rows:
                    add(
                        (
                            f"lookup_tables[{i}].versions[{j}].rows[{k}].key",
                            f"key {row.key!r} appears twice",
                        )
                    )
                seen_rows.add(row.key)
                if table.key == pack.department_table and row.value:
                    try:
                        get_calendar(pack.holiday_country, row.value, pack.weekend_days)
                    except CalendarError as error:
                        add((f"lookup_tables[{i}].versions[{j}].rows[{k}].value", str(error)))
            if table.key == pack.authority_table and pack.department_table in table_keys:
                departments = _all_keys(pack, pack.department_table)
                for k, row in enumerate(version.rows):
                    if row.key not in departments:
                        add(
                            (
                                f"lookup_tables[{i}].versions[{j}].rows[{k}].key",
                                f"{row.key!r} is not in table {pack.department_table!r}",
                            )
                        )
                    if row.value not in departments:
                        add(
                            (
                                f"lookup_tables[{i}].versions[{j}].rows[{k}].value",
                                f"{row.value!r} is not in table {pack.department_table!r}",
                            )
                        )

    for i, event_type in enumerate(pack.event_types):
        for j, other in enumerate(event_type.not_before):
            if other not in codes:
                add((f"event_types[{i}].not_before[{j}]", f"no event type {other!r}"))
            elif other == event_type.code:
                add((f"event_types[{i}].not_before[{j}]", "an event type cannot follow itself"))

    for i, milestone in enumerate(pack.milestones):
        path = f"milestones[{i}]"
        if milestone.from_deadline and milestone.from_deadline not in deadline_keys:
            add((f"{path}.from_deadline", f"no deadline rule {milestone.from_deadline!r}"))
        if milestone.fallback_event and milestone.fallback_event not in codes:
            add((f"{path}.fallback_event", f"no event type {milestone.fallback_event!r}"))
        if not milestone.from_deadline and not milestone.fallback_event:
            add((f"{path}.from_deadline", "a milestone needs a deadline or an event"))

    def event_ref(path: str, value: str, required: bool = False) -> None:
        if value and value not in codes:
            add((path, f"no event type {value!r}"))
        elif required and not value:
            add((path, "required"))

    depends: dict[str, set[str]] = {key: set() for key in deadline_keys}
    for i, rule in enumerate(pack.deadline_rules):
        path = f"deadline_rules[{i}]"
        if not rule.versions:
            add((f"{path}.versions", "a deadline rule needs at least one version"))

        def overlap_key(v: DeadlineRuleVersion) -> tuple[str, ...]:
            return (v.trigger_occurrence,)

        _check_versions(errors, path, rule.versions, overlap_key)
        for j, v in enumerate(rule.versions):
            vpath = f"{path}.versions[{j}]"
            if bool(v.trigger_event) == bool(v.trigger_milestone):
                add((f"{vpath}.trigger_event", "give a trigger event or a milestone, not both"))
            event_ref(f"{vpath}.trigger_event", v.trigger_event)
            if v.trigger_milestone and v.trigger_milestone not in milestone_keys:
                add((f"{vpath}.trigger_milestone", f"no milestone {v.trigger_milestone!r}"))
            if v.trigger_outcome:
                if not v.trigger_event:
                    add((f"{vpath}.trigger_outcome", "an outcome filter needs a trigger event"))
                elif v.trigger_outcome not in outcomes_of.get(v.trigger_event, ()):
                    add(
                        (
                            f"{vpath}.trigger_outcome",
                            f"{v.trigger_event!r} has no outcome {v.trigger_outcome!r}",
                        )
                    )
            if v.trigger_milestone and v.trigger_occurrence != "any":
                add((f"{vpath}.trigger_occurrence", "a milestone happens once: use 'any'"))
            if v.unit == "working_days" and v.offset == 0:
                add((f"{vpath}.offset", "count at least one working day"))
            event_ref(f"{vpath}.completed_by", v.completed_by)
            event_ref(f"{vpath}.suspended_by", v.suspended_by)
            event_ref(f"{vpath}.resumed_by", v.resumed_by, required=bool(v.suspended_by))
            if v.resumed_by and not v.suspended_by:
                add((f"{vpath}.suspended_by", "a resumption event needs a suspension event"))
            window = v.suspension_window_deadline
            if window:
                if not v.suspended_by:
                    add((f"{vpath}.suspension_window_deadline", "needs a suspension event"))
                if window not in deadline_keys:
                    add((f"{vpath}.suspension_window_deadline", f"no deadline rule {window!r}"))
                elif window == rule.key:
                    add((f"{vpath}.suspension_window_deadline", "cannot be the rule itself"))
                else:
                    depends[rule.key].add(window)
            if v.trigger_milestone in milestone_keys:
                milestone = next(m for m in pack.milestones if m.key == v.trigger_milestone)
                if milestone.from_deadline:
                    depends[rule.key].add(milestone.from_deadline)
    cycle = _find_cycle(depends)
    if cycle:
        add(("deadline_rules", "circular dependency: " + " -> ".join(cycle)))

    event_codes = tuple(codes)
    for i, outcome in enumerate(pack.outcomes):
        path = f"outcomes[{i}]"
        if not outcome.rules:
            add((f"{path}.rules", "an outcome needs at least one rule"))
        for j, outcome_rule in enumerate(outcome.rules):
            rpath = f"{path}.rules[{j}]"
            aliases = _check_condition(
                errors, f"{rpath}.when", outcome_rule.when, event_codes, pack
            )
            if outcome.shape == "status":
                if not isinstance(outcome_rule.result, str) or not _KEY.match(outcome_rule.result):
                    add((f"{rpath}.result", "a status is a short lower-case code"))
            elif outcome_rule.result is None:
                add((f"{rpath}.result", "required"))
            if aliases is not None:
                if outcome_rule.reason:
                    try:
                        conditions.check_template(
                            f"{rpath}.reason", outcome_rule.reason, aliases, ("pack",), event_codes
                        )
                    except conditions.ConditionError as error:
                        add((error.path, error.message))
                if outcome_rule.since:
                    alias, _, attr = outcome_rule.since.partition(".")
                    if (
                        aliases.get(alias) is None
                        or conditions.field_type(aliases[alias], attr, event_codes)
                        != conditions.DATE
                    ):
                        add((f"{rpath}.since", "expected alias.field naming a date of the match"))

    for i, warning in enumerate(pack.warnings):
        path = f"warnings[{i}]"
        aliases = _check_condition(errors, f"{path}.when", warning.when, event_codes, pack)
        if aliases is not None:
            try:
                conditions.check_template(
                    f"{path}.message", warning.message, aliases, ("pack",), event_codes
                )
            except conditions.ConditionError as error:
                add((error.path, error.message))

    _check_engine_limits(errors, pack)
    return errors


def _all_keys(pack: PackDefinition, table_key: str) -> set[str]:
    table = pack.lookup_table(table_key)
    return {row.key for version in (table.versions if table else ()) for row in version.rows}


def _check_condition(
    errors: list[tuple[str, str]],
    path: str,
    when: Any,
    event_codes: tuple[str, ...],
    pack: PackDefinition,
) -> dict[str, str] | None:
    try:
        compiled = conditions.compile_condition(
            list(when), event_types=event_codes, settings=pack.settings, path=path
        )
    except conditions.ConditionError as error:
        errors.append((error.path, error.message))
        return None
    return compiled[1] if compiled else {}


def _check_versions(
    errors: list[tuple[str, str]], path: str, versions: Iterable[Provenance], overlap_key: Any
) -> None:
    """Version numbers are unique; versions that apply to the same facts do not overlap in time."""
    seen: dict[int, int] = {}
    versions = list(versions)
    for j, version in enumerate(versions):
        if version.version in seen:
            errors.append((f"{path}.versions[{j}].version", f"version {version.version} twice"))
        seen[version.version] = j
    for a in range(len(versions)):
        for b in range(a + 1, len(versions)):
            va, vb = versions[a], versions[b]
            if overlap_key(va) != overlap_key(vb) and "any" not in (
                overlap_key(va) + overlap_key(vb)
            ):
                continue
            lo = max(va.effective_from or dt.date.min, vb.effective_from or dt.date.min)
            hi = min(va.effective_to or dt.date.max, vb.effective_to or dt.date.max)
            if lo <= hi:
                errors.append(
                    (
                        f"{path}.versions[{b}].effective_from",
                        f"in force on {lo.isoformat()} together with version {va.version}: "
                        "end one before the other starts",
                    )
                )


def _find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt in graph and not state.get(nxt):
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if not state.get(node):
            found = visit(node)
            if found:
                return found
    return None


def _check_engine_limits(errors: list[tuple[str, str]], pack: PackDefinition) -> None:
    """Refuse packs whose compiled rules could reach durable_rules' hang or run-time error."""
    per_anchor: dict[str, int] = {}
    for rule in pack.deadline_rules:
        for version in rule.versions:
            anchor = f"event:{version.trigger_event}" if version.trigger_event else "milestone"
            per_anchor[anchor] = per_anchor.get(anchor, 0) + 1
    conditions_ = [rule.when for outcome in pack.outcomes for rule in outcome.rules]
    conditions_ += [warning.when for warning in pack.warnings]
    for when in conditions_:
        for pattern in when or [{"fact": "case"}]:
            kind = pattern.get("fact", "?") if isinstance(pattern, dict) else "?"
            # Each branch of an "any" is a path of its own through durable_rules' network.
            weight = _branch_weight(pattern.get("where")) if isinstance(pattern, dict) else 1
            per_anchor[str(kind)] = per_anchor.get(str(kind), 0) + weight
    events_total = sum(n for k, n in per_anchor.items() if k.startswith("event"))
    for anchor, count in sorted(per_anchor.items()):
        if count > MAX_RULES_PER_FACT or (
            anchor == "event" and events_total > 4 * MAX_RULES_PER_FACT
        ):
            errors.append(
                (
                    "deadline_rules" if anchor.startswith(("event:", "milestone")) else "outcomes",
                    f"{count} rules test the same kind of fact ({anchor}); the engine allows "
                    f"{MAX_RULES_PER_FACT}",
                )
            )


def _branch_weight(where: Any) -> int:
    """How many paths a `where` adds: 1, plus n - 1 for each "any" of n branches inside it."""
    extra = 0

    def walk(node: Any) -> None:
        nonlocal extra
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "any" and isinstance(value, list):
                    extra += max(len(value) - 1, 0)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(where)
    return 1 + extra


# --- writing a dict -------------------------------------------------------------------------


def _dump_provenance(p: Provenance) -> dict[str, Any]:
    return {
        "version": p.version,
        "effective_from": p.effective_from.isoformat() if p.effective_from else None,
        "effective_to": p.effective_to.isoformat() if p.effective_to else None,
        "legal_basis": p.legal_basis,
        "source_title": p.source_title,
        "source_url": p.source_url,
        "confidence": p.confidence,
        "notes": p.notes,
    }


def _dump(obj: Any, names: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


def dump_pack(pack: PackDefinition) -> dict[str, Any]:
    """The pack file format: parse_pack(dump_pack(p)) == p."""
    deadline_fields = [
        f.name for f in fields(DeadlineRuleVersion) if f.name not in _PROVENANCE_FIELDS
    ]
    dumped: dict[str, Any] = {
        "format": FORMAT,
        "key": pack.key,
        "name": pack.name,
        "version": pack.version,
        "description": pack.description,
        "verified_on": pack.verified_on.isoformat(),
        "reviewed_until": pack.reviewed_until.isoformat() if pack.reviewed_until else None,
        "source_title": pack.source_title,
        "source_url": pack.source_url,
        "holiday_country": pack.holiday_country,
        "weekend_days": list(pack.weekend_days),
        "department_table": pack.department_table,
        "authority_table": pack.authority_table,
        "authority_outcome": pack.authority_outcome,
        "notes": list(pack.notes),
        "event_types": [
            {
                "code": e.code,
                "label": e.label,
                "outcomes": list(e.outcomes),
                "description": e.description,
                "not_before": list(e.not_before),
            }
            for e in pack.event_types
        ],
        "lookup_tables": [
            {
                "key": t.key,
                "label": t.label,
                "description": t.description,
                "versions": [
                    {
                        **_dump_provenance(v),
                        "rows": [_dump(row, ("key", "value", "label")) for row in v.rows],
                    }
                    for v in t.versions
                ],
            }
            for t in pack.lookup_tables
        ],
        "milestones": [
            {
                "key": m.key,
                "label": m.label,
                "from_deadline": m.from_deadline,
                "fallback_event": m.fallback_event,
                "fallback_choice": m.fallback_choice,
                **_dump_provenance(m),
            }
            for m in pack.milestones
        ],
        "deadline_rules": [
            {
                "key": d.key,
                "label": d.label,
                "description": d.description,
                "versions": [
                    {**_dump_provenance(v), **_dump(v, deadline_fields)} for v in d.versions
                ],
                "alerts": [
                    {
                        "audience": a.audience,
                        "channels": list(a.channels),
                        "lead_days": list(a.lead_days),
                        "overdue": a.overdue,
                        "after_working_days": a.after_working_days,
                    }
                    for a in d.alerts
                ],
            }
            for d in pack.deadline_rules
        ],
        "outcomes": [
            {
                "key": o.key,
                "label": o.label,
                "shape": o.shape,
                "rules": [
                    {
                        "name": rule.name,
                        "priority": rule.priority,
                        "when": list(rule.when),
                        "result": rule.result,
                        "since": rule.since,
                        "reason": rule.reason,
                        **_dump_provenance(rule),
                    }
                    for rule in o.rules
                ],
            }
            for o in pack.outcomes
        ],
        "warnings": [
            {"code": w.code, "message": w.message, "when": list(w.when), **_dump_provenance(w)}
            for w in pack.warnings
        ],
    }
    if pack.translations:
        dumped["translations"] = {
            language: dict(table) for language, table in pack.translations.items()
        }
    return dumped
