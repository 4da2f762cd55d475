"""Compile a pack version into a durable_rules ruleset, and evaluate a case against it.

durable_rules decides what fires: which deadline rule version applies to which trigger (event
type, outcome, first/latest, occurrence, effective window), which outcome and warning conditions
hold. The actions that follow are plain Python: counting periods (periods.py) on calendars
(calendars.py), completion, suspension, and the sentences that explain each result.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from . import conditions
from .calendars import Calendar, HolidayChange, get_calendar
from .durable import CompiledRuleset, Match, Session
from .explain import date_formatter, describe_period, format_date, language_of, phrase
from .inputs import CaseFacts, Event
from .pack import (
    NATIONAL,
    DeadlineRule,
    DeadlineRuleVersion,
    EventType,
    LookupRow,
    LookupTableVersion,
    Milestone,
    Outcome,
    OutcomeRule,
    PackDefinition,
    WarningRule,
)
from .periods import Period, apply_non_working_day_policy, count_period
from .reader_texts import code_label

# The engine's own warning (every pack gets it): an event dated after the day of evaluation.
EVENT_IN_FUTURE = "event_in_future"
# The pack setting a warning compares with when it is about the review horizon (§7.5).
HORIZON_SETTING = "reviewed_until"

# How many (lookup table, day) answers a compiled pack keeps (evaluations are mostly of today).
_MAX_DAYS_KEPT = 4096

_compile_lock = threading.Lock()
_compile_counter = 0


@dataclass
class CompiledPack:
    """A pack version ready to evaluate: its definition, ruleset and indexes."""

    definition: PackDefinition
    ruleset: CompiledRuleset
    deadlines: dict[str, tuple[DeadlineRule, DeadlineRuleVersion]]
    outcome_rules: dict[str, tuple[Outcome, OutcomeRule, dict[str, str]]]
    warning_rules: dict[str, tuple[WarningRule, dict[str, str]]]
    order: list[str]
    # Per deadline key: the milestones it waits for, and the deadlines it needs first.
    waits: dict[str, tuple[frozenset[str], frozenset[str]]]
    national: Calendar
    rules_compiled: int = 0
    # Whether a condition looks at computed deadlines (then they are asserted as facts).
    deadline_facts: bool = False
    # The names of the warning rules that compare with the review horizon.
    horizon_rules: frozenset[str] = frozenset()
    # Event types by code, in the pack's order.
    event_types: dict[str, EventType] = field(default_factory=dict)
    # What a reason's or a message's {pack.…} placeholders read.
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Filled as evaluations ask (never stale: a new pack revision is compiled anew).
    _tables_on: dict[tuple[str, dt.date], LookupTableVersion | None] = field(default_factory=dict)
    _departments: dict[int, dict[str, str | None]] = field(default_factory=dict)
    _department_codes: dict[int, frozenset[str]] = field(default_factory=dict)
    _authorities: dict[int, dict[str, LookupRow]] = field(default_factory=dict)
    _calendars: dict[str | None, Calendar] = field(default_factory=dict)
    _code_labels: dict[str, dict[str, str]] = field(default_factory=dict)

    def calendar(self, subdivision: str | None) -> Calendar:
        """The calendar of a `holidays` subdivision (None: national) with the pack's adjustments."""
        calendar = self._calendars.get(subdivision)
        if calendar is None:
            pack = self.definition
            base = get_calendar(pack.holiday_country, subdivision, pack.weekend_days)
            changes = holiday_changes(pack, base.subdivision)
            calendar = (
                get_calendar(pack.holiday_country, base.subdivision, pack.weekend_days, changes)
                if changes
                else base
            )
            self._calendars[subdivision] = calendar
        return calendar

    def table_in_force(self, key: str, day: dt.date) -> LookupTableVersion | None:
        try:
            return self._tables_on[key, day]
        except KeyError:
            pass
        table = self.definition.lookup_table(key)
        found = table.in_force_on(day) if table else None
        if len(self._tables_on) >= _MAX_DAYS_KEPT:  # many days of evaluation: start again
            self._tables_on.clear()
        self._tables_on[key, day] = found
        return found

    def departments_on(self, day: dt.date) -> dict[str, str | None]:
        """Department code -> holidays subdivision (None: national calendar), in force on day."""
        version = self.table_in_force(self.definition.department_table, day)
        if version is None:
            return {}
        cached = self._departments.get(id(version))
        if cached is None:
            cached = {row.key: (row.value or None) for row in version.rows}
            self._departments[id(version)] = cached
        return cached

    def department_codes_on(self, day: dt.date) -> frozenset[str]:
        """The department codes a case may give on day (those of departments_on)."""
        version = self.table_in_force(self.definition.department_table, day)
        if version is None:
            return frozenset()
        codes = self._department_codes.get(id(version))
        if codes is None:
            codes = self._department_codes[id(version)] = frozenset(self.departments_on(day))
        return codes

    def authority_on(
        self, day: dt.date, department: str
    ) -> tuple[LookupTableVersion, LookupRow] | None:
        """The authority table's version in force on day, and its (first) row for department."""
        version = self.table_in_force(self.definition.authority_table, day)
        if version is None:
            return None
        rows = self._authorities.get(id(version))
        if rows is None:
            rows = {}
            for row in version.rows:
                rows.setdefault(row.key, row)
            self._authorities[id(version)] = rows
        found = rows.get(department)
        return (version, found) if found is not None else None

    def code_label(self, code: str, language: str) -> str:
        """The words for a code in a language (reader_texts.code_label), looked up once."""
        labels = self._code_labels.get(language)
        if labels is None:
            labels = self._code_labels.setdefault(language, {})
        label = labels.get(code)
        if label is None:
            label = labels[code] = code_label(self.definition.translations, code, language)
        return label


def holiday_changes(pack: PackDefinition, subdivision: str | None) -> tuple[HolidayChange, ...]:
    """The pack's holiday adjustments that apply to a calendar: national ones, then its own."""
    found: list[tuple[int, HolidayChange]] = []
    for version in pack.holiday_adjustments:
        for adjustment in version.days:
            if adjustment.subdivision == NATIONAL:
                rank = 0
            elif adjustment.subdivision == subdivision:
                rank = 1
            else:
                continue
            day = month_day = package_name = None
            if not adjustment.date:
                package_name = adjustment.name
            elif len(adjustment.date) == 10:
                day = dt.date.fromisoformat(adjustment.date)
            else:
                month, _, day_of_month = adjustment.date.partition("-")
                month_day = (int(month), int(day_of_month))
            names = tuple(
                (language, table[adjustment.name])
                for language, table in sorted(pack.translations.items())
                if adjustment.name in table
            )
            change = HolidayChange(
                add=adjustment.action == "add",
                name=adjustment.name,
                day=day,
                month_day=month_day,
                valid_from=version.effective_from,
                valid_to=version.effective_to,
                names=names,
                package_name=package_name,
            )
            found.append((rank, change))
    found.sort(key=lambda pair: pair[0])  # stable: a calendar's own changes come last and win
    return tuple(change for _, change in found)


def versions_by_anchor(pack: PackDefinition, rule: DeadlineRule) -> bool:
    """Whether the rule's version is chosen by the anchor event's date (else its trigger's)."""
    if rule.version_by == "anchor":
        return True
    return rule.version_by == "pack" and bool(pack.anchor_event)


def _deadline_pattern(version: DeadlineRuleVersion, *, dated: bool = True) -> list[dict[str, Any]]:
    if version.trigger_milestone:
        terms: list[Any] = [{"t": "milestone"}, {"key": version.trigger_milestone}]
    else:
        terms = [{"t": "event"}, {"type": version.trigger_event}]
        suffix = ""
        if version.trigger_outcome:
            terms.append({"outcome": version.trigger_outcome})
            suffix = "_of_outcome"
        terms.append({version.trigger_choice + suffix: True})
        if version.trigger_occurrence == "first":
            terms.append({"occurrence": 1})
        elif version.trigger_occurrence == "subsequent":
            terms.append({"$gt": {"occurrence": 1}})
    # Chosen by the anchor's date instead: every version matches, evaluate() keeps the one in force.
    if dated and version.effective_from:
        terms.append({"$gte": {"date": version.effective_from.isoformat()}})
    if dated and version.effective_to:
        terms.append({"$lte": {"date": version.effective_to.isoformat()}})
    return [{"m": {"$and": terms}}]


def compile_pack(pack: PackDefinition, *, name: str | None = None) -> CompiledPack:
    """Compile a validated pack; each call registers a new durable_rules ruleset."""
    global _compile_counter
    event_codes = [e.code for e in pack.event_types]
    rules: dict[str, dict[str, Any]] = {}
    deadlines: dict[str, tuple[DeadlineRule, DeadlineRuleVersion]] = {}
    for rule in pack.deadline_rules:
        dated = not versions_by_anchor(pack, rule)
        for version in rule.versions:
            rule_name = f"d:{rule.key}:{version.version}"
            rules[rule_name] = {"all": _deadline_pattern(version, dated=dated)}
            deadlines[rule_name] = (rule, version)
    outcome_rules: dict[str, tuple[Outcome, OutcomeRule, dict[str, str]]] = {}
    for outcome in pack.outcomes:
        for outcome_rule in outcome.rules:
            branches = conditions.compile_alternatives(
                list(outcome_rule.when), event_types=event_codes, settings=pack.settings
            )
            for n, (patterns, aliases) in enumerate(branches):
                rule_name = f"o:{outcome.key}:{outcome_rule.name}:{outcome_rule.version}"
                rule_name += f":{n}" if n else ""
                rules[rule_name] = {"all": patterns}
                outcome_rules[rule_name] = (outcome, outcome_rule, aliases)
    warning_rules: dict[str, tuple[WarningRule, dict[str, str]]] = {}
    for warning in pack.warnings:
        branches = conditions.compile_alternatives(
            list(warning.when), event_types=event_codes, settings=pack.settings
        )
        for n, (patterns, aliases) in enumerate(branches):
            rule_name = f"w:{warning.code}:{warning.version}" + (f":{n}" if n else "")
            rules[rule_name] = {"all": patterns}
            warning_rules[rule_name] = (warning, aliases)

    with _compile_lock:
        _compile_counter += 1
        ruleset_name = name or f"{pack.key}:v{pack.version}:c{_compile_counter}"
        ruleset = CompiledRuleset(ruleset_name, rules)
    ready = CompiledPack(
        definition=pack,
        ruleset=ruleset,
        deadlines=deadlines,
        outcome_rules=outcome_rules,
        warning_rules=warning_rules,
        order=_evaluation_order(pack),
        waits={
            rule.key: (
                frozenset(v.trigger_milestone for v in rule.versions if v.trigger_milestone),
                frozenset(
                    v.suspension_window_deadline
                    for v in rule.versions
                    if v.suspension_window_deadline
                ),
            )
            for rule in pack.deadline_rules
        },
        national=get_calendar(pack.holiday_country, None, pack.weekend_days),
        rules_compiled=len(rules),
        deadline_facts=any(
            conditions.uses_fact(list(when), "deadline")
            for when in [
                *(rule.when for outcome in pack.outcomes for rule in outcome.rules),
                *(warning.when for warning in pack.warnings),
            ]
        ),
        horizon_rules=frozenset(
            rule_name
            for rule_name, (warning, _) in warning_rules.items()
            if conditions.uses_setting(list(warning.when), HORIZON_SETTING)
        ),
        event_types={event_type.code: event_type for event_type in pack.event_types},
        extra={"pack": {"reviewed_until": pack.settings["reviewed_until"]}},
    )
    ready.national = ready.calendar(None)
    return ready


def _evaluation_order(pack: PackDefinition) -> list[str]:
    """Deadline keys ordered so that a rule comes after those it depends on."""
    milestone_source = {m.key: m.from_deadline for m in pack.milestones}
    deps: dict[str, set[str]] = {}
    for rule in pack.deadline_rules:
        needs: set[str] = set()
        for version in rule.versions:
            if version.suspension_window_deadline:
                needs.add(version.suspension_window_deadline)
            if milestone_source.get(version.trigger_milestone):
                needs.add(milestone_source[version.trigger_milestone])
        deps[rule.key] = needs
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(deps):
        ready = [k for k in deps if k not in done and deps[k] <= done]
        if not ready:  # a cycle: the validator refuses it; never loop forever
            ready = [k for k in deps if k not in done]
        for key in ready:
            order.append(key)
            done.add(key)
    return order


# --- facts ----------------------------------------------------------------------------------


def _event_facts(events: tuple[Event, ...]) -> list[dict[str, Any]]:
    # Positions, not the events themselves, identify an event: two events of the same type,
    # date and outcome are equal dataclasses but distinct occurrences. Linear in the events.
    ordered = sorted(range(len(events)), key=lambda i: (events[i].date, i))
    by_type: dict[str, list[int]] = defaultdict(list)
    by_outcome: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    occurrence: dict[int, int] = {}
    for i in ordered:
        event = events[i]
        by_type[event.type].append(i)
        occurrence[i] = len(by_type[event.type])
        by_outcome[(event.type, event.outcome)].append(i)
    facts = []
    for i in ordered:
        event = events[i]
        same_type = by_type[event.type]
        same_outcome = by_outcome[(event.type, event.outcome)]
        fact: dict[str, Any] = {
            "t": "event",
            "type": event.type,
            "date": event.date.isoformat(),
            "occurrence": occurrence[i],
            "first": same_type[0] == i,
            "latest": same_type[-1] == i,
            "first_of_outcome": same_outcome[0] == i,
            "latest_of_outcome": same_outcome[-1] == i,
        }
        if event.outcome is not None:
            fact["outcome"] = event.outcome
        facts.append(fact)
    return facts


# --- what a case gives, in no language yet ---------------------------------------------------


# A deadline rule version whose trigger matched, and the trigger's fact.
_Candidate = tuple[DeadlineRule, DeadlineRuleVersion, dict[str, Any]]


@dataclass
class _Reached:
    """When a milestone was reached: from a date, or deemed from a deadline's due date."""

    milestone: Milestone
    date: str
    deemed: _Deadline | None = None  # the deadline whose due date it takes (its label says so)


@dataclass
class _Deadline:
    """A computed deadline: its dates and status, and what its texts are written from."""

    rule: DeadlineRule
    version: DeadlineRuleVersion
    due: dt.date | None
    status: str
    trigger: dict[str, Any]  # codes and dates; a milestone's label is added in each language
    trigger_date: dt.date
    calendar: Calendar
    where: tuple[str, dict[str, str]]  # the phrase naming the calendar, and its values
    period: Period
    final: Period | None
    completion: Event | None
    suspension: dict[str, Any] | None
    next_working_day: dt.date | None
    chosen_by: dict[str, Any] | None
    counted_in: str  # the language of the periods' holiday and weekday names

    def periods_in(self, language: str) -> tuple[Period, Period | None]:
        """The counted periods with their holiday and weekday names in `language`."""
        if language == self.counted_in:
            return self.period, self.final
        period = _named(self.period, self.calendar, language)
        if self.final is None:
            return period, None
        if self.final is self.period:
            return period, period
        return period, _named(self.final, self.calendar, language)


def _named(period: Period, calendar: Calendar, language: str) -> Period:
    """The same period with its names in another language.

    Which days are holidays does not depend on the language (only their names do), so the dates
    and whether the due date is worked stay as counted.
    """
    return Period(
        due=period.due,
        unadjusted_due=period.unadjusted_due,
        non_working_day=period.non_working_day,
        non_working_reason=(
            calendar.non_working_reason(period.due, language) if period.non_working_day else None
        ),
        skipped=tuple(
            (day, calendar.holiday_name(day, language) or name) for day, name in period.skipped
        ),
    )


@dataclass
class _OutcomeFound:
    """An outcome's winning rules (none: no rule fired), their matches and `since`."""

    outcome: Outcome
    winners: list[tuple[OutcomeRule, dict[str, Any]]]
    since: str | None = None
    has_since: bool = False


@dataclass
class _WarningFound:
    """A warning that fired: the match its message is written from, and what it concerns."""

    code: str
    warning: WarningRule
    matched: dict[str, Any]
    horizon: bool
    deadlines: list[str]


@dataclass
class _Evaluation:
    """One case's evaluation: everything that does not depend on the reader's language.

    The rules fire once, deadlines and milestones settle once, outcomes and warnings are chosen
    once; `_write` then writes the texts of each language from it.
    """

    compiled: CompiledPack
    case: CaseFacts
    as_of: dt.date
    authority: dict[str, str] | None
    applicant_subdivision: str | None
    events_by_type: dict[str, list[Event]]
    session: Session
    counted_in: str
    # Per deadline key: the versions whose trigger matched, and the trigger's fact.
    matches: dict[str, list[_Candidate]] = field(default_factory=lambda: defaultdict(list))
    deadlines: dict[str, _Deadline | None] = field(default_factory=dict)
    milestone_dates: dict[str, _Reached | None] = field(default_factory=dict)
    fired: list[Match] = field(default_factory=list)
    ordered: list[_Deadline] = field(default_factory=list)
    outcomes: list[_OutcomeFound] = field(default_factory=list)
    warnings: list[_WarningFound] = field(default_factory=list)
    future: list[dt.date] = field(default_factory=list)

    def absorb(self, fired: list[Match]) -> None:
        deadlines = self.compiled.deadlines
        for rule_name, matched in fired:
            self.fired.append((rule_name, matched))
            found = deadlines.get(rule_name)
            if found is not None:
                rule, version = found
                self.matches[rule.key].append((rule, version, matched["m"]))

    def calendar_for(
        self, version: DeadlineRuleVersion
    ) -> tuple[Calendar, tuple[str, dict[str, str]]]:
        if version.calendar == "national":
            return self.compiled.national, ("national", {})
        if version.calendar == "authority" and self.authority is not None:
            department = self.authority["department"]
            subdivision = self.compiled.departments_on(self.as_of).get(department)
            where = (
                "authority_calendar",
                {"name": self.authority["name"], "department": department},
            )
        else:
            department = self.case.department
            subdivision = self.applicant_subdivision
            where = ("department_calendar", {"department": department})
        return self.compiled.calendar(subdivision), where

    def first_on_or_after(self, event_type: str, day: dt.date | None) -> Event | None:
        for event in self.events_by_type.get(event_type, ()):
            if day is None or event.date >= day:
                return event
        return None


def _compute_deadline(ev: _Evaluation, key: str) -> _Deadline | None:
    candidates = ev.matches.get(key)
    if not candidates:
        return None
    pack = ev.compiled.definition
    chosen_by: dict[str, Any] | None = None
    if versions_by_anchor(pack, candidates[0][0]):
        # The version in force on the anchor event's date; without one yet, on the trigger's.
        anchors = ev.events_by_type.get(pack.anchor_event)
        if anchors:
            chosen_by = {"type": pack.anchor_event, "date": anchors[0].date.isoformat()}
            candidates = [c for c in candidates if c[1].in_force_on(anchors[0].date)]
        else:
            candidates = [
                c for c in candidates if c[1].in_force_on(dt.date.fromisoformat(c[2]["date"]))
            ]
    # For the case's department, versions limited to a list naming it win over the others.
    department = ev.case.department
    scoped = [c for c in candidates if department in c[1].departments]
    candidates = scoped or [c for c in candidates if not c[1].departments]
    if not candidates:
        return None
    # Overlapping versions are refused by the validator; if two still match, the newest wins.
    rule, version, fact = max(candidates, key=lambda c: c[1].version)
    trigger_date = dt.date.fromisoformat(fact["date"])
    calendar, where = ev.calendar_for(version)
    language = ev.counted_in
    period = count_period(
        trigger_date,
        version.offset,
        version.unit,
        calendar,
        version.non_working_day_policy,
        language=language,
    )
    due: dt.date | None = period.due
    final_period: Period | None = period

    if version.trigger_milestone:
        trigger = {"type": version.trigger_milestone, "date": fact["date"]}
    else:
        trigger = {"type": version.trigger_event, "date": fact["date"]}
        if fact.get("outcome"):
            trigger["outcome"] = fact["outcome"]

    completion = None
    if version.completed_by:
        completion = ev.first_on_or_after(
            version.completed_by, trigger_date if version.completion_on_or_after_trigger else None
        )

    suspension: dict[str, Any] | None = None
    if version.suspended_by and due is not None:
        start = ev.first_on_or_after(version.suspended_by, trigger_date)
        window_due: dt.date | None = due
        if version.suspension_window_deadline:
            window = ev.deadlines.get(version.suspension_window_deadline)
            window_due = window.due if window else None
        if start is not None and window_due is not None and start.date <= window_due:
            remaining = (period.unadjusted_due - start.date).days
            resumed = ev.first_on_or_after(version.resumed_by, start.date)
            suspension = {
                "suspended_by": {"type": start.type, "date": start.date.isoformat()},
                "remaining_days": remaining,
                "resumed_by": None,
            }
            if resumed is None:
                due, final_period = None, None
            else:
                suspension["resumed_by"] = {"type": resumed.type, "date": resumed.date.isoformat()}
                if version.resumption == "remaining":
                    unadjusted = resumed.date + dt.timedelta(days=remaining)
                    adjusted = apply_non_working_day_policy(
                        unadjusted, calendar, version.non_working_day_policy
                    )
                    reason = calendar.non_working_reason(adjusted, language=language)
                    final_period = Period(adjusted, unadjusted, reason is not None, reason, ())
                else:
                    final_period = count_period(
                        resumed.date,
                        version.offset,
                        version.unit,
                        calendar,
                        version.non_working_day_policy,
                        language=language,
                    )
                due = final_period.due

    # A limit that may be extended: the next working day is shown, the due date never moves.
    next_working_day: dt.date | None = None
    if (
        version.extension == "possible"
        and due is not None
        and final_period is not None
        and final_period.non_working_day
    ):
        next_working_day = apply_non_working_day_policy(due, calendar, "next_working_day")
    if due is None:
        status = "met" if completion is not None else "suspended"
    elif completion is not None:
        if completion.date <= due:
            status = "met"
        elif next_working_day is not None and completion.date <= next_working_day:
            status = "possibly_met"
        else:
            status = "missed"
    elif ev.as_of <= due:
        status = "open"
    elif next_working_day is not None and ev.as_of <= next_working_day:
        status = "possibly_open"
    else:
        status = "missed"
    return _Deadline(
        rule=rule,
        version=version,
        due=due,
        status=status,
        trigger=trigger,
        trigger_date=trigger_date,
        calendar=calendar,
        where=where,
        period=period,
        final=final_period,
        completion=completion,
        suspension=suspension,
        next_working_day=next_working_day,
        chosen_by=chosen_by,
        counted_in=language,
    )


def _milestone_date(ev: _Evaluation, milestone: Milestone) -> _Reached | None:
    if milestone.from_deadline:
        deadline = ev.deadlines.get(milestone.from_deadline)
        if deadline is not None:
            if deadline.status == "met" and deadline.completion is not None:
                return _Reached(milestone, deadline.completion.date.isoformat())
            if deadline.due:
                return _Reached(milestone, deadline.due.isoformat(), deemed=deadline)
            return None
    if milestone.fallback_event:
        events = ev.events_by_type.get(milestone.fallback_event, [])
        if events:
            event = events[0] if milestone.fallback_choice == "first" else events[-1]
            return _Reached(milestone, event.date.isoformat())
    return None


def evaluate(
    compiled: CompiledPack, case: CaseFacts, language: str | None = None
) -> dict[str, Any]:
    """Evaluate a case (already validated against this pack) and return the result as JSON data.

    Codes, dates and legal bases do not depend on the language; labels, explanations, reasons,
    warnings and notes are written in it (pack texts through the pack's translations).
    """
    language = language_of(language or case.language)
    return evaluate_languages(compiled, case, [language])[language]


def evaluate_languages(
    compiled: CompiledPack, case: CaseFacts, languages: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The result of `evaluate` in each language, from one evaluation.

    The rules fire once, and dates, statuses, outcomes and warnings are found once; only the
    texts are written in each language (a stored case keeps its texts in every site language).
    """
    codes = list(dict.fromkeys(language_of(lang) for lang in languages))
    if not codes:
        raise ValueError("at least one language")
    with compiled.ruleset.session() as session:
        ev = _find(compiled, case, session, counted_in=codes[0])
    results = {code: _write(ev, code) for code in codes}
    return {lang: results[language_of(lang)] for lang in languages}


def _find(
    compiled: CompiledPack, case: CaseFacts, session: Session, *, counted_in: str
) -> _Evaluation:
    """Fire the rules and find what the case gives, in no language (holiday names aside)."""
    pack = compiled.definition
    if case.as_of is None:
        raise ValueError("a case is evaluated as of a given day: set as_of")
    as_of = case.as_of
    departments = compiled.departments_on(as_of)
    authority = None
    if pack.authority_table:
        found = compiled.authority_on(as_of, case.department)
        if found is not None:
            table, row = found
            # The row's own confidence (the table may be surer of some rows than of others).
            authority = {
                "department": row.value,
                "name": row.label,
                "confidence": table.row_confidence(row),
            }

    events_by_type: dict[str, list[Event]] = defaultdict(list)
    for event in sorted(case.events, key=lambda e: e.date):
        events_by_type[event.type].append(event)

    case_fact: dict[str, Any] = {
        "t": "case",
        "department": case.department,
        "previous_reexaminations": case.previous_reexaminations,
        "new_element_count": len(case.new_elements),
        "authority_found": authority is not None,
        "as_of": as_of.isoformat(),
        "count": {code: len(events_by_type.get(code, ())) for code in compiled.event_types},
    }
    facts = [case_fact, *_event_facts(case.events)]
    for element in case.new_elements:
        fact = {"t": "new_element", "date": element.date.isoformat()}
        if element.known_on:
            fact["known_on"] = element.known_on.isoformat()
        facts.append(fact)

    ev = _Evaluation(
        compiled=compiled,
        case=case,
        as_of=as_of,
        authority=authority,
        applicant_subdivision=departments.get(case.department),
        events_by_type=events_by_type,
        session=session,
        counted_in=counted_in,
    )
    ev.absorb(session.assert_facts(facts))
    _settle(ev)

    deadlines = [d for d in (ev.deadlines.get(k) for k in compiled.order) if d is not None]
    deadlines.sort(key=lambda d: (d.due is None, d.due or dt.date.min))
    ev.ordered = deadlines
    if compiled.deadline_facts and deadlines:
        # Once every deadline is known: conditions on due dates (e.g. past the review horizon).
        ev.absorb(session.assert_facts([_deadline_fact(d) for d in deadlines]))
    ev.outcomes = _outcomes(ev)
    ev.warnings = _warnings(ev)
    # Not a rule of any pack: a date after the day of evaluation is a typo or a plan.
    ev.future = sorted({e.date for e in case.events if e.date > as_of})
    return ev


def _deadline_fact(deadline: _Deadline) -> dict[str, Any]:
    """A computed deadline as a fact (codes and dates only: the same in every language)."""
    fact: dict[str, Any] = {
        "t": "deadline",
        "key": deadline.rule.key,
        "status": deadline.status,
        "non_working_day": bool(deadline.final and deadline.final.non_working_day),
    }
    if deadline.due:
        fact["due"] = deadline.due.isoformat()
    if deadline.next_working_day:
        fact["next_working_day"] = deadline.next_working_day.isoformat()
    return fact


def _settle(ev: _Evaluation) -> None:
    """Compute deadlines and milestones until nothing more can be known."""
    pack = ev.compiled.definition
    pending_milestones = {m.key: m for m in pack.milestones if m.in_force_on(ev.as_of)}
    progress = True
    while progress:
        progress = False
        for key in ev.compiled.order:
            if key in ev.deadlines:
                continue
            milestones, deadlines = ev.compiled.waits[key]
            if (
                not milestones.isdisjoint(pending_milestones)
                or not deadlines <= ev.deadlines.keys()
            ):
                continue
            ev.deadlines[key] = _compute_deadline(ev, key)
            progress = True
        for key, milestone in list(pending_milestones.items()):
            if milestone.from_deadline and milestone.from_deadline not in ev.deadlines:
                continue
            del pending_milestones[key]
            progress = True
            found = _milestone_date(ev, milestone)
            ev.milestone_dates[key] = found
            if found is not None:
                ev.absorb(
                    ev.session.assert_facts([{"t": "milestone", "key": key, "date": found.date}])
                )
    for milestone in pack.milestones:
        ev.milestone_dates.setdefault(milestone.key, None)


def _outcomes(ev: _Evaluation) -> list[_OutcomeFound]:
    """Each outcome's winning rules: the fired ones of the highest priority, in force."""
    fired: dict[str, list[tuple[OutcomeRule, dict[str, Any]]]] = defaultdict(list)
    for rule_name, matched in ev.fired:
        if rule_name.startswith("o:"):
            outcome, rule, _ = ev.compiled.outcome_rules[rule_name]
            if rule.in_force_on(ev.as_of):
                fired[outcome.key].append((rule, matched))
    found: list[_OutcomeFound] = []
    for outcome in ev.compiled.definition.outcomes:
        candidates = fired.get(outcome.key)
        if not candidates:
            found.append(_OutcomeFound(outcome, []))
            continue
        if len(candidates) == 1:
            winners = candidates
        else:
            top = max(rule.priority for rule, _ in candidates)
            winners = [(rule, matched) for rule, matched in candidates if rule.priority == top]
            winners.sort(key=lambda pair: (pair[0].name, _since(pair) or ""))
        sinces = [s for s in map(_since, winners) if s]
        found.append(
            _OutcomeFound(
                outcome,
                winners,
                since=min(sinces) if sinces else None,
                has_since=any(w.since for w, _ in winners),
            )
        )
    return found


def _since(pair: tuple[OutcomeRule, dict[str, Any]]) -> str | None:
    rule, matched = pair
    if not rule.since:
        return None
    alias, _, attr = rule.since.partition(".")
    value = matched.get(alias, {}).get(attr)
    return value if isinstance(value, str) else None


def _warnings(ev: _Evaluation) -> list[_WarningFound]:
    """The warnings that fired, one per code, in the order of their codes.

    A rule may have alternatives (e.g. an event after a day, or a computed due date after it):
    the first that fired writes the message (events are asserted before deadlines), and among
    its matches the one with the earliest dates. A warning whose every match names computed
    deadlines lists their keys in `deadlines` (it concerns those rows); otherwise it concerns
    the whole case.
    """
    compiled = ev.compiled
    found: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for rule_name, matched in ev.fired:
        if not rule_name.startswith("w:"):
            continue
        warning, _ = compiled.warning_rules[rule_name]
        if warning.in_force_on(ev.as_of):
            found.setdefault(warning.code, []).append((rule_name, matched))
    chosen: list[_WarningFound] = []
    for code, matches in found.items():
        first_rule = matches[0][0]
        rule_name, matched = min(
            (m for m in matches if m[0] == first_rule), key=lambda m: _match_dates(m[1])
        )
        keys: list[str] = []
        for _, other in matches:
            named = [f["key"] for f in other.values() if f.get("t") == "deadline"]
            if not named:
                keys = []
                break
            keys += [key for key in named if key not in keys]
        chosen.append(
            _WarningFound(
                code=code,
                warning=compiled.warning_rules[rule_name][0],
                matched=matched,
                # About the review horizon: "checked against the law on …" names it as an
                # exception.
                horizon=any(name in compiled.horizon_rules for name, _ in matches),
                deadlines=keys,
            )
        )
    return sorted(chosen, key=lambda w: w.code)


def _match_dates(matched: dict[str, dict[str, Any]]) -> list[str]:
    """The dates of a match's facts in alias order, to choose among matches of one rule."""
    return [str(fact.get("date") or fact.get("due") or "") for _, fact in sorted(matched.items())]


# --- the texts, in one language --------------------------------------------------------------


class _Writer:
    """Writes an evaluation's result in one language: labels, explanations, messages, titles."""

    def __init__(self, ev: _Evaluation, language: str) -> None:
        self.ev = ev
        self.compiled = ev.compiled
        self.language = language
        self.translations = ev.compiled.definition.translations.get(language, {})
        self.format_date = date_formatter(language)

    def label_of(self, text: str) -> str:
        """A pack text in the reader's language (the pack's own translations)."""
        return self.translations.get(text, text)

    def code_of(self, code: str) -> str:
        """The words for a code (a status, a value) in the reader's language (pack data)."""
        return self.compiled.code_label(code, self.language)


# What a result says of the pack alone, the same for every case evaluated with it (`pack_parts`):
# a stored case keeps the rest and reads these from the version it was evaluated with.
PACK_PARTS = ("rule_pack", "notes")


def pack_parts(pack: PackDefinition, language: str) -> dict[str, Any]:
    """The result's parts that depend on the pack and the language only (PACK_PARTS)."""
    translations = pack.translations.get(language_of(language), {})
    return {
        "rule_pack": {
            "key": pack.key,
            "version": pack.version,
            "name": translations.get(pack.name, pack.name),
            "verified_on": pack.verified_on.isoformat(),
            "reviewed_until": pack.reviewed_until.isoformat() if pack.reviewed_until else None,
        },
        "notes": [translations.get(note, note) for note in pack.notes],
    }


def _write(ev: _Evaluation, language: str) -> dict[str, Any]:
    """The result of an evaluation in one language, as JSON data."""
    pack = ev.compiled.definition
    w = _Writer(ev, language)
    parts = pack_parts(pack, language)
    result: dict[str, Any] = {
        "procedure": pack.key,
        "rule_pack": parts["rule_pack"],
        "as_of": ev.as_of.isoformat(),
        "department": ev.case.department,
    }
    if pack.authority_table:
        result[pack.authority_outcome] = dict(ev.authority) if ev.authority else None
    result.update(_write_outcomes(w))
    result["deadlines"] = [_write_deadline(w, deadline) for deadline in ev.ordered]
    result["warnings"] = _write_warnings(w)
    result["notes"] = parts["notes"]
    result["language"] = language
    return result


def _write_deadline(w: _Writer, d: _Deadline) -> dict[str, Any]:
    ev, language = w.ev, w.language
    rule, version = d.rule, d.version
    trigger = dict(d.trigger)
    trigger_how = ""
    if version.trigger_milestone:
        reached = ev.milestone_dates[version.trigger_milestone]
        trigger_label = w.label_of(reached.milestone.label) if reached else trigger["type"]
        trigger["label"] = trigger_label
        if reached is not None and reached.deemed is not None:
            how = phrase(language, "deemed", label=w.label_of(reached.deemed.rule.label))
            trigger["how"] = trigger_how = how
    else:
        event_type = w.compiled.event_types.get(version.trigger_event)
        trigger_label = w.label_of(event_type.label) if event_type else version.trigger_event
    period, final_period = d.periods_in(language)
    where, values = d.where
    next_working_day = d.next_working_day
    completion = d.completion
    result: dict[str, Any] = {
        "key": rule.key,
        "label": w.label_of(rule.label),
        # What the step asks for, in the words of the version applied (else the rule's).
        "description": w.label_of(version.description or rule.description),
        "due": d.due.isoformat() if d.due else None,
        "status": d.status,
        "status_label": phrase(
            language,
            f"status_{d.status}",
            date=format_date(next_working_day, language) if next_working_day else "",
        ),
        "non_working_day": bool(final_period and final_period.non_working_day),
        "non_working_reason": final_period.non_working_reason if final_period else None,
        "trigger": trigger,
        "completed_by": (
            {"type": completion.type, "date": completion.date.isoformat()} if completion else None
        ),
        "rule": {"key": rule.key, "version": version.version, "confidence": version.confidence},
        "legal_basis": version.legal_basis,
        "source": {"title": w.label_of(version.source_title), "url": version.source_url},
        "calendar": d.calendar.label,
        "explanation": describe_period(
            version=version,
            trigger_label=trigger_label,
            trigger_date=d.trigger_date,
            trigger_how=trigger_how,
            period=period,
            final=final_period,
            calendar_name=phrase(language, where, **values),
            suspension=d.suspension,
            pack=ev.compiled.definition,
            label_of=w.label_of,
            language=language,
            next_working_day=next_working_day,
            chosen_by=d.chosen_by,
        ),
    }
    if version.extension == "possible":
        result["next_working_day"] = next_working_day.isoformat() if next_working_day else None
        result["extension"] = {
            "legal_basis": version.extension_basis,
            "confidence": version.extension_confidence,
        }
    if d.chosen_by is not None:
        result["version_chosen_by"] = dict(d.chosen_by)
    if d.suspension:
        resumed = d.suspension["resumed_by"]
        result["suspension"] = {
            **d.suspension,
            "suspended_by": dict(d.suspension["suspended_by"]),
            "resumed_by": dict(resumed) if resumed else None,
        }
    if version.notes:
        result["notes"] = w.label_of(version.notes)
    return result


def _write_outcomes(w: _Writer) -> dict[str, Any]:
    extra = w.compiled.extra
    results: dict[str, Any] = {}
    value_labels: dict[str, Any] = {}
    for found in w.ev.outcomes:
        outcome, winners = found.outcome, found.winners
        if not winners:
            results[outcome.key] = None
            continue
        rule = winners[0][0]
        if outcome.shape == "value":
            results[outcome.key] = rule.result
            value_labels[outcome.key] = (
                [w.code_of(str(v)) for v in rule.result]
                if isinstance(rule.result, list)
                else w.code_of(str(rule.result))
            )
            continue
        reasons: list[str] = []
        for winner, matched in winners:
            if winner.reason:
                text = conditions.render_template(
                    w.label_of(winner.reason), matched, extra, w.format_date
                )
                if text not in reasons:
                    reasons.append(text)
        entry: dict[str, Any] = {
            "status": rule.result,
            "status_label": w.code_of(str(rule.result)),
            "reasons": reasons,
            "legal_basis": rule.legal_basis,
            "rule": {"key": rule.name, "version": rule.version, "confidence": rule.confidence},
        }
        if found.has_since:
            entry["since"] = found.since
        results[outcome.key] = entry
    # The words for value outcomes (e.g. "post"), in the reader's language.
    results["outcome_labels"] = value_labels
    return results


def _write_warnings(w: _Writer) -> list[dict[str, Any]]:
    ev, language = w.ev, w.language
    written: list[dict[str, Any]] = []
    for found in ev.warnings:
        entry: dict[str, Any] = {
            "code": found.code,
            # Short words for lists (dashboard rows, SMS): the pack's words for the code.
            "title": w.code_of(found.code),
            "message": conditions.render_template(
                w.label_of(found.warning.message), found.matched, w.compiled.extra, w.format_date
            ),
            "legal_basis": found.warning.legal_basis,
        }
        if found.horizon:
            entry["horizon"] = True
        if found.deadlines:
            entry["deadlines"] = list(found.deadlines)
        written.append(entry)
    if ev.future and not any(found.code == EVENT_IN_FUTURE for found in ev.warnings):
        written.append(
            {
                "code": EVENT_IN_FUTURE,
                "title": phrase(language, "event_in_future_title"),
                "message": phrase(
                    language,
                    "event_in_future",
                    dates=", ".join(format_date(day, language) for day in ev.future),
                    as_of=format_date(ev.as_of, language),
                ),
                "legal_basis": "",
            }
        )
        written.sort(key=lambda entry: str(entry["code"]))
    return written
