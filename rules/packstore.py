"""Rule pack records <-> the pack file format, and the validation the admin runs on each record.

The database content of a pack version converts to the same dict as its pack file, and that
dict goes through the one validator in rules/engine/pack.py. The admin validates a record by
placing its unsaved values into its pack version's dict and keeping the errors at its path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Prefetch
from simple_history.utils import bulk_create_with_history

from .change_reasons import current_reason, current_user, loading_reason, recorded_as
from .engine.pack import FORMAT, PackDefinition, PackError, parse_pack
from .models import (
    AlertPolicy,
    DeadlineRule,
    DeadlineRuleVersion,
    EventType,
    HolidayAdjustmentDay,
    HolidayAdjustmentVersion,
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

PROVENANCE = (
    "version",
    "effective_from",
    "effective_to",
    "legal_basis",
    "source_title",
    "source_url",
    "confidence",
    "notes",
)
PACK_FIELDS = (
    "name",
    "description",
    "verified_on",
    "reviewed_until",
    "source_title",
    "source_url",
    "holiday_country",
    "weekend_days",
    "department_table",
    "authority_table",
    "authority_outcome",
    "anchor_event",
)
EVENT_TYPE_FIELDS = ("code", "label", "description")
TABLE_FIELDS = ("key", "label", "description")
ROW_FIELDS = ("key", "value", "label", "confidence", "notes")
MILESTONE_FIELDS = ("key", "label", "from_deadline", "fallback_event", "fallback_choice")
DEADLINE_FIELDS = ("key", "label", "description", "version_by")
DEADLINE_VERSION_FIELDS = (
    "trigger_event",
    "trigger_milestone",
    "trigger_outcome",
    "trigger_choice",
    "trigger_occurrence",
    "offset",
    "unit",
    "calendar",
    "non_working_day_policy",
    "completed_by",
    "completion_on_or_after_trigger",
    "suspended_by",
    "suspension_window_deadline",
    "resumed_by",
    "resumption",
    "extension",
    "extension_basis",
    "extension_confidence",
    "description",
)
HOLIDAY_DAY_FIELDS = ("subdivision", "date", "action", "name")
OUTCOME_FIELDS = ("key", "label", "shape")
OUTCOME_RULE_FIELDS = ("name", "priority", "when", "result", "since", "reason")
WARNING_FIELDS = ("code", "message", "when")


def _value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _record(obj: models.Model, names: tuple[str, ...]) -> dict[str, Any]:
    data = {name: _value(getattr(obj, name)) for name in names}
    for name in getattr(obj, "json_fields", ()):
        if name in data:
            # Invalid JSON is left as text: the validator then names the field.
            with contextlib.suppress(ValueError):
                data[name] = json.loads(data[name] or "null")
    return data


def _json_text(data: dict[str, Any], *names: str) -> dict[str, Any]:
    """Store JSON values as text, exactly as written (key order kept)."""
    return {k: (json.dumps(v, ensure_ascii=False) if k in names else v) for k, v in data.items()}


def event_type_dict(e: EventType) -> dict[str, Any]:
    return {
        "code": e.code,
        "label": e.label,
        "outcomes": e.outcome_list,
        "description": e.description,
        "not_before": e.not_before_list,
    }


def lookup_version_dict(
    v: LookupTableVersion, rows: list[LookupRow] | None = None
) -> dict[str, Any]:
    rows = list(v.rows.all()) if rows is None else rows
    return {**_record(v, PROVENANCE), "rows": [_record(row, ROW_FIELDS) for row in rows]}


def deadline_version_dict(v: DeadlineRuleVersion) -> dict[str, Any]:
    return {
        **_record(v, PROVENANCE),
        **_record(v, DEADLINE_VERSION_FIELDS),
        "departments": v.department_list,
    }


def _deadline_version_values(data: dict[str, Any]) -> dict[str, Any]:
    """A deadline rule version's model fields from its pack file dict."""
    values = _fields(data, PROVENANCE + DEADLINE_VERSION_FIELDS)
    values["departments"] = ", ".join(data.get("departments") or [])
    return values


def holiday_adjustment_dict(
    v: HolidayAdjustmentVersion, days: list[HolidayAdjustmentDay] | None = None
) -> dict[str, Any]:
    days = list(v.days.all()) if days is None else days
    return {**_record(v, PROVENANCE), "days": [_record(d, HOLIDAY_DAY_FIELDS) for d in days]}


def alert_dict(a: AlertPolicy) -> dict[str, Any]:
    lead_days: list[Any] = []
    for part in AlertPolicy.split(a.lead_days):
        lead_days.append(int(part) if part.isascii() and part.isdigit() else part)
    return {
        "audience": a.audience,
        "channels": AlertPolicy.split(a.channels),
        "lead_days": lead_days,
        "overdue": a.overdue,
        "after_working_days": a.after_working_days,
    }


def outcome_rule_dict(r: OutcomeRule) -> dict[str, Any]:
    return {**_record(r, OUTCOME_RULE_FIELDS), **_record(r, PROVENANCE)}


def pack_dict(version: PackVersion) -> dict[str, Any]:
    """The pack file content of a pack version, read from the database (a few queries)."""
    stored = (
        PackVersion.objects.select_related("pack")
        .prefetch_related(
            "event_types",
            Prefetch(
                "lookup_tables",
                queryset=LookupTable.objects.prefetch_related(
                    Prefetch(
                        "versions", queryset=LookupTableVersion.objects.prefetch_related("rows")
                    )
                ),
            ),
            "milestones",
            Prefetch(
                "deadline_rules",
                queryset=DeadlineRule.objects.prefetch_related("versions", "alerts"),
            ),
            Prefetch("outcomes", queryset=Outcome.objects.prefetch_related("rules")),
            "warnings",
            "translations",
            Prefetch(
                "holiday_adjustments",
                queryset=HolidayAdjustmentVersion.objects.prefetch_related("days"),
            ),
        )
        .get(pk=version.pk)
    )
    version = stored
    return {
        "format": FORMAT,
        "key": version.pack.key,
        "version": version.number,
        **_record(version, PACK_FIELDS),
        "notes": [line.strip() for line in version.notes.splitlines() if line.strip()],
        "event_types": [event_type_dict(e) for e in version.event_types.all()],
        "lookup_tables": [
            {
                **_record(t, TABLE_FIELDS),
                "versions": [lookup_version_dict(v) for v in t.versions.all()],
            }
            for t in version.lookup_tables.all()
        ],
        "milestones": [
            {**_record(m, MILESTONE_FIELDS), **_record(m, PROVENANCE)}
            for m in version.milestones.all()
        ],
        "deadline_rules": [
            {
                **_record(d, DEADLINE_FIELDS),
                "versions": [deadline_version_dict(v) for v in d.versions.all()],
                "alerts": [alert_dict(a) for a in d.alerts.all()],
            }
            for d in version.deadline_rules.all()
        ],
        "outcomes": [
            {**_record(o, OUTCOME_FIELDS), "rules": [outcome_rule_dict(r) for r in o.rules.all()]}
            for o in version.outcomes.all()
        ],
        "warnings": [
            {**_record(w, WARNING_FIELDS), **_record(w, PROVENANCE)} for w in version.warnings.all()
        ],
        "holiday_adjustments": [
            holiday_adjustment_dict(v) for v in version.holiday_adjustments.all()
        ],
        **translations_dict(version.translations.all()),
    }


def translations_dict(rows: Any) -> dict[str, Any]:
    """{"translations": {language: {source: text}}}, or nothing when there are none."""
    tables: dict[str, dict[str, str]] = {}
    for row in rows:
        tables.setdefault(row.language, {})[row.source] = row.text
    return {"translations": tables} if tables else {}


def definition(version: PackVersion) -> PackDefinition:
    """The validated definition of a pack version (PackError when its records are invalid)."""
    return parse_pack(pack_dict(version))


def _fields(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: data[name] for name in names if name in data}


@loading_reason
@transaction.atomic
def load_pack(
    data: Any, *, status: str = PackVersion.Status.PUBLISHED, number: int | None = None
) -> PackVersion:
    """Validate a pack file's content and store it as a new pack version."""
    parsed = parse_pack(data)  # raises PackError naming every bad field
    pack, _ = RulePack.objects.get_or_create(key=parsed.key, defaults={"name": parsed.name})
    number = number or parsed.version
    if PackVersion.objects.filter(pack=pack, number=number).exists():
        raise PackError([("version", f"{parsed.key} version {number} already exists")])
    if (
        status == PackVersion.Status.PUBLISHED
        and PackVersion.objects.filter(pack=pack, status=PackVersion.Status.PUBLISHED).exists()
    ):
        # Loading publishes only a pack's first version; later ones go through the
        # workbench's four-eyes publishing (rules/workbench.publish).
        raise PackError(
            [("version", f"{parsed.key} already has a published version: load this one as a draft")]
        )
    # Records are written into a draft (published versions are read-only), published at the end.
    version = PackVersion.objects.create(
        pack=pack,
        number=number,
        status=PackVersion.Status.DRAFT,
        notes="\n".join(parsed.notes),
        **{name: data.get(name) for name in PACK_FIELDS if name in data},
    )
    for i, item in enumerate(data.get("event_types") or []):
        EventType.objects.create(
            pack_version=version,
            position=i,
            outcomes=", ".join(item.get("outcomes") or []),
            not_before=", ".join(item.get("not_before") or []),
            **_fields(item, EVENT_TYPE_FIELDS),
        )
    for i, item in enumerate(data.get("lookup_tables") or []):
        table = LookupTable.objects.create(
            pack_version=version, position=i, **_fields(item, TABLE_FIELDS)
        )
        for table_version in item.get("versions") or []:
            stored = LookupTableVersion.objects.create(
                table=table, **_fields(table_version, PROVENANCE)
            )
            bulk_create_with_history(
                [
                    LookupRow(table_version=stored, position=k, **_fields(row, ROW_FIELDS))
                    for k, row in enumerate(table_version.get("rows") or [])
                ],
                LookupRow,
                default_change_reason=current_reason(),
                default_user=current_user(),
            )
    for i, item in enumerate(data.get("milestones") or []):
        Milestone.objects.create(
            pack_version=version, position=i, **_fields(item, MILESTONE_FIELDS + PROVENANCE)
        )
    for i, item in enumerate(data.get("deadline_rules") or []):
        rule = DeadlineRule.objects.create(
            pack_version=version, position=i, **_fields(item, DEADLINE_FIELDS)
        )
        for rule_version in item.get("versions") or []:
            DeadlineRuleVersion.objects.create(rule=rule, **_deadline_version_values(rule_version))
        for k, alert in enumerate(item.get("alerts") or []):
            AlertPolicy.objects.create(
                rule=rule,
                position=k,
                audience=alert["audience"],
                channels=", ".join(alert["channels"]),
                lead_days=", ".join(str(d) for d in alert.get("lead_days") or []),
                overdue=bool(alert.get("overdue")),
                after_working_days=alert.get("after_working_days") or 0,
            )
    for i, item in enumerate(data.get("outcomes") or []):
        outcome = Outcome.objects.create(
            pack_version=version, position=i, **_fields(item, OUTCOME_FIELDS)
        )
        for k, rule_data in enumerate(item.get("rules") or []):
            OutcomeRule.objects.create(
                outcome=outcome,
                position=k,
                **_json_text(
                    _fields(rule_data, OUTCOME_RULE_FIELDS + PROVENANCE), "when", "result"
                ),
            )
    for i, item in enumerate(data.get("warnings") or []):
        WarningRule.objects.create(
            pack_version=version,
            position=i,
            **_json_text(_fields(item, WARNING_FIELDS + PROVENANCE), "when"),
        )
    for item in data.get("holiday_adjustments") or []:
        adjustment = HolidayAdjustmentVersion.objects.create(
            pack_version=version, **_fields(item, PROVENANCE)
        )
        HolidayAdjustmentDay.objects.bulk_create(
            [
                HolidayAdjustmentDay(
                    adjustment=adjustment, position=k, **_fields(day, HOLIDAY_DAY_FIELDS)
                )
                for k, day in enumerate(item.get("days") or [])
            ]
        )
    position = 0
    for language, table in (data.get("translations") or {}).items():
        for source, text in table.items():
            PackTranslation.objects.create(
                pack_version=version,
                position=position,
                language=language,
                source=source,
                text=text,
            )
            position += 1
    # Read back through the same path the engine uses: what was stored must be what was read.
    if parse_pack(pack_dict(version)) != dataclasses.replace(parsed, version=number):
        raise PackError([("", "the stored pack differs from the file (a bug: please report it)")])
    if status != PackVersion.Status.DRAFT:
        from django.utils import timezone

        version.status = status
        version.published_at = timezone.now() if status == PackVersion.Status.PUBLISHED else None
        version._change_reason = f"loaded from pack file, version {number}"  # type: ignore[attr-defined]
        version.save(update_fields=["status", "published_at"])
    return version


@transaction.atomic
def copy_as_draft(version: PackVersion) -> PackVersion:
    """Start a new draft version with the same content as `version`."""
    data = pack_dict(version)
    latest = PackVersion.objects.filter(pack=version.pack).order_by("-number").first()
    number = (latest.number if latest else 0) + 1
    data["version"] = number
    with recorded_as(f"copied from version {version.number} as a draft"):
        return load_pack(data, status=PackVersion.Status.DRAFT, number=number)


def bump_revision(pack_version_id: int | None) -> None:
    """Mark a pack version's content as changed, so every process recompiles it."""
    if pack_version_id:
        PackVersion.objects.filter(pk=pack_version_id).update(revision=uuid.uuid4().hex)
        from .services import forget_published  # services imports this module

        forget_published()


# --- admin validation -----------------------------------------------------------------------


def _place(instance: models.Model, data: dict[str, Any]) -> str | None:
    """Put the instance's (unsaved) values into its pack's dict; return the path it sits at."""

    def put(items: list[dict[str, Any]], match: Any, value: dict[str, Any]) -> int:
        for index, item in enumerate(items):
            if match(item):
                items[index] = value
                return index
        items.append(value)
        return len(items) - 1

    def original(model: type[models.Model]) -> models.Model | None:
        return model._default_manager.filter(pk=instance.pk).first() if instance.pk else None

    if isinstance(instance, PackVersion):
        data.update(_record(instance, PACK_FIELDS))
        data["notes"] = [line.strip() for line in instance.notes.splitlines() if line.strip()]
        return ""
    if isinstance(instance, EventType):
        old = original(EventType)
        code = old.code if isinstance(old, EventType) else None
        i = put(data["event_types"], lambda e: e["code"] == code, event_type_dict(instance))
        return f"event_types[{i}]"
    if isinstance(instance, LookupTable):
        old = original(LookupTable)
        key = old.key if isinstance(old, LookupTable) else None
        versions: list[dict[str, Any]] = next(
            (t["versions"] for t in data["lookup_tables"] if t["key"] == key), []
        )
        i = put(
            data["lookup_tables"],
            lambda t: t["key"] == key,
            {**_record(instance, TABLE_FIELDS), "versions": versions},
        )
        return f"lookup_tables[{i}]"
    if isinstance(instance, LookupTableVersion | LookupRow):
        table_version = (
            instance if isinstance(instance, LookupTableVersion) else (instance.table_version)
        )
        table = table_version.table
        t = next(i for i, item in enumerate(data["lookup_tables"]) if item["key"] == table.key)
        versions = data["lookup_tables"][t]["versions"]
        old_v = LookupTableVersion.objects.filter(pk=table_version.pk).first()
        number = old_v.version if old_v else None
        rows: list[dict[str, Any]] = next(
            (v["rows"] for v in versions if v["version"] == number), []
        )
        if isinstance(instance, LookupTableVersion):
            v = put(
                versions,
                lambda item: item["version"] == number,
                {**_record(instance, PROVENANCE), "rows": rows},
            )
            return f"lookup_tables[{t}].versions[{v}]"
        v = next(i for i, item in enumerate(versions) if item["version"] == number)
        old_row = original(LookupRow)
        row_key = old_row.key if isinstance(old_row, LookupRow) else None
        r = put(
            versions[v]["rows"], lambda row: row["key"] == row_key, _record(instance, ROW_FIELDS)
        )
        return f"lookup_tables[{t}].versions[{v}].rows[{r}]"
    if isinstance(instance, Milestone):
        old = original(Milestone)
        ident = (old.key, old.version) if isinstance(old, Milestone) else None
        i = put(
            data["milestones"],
            lambda m: (m["key"], m["version"]) == ident,
            {**_record(instance, MILESTONE_FIELDS), **_record(instance, PROVENANCE)},
        )
        return f"milestones[{i}]"
    if isinstance(instance, DeadlineRule):
        old = original(DeadlineRule)
        key = old.key if isinstance(old, DeadlineRule) else None
        existing: dict[str, Any] = next((d for d in data["deadline_rules"] if d["key"] == key), {})
        i = put(
            data["deadline_rules"],
            lambda d: d["key"] == key,
            {
                **_record(instance, DEADLINE_FIELDS),
                "versions": existing.get("versions", []),
                "alerts": existing.get("alerts", []),
            },
        )
        return f"deadline_rules[{i}]"
    if isinstance(instance, AlertPolicy):
        rule = instance.rule
        d = next(i for i, item in enumerate(data["deadline_rules"]) if item["key"] == rule.key)
        alerts = data["deadline_rules"][d].setdefault("alerts", [])
        ids = list(AlertPolicy.objects.filter(rule=rule).values_list("pk", flat=True))
        if instance.pk in ids:
            a = ids.index(instance.pk)
            alerts[a] = alert_dict(instance)
        else:
            alerts.append(alert_dict(instance))
            a = len(alerts) - 1
        return f"deadline_rules[{d}].alerts[{a}]"
    if isinstance(instance, DeadlineRuleVersion):
        rule = instance.rule
        d = next(i for i, item in enumerate(data["deadline_rules"]) if item["key"] == rule.key)
        old = original(DeadlineRuleVersion)
        number = old.version if isinstance(old, DeadlineRuleVersion) else None
        v = put(
            data["deadline_rules"][d]["versions"],
            lambda item: item["version"] == number,
            deadline_version_dict(instance),
        )
        return f"deadline_rules[{d}].versions[{v}]"
    if isinstance(instance, Outcome):
        old = original(Outcome)
        key = old.key if isinstance(old, Outcome) else None
        rules: list[dict[str, Any]] = next(
            (o["rules"] for o in data["outcomes"] if o["key"] == key), []
        )
        i = put(
            data["outcomes"],
            lambda o: o["key"] == key,
            {**_record(instance, OUTCOME_FIELDS), "rules": rules},
        )
        return f"outcomes[{i}]"
    if isinstance(instance, OutcomeRule):
        outcome = instance.outcome
        o = next(i for i, item in enumerate(data["outcomes"]) if item["key"] == outcome.key)
        old = original(OutcomeRule)
        ident = (old.name, old.version) if isinstance(old, OutcomeRule) else None
        r = put(
            data["outcomes"][o]["rules"],
            lambda item: (item["name"], item["version"]) == ident,
            outcome_rule_dict(instance),
        )
        return f"outcomes[{o}].rules[{r}]"
    if isinstance(instance, HolidayAdjustmentVersion | HolidayAdjustmentDay):
        adjustment = (
            instance if isinstance(instance, HolidayAdjustmentVersion) else instance.adjustment
        )
        adjustments = data.setdefault("holiday_adjustments", [])
        old_a = HolidayAdjustmentVersion.objects.filter(pk=adjustment.pk).first()
        number = old_a.version if old_a else None
        if isinstance(instance, HolidayAdjustmentVersion):
            days: list[dict[str, Any]] = next(
                (a["days"] for a in adjustments if a["version"] == number), []
            )
            a = put(
                adjustments,
                lambda item: item["version"] == number,
                {**_record(instance, PROVENANCE), "days": days},
            )
            return f"holiday_adjustments[{a}]"
        a = next(i for i, item in enumerate(adjustments) if item["version"] == number)
        ids = list(
            HolidayAdjustmentDay.objects.filter(adjustment=adjustment).values_list("pk", flat=True)
        )
        day_list = adjustments[a]["days"]
        if instance.pk in ids:
            k = ids.index(instance.pk)
            day_list[k] = _record(instance, HOLIDAY_DAY_FIELDS)
        else:
            day_list.append(_record(instance, HOLIDAY_DAY_FIELDS))
            k = len(day_list) - 1
        return f"holiday_adjustments[{a}].days[{k}]"
    if isinstance(instance, PackTranslation):
        translations = [
            instance if row.pk == instance.pk else row
            for row in PackTranslation.objects.filter(pack_version=instance.pack_version_id)
        ]
        if instance.pk is None:
            translations.append(instance)
        data.pop("translations", None)
        data.update(translations_dict(translations))
        return f"translations.{instance.language}[{instance.source!r}]"
    if isinstance(instance, WarningRule):
        old = original(WarningRule)
        ident = (old.code, old.version) if isinstance(old, WarningRule) else None
        i = put(
            data["warnings"],
            lambda w: (w["code"], w["version"]) == ident,
            {**_record(instance, WARNING_FIELDS), **_record(instance, PROVENANCE)},
        )
        return f"warnings[{i}]"
    return None


def _pack_version_of(instance: models.Model) -> PackVersion | None:
    try:
        if isinstance(instance, PackVersion):
            return instance if instance.pk else None
        if isinstance(instance, LookupTableVersion):
            return instance.table.pack_version
        if isinstance(instance, LookupRow):
            return instance.table_version.table.pack_version
        if isinstance(instance, DeadlineRuleVersion | AlertPolicy):
            return instance.rule.pack_version
        if isinstance(instance, OutcomeRule):
            return instance.outcome.pack_version
        if isinstance(instance, HolidayAdjustmentDay):
            return instance.adjustment.pack_version
        return instance.pack_version  # type: ignore[attr-defined,no-any-return]
    except models.ObjectDoesNotExist:
        return None


def _errors(data: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        parse_pack(data)
    except PackError as error:
        return error.errors
    return []


def validate_record(instance: models.Model) -> None:
    """Raise ValidationError naming the instance's bad fields, judged within its whole pack."""
    version = _pack_version_of(instance)
    if version is None:
        return  # a new pack version, or a record whose parent is not saved yet
    data = pack_dict(version)
    before = set(_errors(data))
    try:
        path = _place(instance, data)
    except StopIteration:  # its parent is new or renamed in the same form: judged on save
        return
    if path is None:
        return
    field_errors: dict[str, list[str]] = {}
    general: list[str] = []
    model_fields = {f.name for f in instance._meta.get_fields()}
    for error_path, message in _errors(data):
        if error_path.startswith(path + ".") or (
            path == "" and "[" not in error_path.split(".")[0]
        ):
            rest = error_path[len(path) + 1 :] if path else error_path
            name = rest.split(".")[0].split("[")[0]
            if name in model_fields:
                field_errors.setdefault(name, []).append(
                    message if rest == name else f"{rest}: {message}"
                )
                continue
            general.append(f"{rest}: {message}")
        elif error_path == path:
            general.append(message)
        elif (error_path, message) not in before:
            # The change breaks something elsewhere in the pack (e.g. a reference to this record).
            general.append(f"{error_path}: {message}")
    if field_errors or general:
        payload: dict[str, Any] = dict(field_errors)
        if general:
            payload["__all__"] = general
        raise ValidationError(payload)


def _pop(data: dict[str, Any], path: str) -> None:
    """Remove the list item at a path such as deadline_rules[3].versions[1] (if it is one)."""
    parts = path.split(".")
    node: Any = data
    for part in parts[:-1]:
        name, _, index = part.partition("[")
        node = node[name][int(index.rstrip("]"))] if index else node[name]
    name, _, index = parts[-1].partition("[")
    if index:
        node[name].pop(int(index.rstrip("]")))


def judge_save(
    parent: models.Model | None, rows: list[tuple[models.Model, bool]]
) -> tuple[list[tuple[int, str, str]], list[str]]:
    """Judge a parent record and its inline rows as one save, within the whole pack.

    `rows` pairs each inline instance (with the values typed) with whether it is being deleted.
    Return the errors of each row (index, field, message) and the others as sentences; errors
    the saved pack already had are left out.
    """
    anchor = parent if parent is not None else (rows[0][0] if rows else None)
    version = _pack_version_of(anchor) if anchor is not None else None
    if version is None or version.pk is None:
        return [], []
    data = pack_dict(version)
    before = set(_errors(data))
    try:
        if parent is not None and parent.pk is not None:
            _place(parent, data)
        # Deleted rows leave first, so that the paths of the others stay right.
        for instance, deleted in rows:
            if deleted and instance.pk is not None:
                path = _place(instance, data)
                if path and path.endswith("]"):
                    _pop(data, path)
        paths: list[str | None] = [
            None if deleted else _place(instance, data) for instance, deleted in rows
        ]
    except StopIteration:  # a parent that is new or renamed in this save: judged after saving
        return [], []
    row_errors: list[tuple[int, str, str]] = []
    general: list[str] = []
    for error_path, message in _errors(data):
        if (error_path, message) in before:
            continue
        for index, path in sorted(
            enumerate(paths), key=lambda item: -len(item[1] or "")
        ):  # the longest (most precise) path first
            if path and (error_path == path or error_path.startswith(path + ".")):
                rest = error_path[len(path) + 1 :]
                row_errors.append((index, rest.split(".")[0].split("[")[0], message))
                break
        else:
            general.append(f"{error_path}: {message}" if error_path else message)
    return row_errors, general
