"""Checking a whole pack: references, overlaps, cycles, calendars, conditions, engine limits.

Each problem names the offending field with a path such as `deadline_rules[2].versions[0].offset`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from . import conditions
from .calendars import CalendarError, get_calendar
from .definition import (
    CONFIDENCES,
    KEY_PATTERN,
    MAX_RULES_PER_FACT,
    NATIONAL,
    DeadlineRuleVersion,
    PackDefinition,
    Provenance,
)


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
    if pack.anchor_event and pack.anchor_event not in codes:
        add(("anchor_event", f"no event type {pack.anchor_event!r}"))
    _check_holiday_adjustments(errors, pack)

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
                if row.confidence and row.confidence not in CONFIDENCES:
                    add(
                        (
                            f"lookup_tables[{i}].versions[{j}].rows[{k}].confidence",
                            f"expected one of {', '.join(CONFIDENCES)} (empty: the version's)",
                        )
                    )
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

        _check_versions(errors, path, rule.versions, overlap_key, by_department=True)
        if rule.version_by == "anchor" and not pack.anchor_event:
            add((f"{path}.version_by", "the pack names no anchor_event"))
        departments = _all_keys(pack, pack.department_table)
        for j, v in enumerate(rule.versions):
            vpath = f"{path}.versions[{j}]"
            for k, department in enumerate(v.departments):
                if department not in departments:
                    add(
                        (
                            f"{vpath}.departments[{k}]",
                            f"{department!r} is not in table {pack.department_table!r}",
                        )
                    )
            if v.extension == "possible":
                if v.non_working_day_policy != "flag":
                    add(
                        (
                            f"{vpath}.extension",
                            "only a flagged date may be extended: set non_working_day_policy "
                            "to flag",
                        )
                    )
                if not v.extension_basis.strip():
                    add((f"{vpath}.extension_basis", "required when the extension is possible"))
                if not v.extension_confidence:
                    add(
                        (
                            f"{vpath}.extension_confidence",
                            "required when the extension is possible (certain, likely or unsure)",
                        )
                    )
            else:
                for name in ("extension_basis", "extension_confidence"):
                    if getattr(v, name):
                        add((f"{vpath}.{name}", "only with extension: possible"))
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
                if not isinstance(outcome_rule.result, str) or not KEY_PATTERN.match(
                    outcome_rule.result
                ):
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

    _check_translated_labels(errors, pack)
    _check_engine_limits(errors, pack)
    return errors


# A label holds at most this many characters (pack files: pack_file.py; records: the models'
# label fields); its translations too, as a deadline's label is stored in the site's language
# beside the case (cases.Deadline.label).
LABEL_LENGTH = 200


def _check_translated_labels(errors: list[tuple[str, str]], pack: PackDefinition) -> None:
    labels = {
        item.label
        for items in (pack.event_types, pack.milestones, pack.deadline_rules, pack.outcomes)
        for item in items
    }
    for language, table in sorted(pack.translations.items()):
        for source, text in table.items():
            if source in labels and len(text) > LABEL_LENGTH:
                errors.append(
                    (
                        f"translations.{language}[{source!r}]",
                        f"a label's translation holds at most {LABEL_LENGTH} characters, like "
                        f"the label ({len(text)} here)",
                    )
                )


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
        return conditions.condition_aliases(
            list(when), event_types=event_codes, settings=pack.settings, path=path
        )
    except conditions.ConditionError as error:
        errors.append((error.path, error.message))
        return None


def _check_holiday_adjustments(errors: list[tuple[str, str]], pack: PackDefinition) -> None:
    _check_versions(errors, "holiday_adjustments", pack.holiday_adjustments, lambda v: ())
    for i, version in enumerate(pack.holiday_adjustments):
        seen: dict[tuple[str, str], int] = {}
        for k, day in enumerate(version.days):
            path = f"holiday_adjustments[{i}].days[{k}]"
            if day.subdivision != NATIONAL:
                try:
                    calendar = get_calendar(pack.holiday_country, day.subdivision)
                except CalendarError as error:
                    errors.append((f"{path}.subdivision", f"{error}; or {NATIONAL!r}"))
                else:
                    if calendar.subdivision != day.subdivision:
                        errors.append(
                            (f"{path}.subdivision", f"an alias: use {calendar.subdivision!r}")
                        )
            what = day.date or f"the holiday named {day.name!r}"
            if (day.subdivision, what) in seen:
                errors.append(
                    (
                        f"{path}.date",
                        f"{what} of {day.subdivision} is already adjusted by "
                        f"days[{seen[(day.subdivision, what)]}]",
                    )
                )
            seen[(day.subdivision, what)] = k
            if not day.date and day.action == "remove" and day.name:
                _check_package_name(errors, f"{path}.name", pack, day.subdivision, day.name)
            try:
                one_day = dt.date.fromisoformat(day.date) if len(day.date) == 10 else None
            except ValueError:
                continue  # the file reader names it
            if one_day is not None and not version.in_force_on(one_day):
                errors.append((f"{path}.date", "outside the dates this version is in force"))


# Years in which a holiday removed by name must appear in the `holidays` package.
_NAME_CHECK_YEARS = range(2015, 2036)


def _check_package_name(
    errors: list[tuple[str, str]], path: str, pack: PackDefinition, subdivision: str, name: str
) -> None:
    try:
        calendar = get_calendar(
            pack.holiday_country, None if subdivision == NATIONAL else subdivision
        )
    except CalendarError:
        return  # the subdivision is reported
    known: set[str] = set()
    for year in _NAME_CHECK_YEARS:
        try:
            days = calendar.holidays_between(dt.date(year, 1, 1), dt.date(year, 12, 31))
        except CalendarError:
            continue
        known.update(part for _, names in days for part in names.split("; "))
    if name not in known:
        errors.append(
            (
                path,
                f"without a date, name a holiday of the holidays package's {calendar.label} "
                f"calendar (in English): one of {', '.join(sorted(known))}",
            )
        )


def _check_versions(
    errors: list[tuple[str, str]],
    path: str,
    versions: Iterable[Provenance],
    overlap_key: Any,
    *,
    by_department: bool = False,
) -> None:
    """Version numbers are unique; versions that apply to the same facts do not overlap in time.

    With `by_department`, versions limited to departments overlap only with versions that share
    one of them (a version with a list wins over one without for its departments).
    """
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
            if lo > hi:
                continue
            if by_department:
                da = set(getattr(va, "departments", ()))
                db = set(getattr(vb, "departments", ()))
                if bool(da) != bool(db):
                    continue
                shared = sorted(da & db)
                if da and not shared:
                    continue
                if shared:
                    errors.append(
                        (
                            f"{path}.versions[{b}].departments",
                            f"version {vb.version} and version {va.version} both apply to "
                            f"department {shared[0]} on {lo.isoformat()}: end one before the "
                            "other starts, or list the department in one only",
                        )
                    )
                    continue
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
        for pattern in conditions.patterns_of(when) or [{"fact": "case"}]:
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
