"""The pack file: reading a pack dict (parse_pack, validated) and writing one (dump_pack).

parse_pack(dump_pack(p)) == p. Problems are reported with a field path such as
`deadline_rules[2].versions[0].offset`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import fields
from typing import Any

from .definition import (
    ALERT_AUDIENCES,
    ALERT_CHANNELS,
    CALENDARS,
    CONFIDENCES,
    EXTENSIONS,
    FORMAT,
    HOLIDAY_ACTIONS,
    KEY_PATTERN,
    MAX_LEAD_DAYS,
    MAX_OFFSET,
    OUTCOME_SHAPES,
    PACK_KEY_PATTERN,
    RESUMPTIONS,
    TRIGGER_CHOICES,
    TRIGGER_OCCURRENCES,
    VERSION_BY,
    AlertRule,
    DeadlineRule,
    DeadlineRuleVersion,
    EventType,
    HolidayAdjustment,
    HolidayAdjustmentVersion,
    LookupRow,
    LookupTable,
    LookupTableVersion,
    Milestone,
    Outcome,
    OutcomeRule,
    PackDefinition,
    PackError,
    Provenance,
    WarningRule,
)
from .periods import NON_WORKING_DAY_POLICIES, UNITS
from .validation import LABEL_LENGTH, validate_pack

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

    def key(self, path: str, raw: Any, pattern: re.Pattern[str] = KEY_PATTERN) -> str:
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
                label=r.text(
                    f"{path}.label", item.get("label"), required=True, max_length=LABEL_LENGTH
                ),
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
                        confidence=r.choice(
                            f"{rpath}.confidence", row.get("confidence") or None, CONFIDENCES, ""
                        ),
                        notes=r.text(f"{rpath}.notes", row.get("notes"), max_length=2000),
                    )
                )
            versions.append(LookupTableVersion(**r.provenance(vpath, version), rows=tuple(rows)))
        lookup_tables.append(
            LookupTable(
                key=r.key(f"{path}.key", item.get("key")),
                label=r.text(
                    f"{path}.label", item.get("label"), required=True, max_length=LABEL_LENGTH
                ),
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
                label=r.text(
                    f"{path}.label", item.get("label"), required=True, max_length=LABEL_LENGTH
                ),
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
                label=r.text(
                    f"{path}.label", item.get("label"), required=True, max_length=LABEL_LENGTH
                ),
                description=r.text(f"{path}.description", item.get("description")),
                versions=tuple(rule_versions),
                alerts=tuple(alerts),
                version_by=r.choice(
                    f"{path}.version_by", item.get("version_by"), VERSION_BY, "pack"
                ),
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
                label=r.text(
                    f"{path}.label", item.get("label"), required=True, max_length=LABEL_LENGTH
                ),
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

    holiday_adjustments = [
        _parse_holiday_adjustments(r, f"holiday_adjustments[{i}]", item)
        for i, item in enumerate(r.items("holiday_adjustments", top.get("holiday_adjustments")))
    ]

    notes = r.items("notes", top.get("notes"))
    for i, note in enumerate(notes):
        r.text(f"notes[{i}]", note, required=True)
    translations = _parse_translations(r, top.get("translations"))
    weekend = r.items("weekend_days", top.get("weekend_days", [5, 6]))
    for i, day in enumerate(weekend):
        r.integer(f"weekend_days[{i}]", day, low=0, high=6, default=5)

    pack = PackDefinition(
        key=r.key("key", top.get("key"), PACK_KEY_PATTERN),
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
        anchor_event=r.text("anchor_event", top.get("anchor_event"), max_length=63),
        notes=tuple(str(n) for n in notes),
        event_types=tuple(event_types),
        lookup_tables=tuple(lookup_tables),
        milestones=tuple(milestones),
        deadline_rules=tuple(deadline_rules),
        outcomes=tuple(outcomes),
        warnings=tuple(warnings),
        holiday_adjustments=tuple(holiday_adjustments),
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


_YEARLY_DATE = re.compile(r"^[0-9]{2}-[0-9]{2}$")
_FULL_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _holiday_date(r: _Reader, path: str, raw: Any, *, required: bool) -> str:
    value = r.text(path, raw, required=required, max_length=10)
    try:
        if _FULL_DATE.match(value):
            dt.date.fromisoformat(value)
            return value
        if _YEARLY_DATE.match(value):
            dt.date.fromisoformat(f"2000-{value}")  # a leap year: 02-29 is a day
            return value
    except ValueError:
        pass
    if value:
        r.error(path, "expected a date (YYYY-MM-DD) or a day of every year (MM-DD)")
    return value


def _parse_holiday_adjustments(r: _Reader, path: str, raw: Any) -> HolidayAdjustmentVersion:
    raw = r.obj(path, raw, HolidayAdjustmentVersion, _names(HolidayAdjustmentVersion))
    days = []
    for k, item in enumerate(r.items(f"{path}.days", raw.get("days"))):
        dpath = f"{path}.days[{k}]"
        item = r.obj(dpath, item, HolidayAdjustment, _names(HolidayAdjustment))
        action = r.choice(f"{dpath}.action", item.get("action"), HOLIDAY_ACTIONS, "add")
        days.append(
            HolidayAdjustment(
                subdivision=r.text(
                    f"{dpath}.subdivision", item.get("subdivision"), required=True, max_length=20
                ),
                # A removal without a date removes the package's holiday of that name every year.
                date=_holiday_date(r, f"{dpath}.date", item.get("date"), required=action == "add"),
                action=action,
                name=r.text(f"{dpath}.name", item.get("name"), required=True, max_length=200),
            )
        )
    if not days:
        r.error(f"{path}.days", "list at least one day")
    return HolidayAdjustmentVersion(**r.provenance(path, raw), days=tuple(days))


def _parse_deadline_version(r: _Reader, path: str, raw: Any) -> DeadlineRuleVersion:
    raw = r.obj(path, raw, DeadlineRuleVersion, _names(DeadlineRuleVersion))
    departments = r.items(f"{path}.departments", raw.get("departments"))
    for k, department in enumerate(departments):
        r.text(f"{path}.departments[{k}]", department, required=True, max_length=10)
    if len(set(map(str, departments))) != len(departments):
        r.error(f"{path}.departments", "list each department once")
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
        departments=tuple(str(d) for d in departments if isinstance(d, str)),
        extension=r.choice(f"{path}.extension", raw.get("extension"), EXTENSIONS, "none"),
        extension_basis=r.text(
            f"{path}.extension_basis", raw.get("extension_basis"), max_length=300
        ),
        extension_confidence=r.choice(
            f"{path}.extension_confidence",
            raw.get("extension_confidence") or None,
            CONFIDENCES,
            "",
        ),
        description=r.text(f"{path}.description", raw.get("description")),
    )


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


# Fields added after the first packs were written: left out of a dump when they hold their
# default, so that a pack which does not use them is written exactly as before.
_OMITTED_WHEN_DEFAULT = {
    "departments",
    "extension",
    "extension_basis",
    "extension_confidence",
    "description",
}


def _dump_row(row: LookupRow) -> dict[str, Any]:
    """A lookup row; its confidence and notes only when it has its own."""
    data = _dump(row, ("key", "value", "label"))
    for name in ("confidence", "notes"):
        if getattr(row, name):
            data[name] = getattr(row, name)
    return data


def _dump_deadline_version(v: DeadlineRuleVersion) -> dict[str, Any]:
    data: dict[str, Any] = {**_dump_provenance(v)}
    for f in fields(DeadlineRuleVersion):
        if f.name in _PROVENANCE_FIELDS:
            continue
        value = getattr(v, f.name)
        if f.name in _OMITTED_WHEN_DEFAULT and value == f.default:
            continue
        data[f.name] = list(value) if isinstance(value, tuple) else value
    return data


def dump_pack(pack: PackDefinition) -> dict[str, Any]:
    """The pack file format: parse_pack(dump_pack(p)) == p."""
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
        **({"anchor_event": pack.anchor_event} if pack.anchor_event else {}),
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
                        "rows": [_dump_row(row) for row in v.rows],
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
                "versions": [_dump_deadline_version(v) for v in d.versions],
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
                **({"version_by": d.version_by} if d.version_by != "pack" else {}),
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
    if pack.holiday_adjustments:
        dumped["holiday_adjustments"] = [
            {
                **_dump_provenance(v),
                "days": [_dump(day, ("subdivision", "date", "action", "name")) for day in v.days],
            }
            for v in pack.holiday_adjustments
        ]
    if pack.translations:
        dumped["translations"] = {
            language: dict(table) for language, table in pack.translations.items()
        }
    return dumped
