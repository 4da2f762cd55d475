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
from typing import Any, Protocol

from . import conditions
from .calendars import Calendar, HolidayChange, get_calendar
from .durable import CompiledRuleset, Match, Session
from .explain import date_formatter, describe_period, format_date, language_of, phrase
from .inputs import CaseFacts, Event
from .pack import (
    NATIONAL,
    DeadlineRule,
    DeadlineRuleVersion,
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
    _departments: dict[int, dict[str, str | None]] = field(default_factory=dict)
    _calendars: dict[str | None, Calendar] = field(default_factory=dict)

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
        table = self.definition.lookup_table(key)
        return table.in_force_on(day) if table else None

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


class _Asserts(Protocol):
    def assert_facts(self, facts: Sequence[dict[str, Any]]) -> list[Match]: ...


class _Recorder:
    """A durable_rules session that keeps what fired for each batch, in order."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.log: list[list[Match]] = []

    def assert_facts(self, facts: Sequence[dict[str, Any]]) -> list[Match]:
        fired = self.session.assert_facts(facts)
        if facts:
            self.log.append(fired)
        return fired


class _Replay:
    """What a recorded session fired, batch by batch, without asking durable_rules again.

    Valid because the facts asserted (events, then milestone dates) do not depend on the
    reader's language: the same case asserts the same batches in the same order.
    """

    def __init__(self, log: list[list[Match]]) -> None:
        self._log = iter(log)

    def assert_facts(self, facts: Sequence[dict[str, Any]]) -> list[Match]:
        if not facts:
            return []
        return next(self._log)


@dataclass
class _Evaluation:
    compiled: CompiledPack
    case: CaseFacts
    as_of: dt.date
    authority: dict[str, str] | None
    applicant_subdivision: str | None
    events_by_type: dict[str, list[Event]]
    session: _Asserts
    language: str = "en"
    translations: dict[str, str] = field(default_factory=dict)
    matches: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    deadlines: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    milestone_dates: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    fired: list[Match] = field(default_factory=list)

    def absorb(self, fired: list[Match]) -> None:
        for rule_name, matched in fired:
            self.fired.append((rule_name, matched))
            if rule_name.startswith("d:"):
                self.matches[rule_name.split(":")[1]].append(
                    {"rule_name": rule_name, "fact": matched["m"]}
                )

    def label_of(self, text: str) -> str:
        """A pack text in the reader's language (the pack's own translations)."""
        return self.translations.get(text, text)

    def code_of(self, code: str) -> str:
        """The words for a code (a status, a value) in the reader's language (pack data)."""
        return code_label(self.compiled.definition.translations, code, self.language)

    def calendar_for(self, version: DeadlineRuleVersion) -> tuple[Calendar, str]:
        if version.calendar == "national":
            return self.compiled.national, phrase(self.language, "national")
        if version.calendar == "authority" and self.authority is not None:
            department = self.authority["department"]
            subdivision = self.compiled.departments_on(self.as_of).get(department)
            where = phrase(
                self.language,
                "authority_calendar",
                name=self.authority["name"],
                department=department,
            )
        else:
            department = self.case.department
            subdivision = self.applicant_subdivision
            where = phrase(self.language, "department_calendar", department=department)
        return self.compiled.calendar(subdivision), where

    def first_on_or_after(self, event_type: str, day: dt.date | None) -> Event | None:
        for event in self.events_by_type.get(event_type, ()):
            if day is None or event.date >= day:
                return event
        return None


def _compute_deadline(ev: _Evaluation, key: str) -> dict[str, Any] | None:
    candidates = ev.matches.get(key)
    if not candidates:
        return None
    pack = ev.compiled.definition
    chosen_by: dict[str, Any] | None = None
    if versions_by_anchor(pack, ev.compiled.deadlines[candidates[0]["rule_name"]][0]):
        # The version in force on the anchor event's date; without one yet, on the trigger's.
        anchors = ev.events_by_type.get(pack.anchor_event)
        if anchors:
            chosen_by = {"type": pack.anchor_event, "date": anchors[0].date.isoformat()}
        candidates = [
            c
            for c in candidates
            if ev.compiled.deadlines[c["rule_name"]][1].in_force_on(
                dt.date.fromisoformat(chosen_by["date"] if chosen_by else c["fact"]["date"])
            )
        ]
    # For the case's department, versions limited to a list naming it win over the others.
    department = ev.case.department
    scoped = [
        c for c in candidates if department in ev.compiled.deadlines[c["rule_name"]][1].departments
    ]
    candidates = scoped or [
        c for c in candidates if not ev.compiled.deadlines[c["rule_name"]][1].departments
    ]
    if not candidates:
        return None
    # Overlapping versions are refused by the validator; if two still match, the newest wins.
    chosen = max(candidates, key=lambda c: ev.compiled.deadlines[c["rule_name"]][1].version)
    rule, version = ev.compiled.deadlines[chosen["rule_name"]]
    fact = chosen["fact"]
    trigger_date = dt.date.fromisoformat(fact["date"])
    calendar, calendar_name = ev.calendar_for(version)
    period = count_period(
        trigger_date,
        version.offset,
        version.unit,
        calendar,
        version.non_working_day_policy,
        language=ev.language,
    )
    due: dt.date | None = period.due
    final_period: Period | None = period

    if version.trigger_milestone:
        milestone = ev.milestone_dates[version.trigger_milestone] or {}
        trigger = {
            "type": version.trigger_milestone,
            "date": fact["date"],
            "label": milestone.get("label", version.trigger_milestone),
        }
        if milestone.get("how"):
            trigger["how"] = milestone["how"]
        trigger_label = milestone.get("label", version.trigger_milestone)
    else:
        event_type = pack.event_type(version.trigger_event)
        trigger = {"type": version.trigger_event, "date": fact["date"]}
        if fact.get("outcome"):
            trigger["outcome"] = fact["outcome"]
        trigger_label = ev.label_of(event_type.label) if event_type else version.trigger_event

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
            window_due = dt.date.fromisoformat(window["due"]) if window and window["due"] else None
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
                    reason = calendar.non_working_reason(adjusted, language=ev.language)
                    final_period = Period(adjusted, unadjusted, reason is not None, reason, ())
                else:
                    final_period = count_period(
                        resumed.date,
                        version.offset,
                        version.unit,
                        calendar,
                        version.non_working_day_policy,
                        language=ev.language,
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

    result: dict[str, Any] = {
        "key": rule.key,
        "label": ev.label_of(rule.label),
        # What the step asks for, in the words of the version applied (else the rule's).
        "description": ev.label_of(version.description or rule.description),
        "due": due.isoformat() if due else None,
        "status": status,
        "status_label": phrase(
            ev.language,
            f"status_{status}",
            date=format_date(next_working_day, ev.language) if next_working_day else "",
        ),
        "non_working_day": bool(final_period and final_period.non_working_day),
        "non_working_reason": final_period.non_working_reason if final_period else None,
        "trigger": trigger,
        "completed_by": (
            {"type": completion.type, "date": completion.date.isoformat()} if completion else None
        ),
        "rule": {"key": rule.key, "version": version.version, "confidence": version.confidence},
        "legal_basis": version.legal_basis,
        "source": {"title": ev.label_of(version.source_title), "url": version.source_url},
        "calendar": calendar.label,
        "explanation": describe_period(
            version=version,
            trigger_label=trigger_label,
            trigger_date=trigger_date,
            trigger_how=trigger.get("how", ""),
            period=period,
            final=final_period,
            calendar_name=calendar_name,
            suspension=suspension,
            pack=pack,
            label_of=ev.label_of,
            language=ev.language,
            next_working_day=next_working_day,
            chosen_by=chosen_by,
        ),
    }
    if version.extension == "possible":
        result["next_working_day"] = next_working_day.isoformat() if next_working_day else None
        result["extension"] = {
            "legal_basis": version.extension_basis,
            "confidence": version.extension_confidence,
        }
    if chosen_by is not None:
        result["version_chosen_by"] = chosen_by
    if suspension:
        result["suspension"] = suspension
    if version.notes:
        result["notes"] = ev.label_of(version.notes)
    return result


def _milestone_date(ev: _Evaluation, milestone: Milestone) -> dict[str, Any] | None:
    if milestone.from_deadline:
        deadline = ev.deadlines.get(milestone.from_deadline)
        if deadline is not None:
            completed = deadline["completed_by"]
            if deadline["status"] == "met" and completed:
                return {"date": completed["date"], "label": ev.label_of(milestone.label), "how": ""}
            if deadline["due"]:
                how = phrase(ev.language, "deemed", label=deadline["label"])
                return {"date": deadline["due"], "label": ev.label_of(milestone.label), "how": how}
            return None
    if milestone.fallback_event:
        events = ev.events_by_type.get(milestone.fallback_event, [])
        if events:
            event = events[0] if milestone.fallback_choice == "first" else events[-1]
            return {
                "date": event.date.isoformat(),
                "label": ev.label_of(milestone.label),
                "how": "",
            }
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
    """The result of `evaluate` in each language, from one pass through durable_rules.

    The rules fire once; what they matched is replayed to write each other language's texts
    (a stored case keeps its texts in every site language).
    """
    codes = list(dict.fromkeys(language_of(lang) for lang in languages))
    if not codes:
        raise ValueError("at least one language")
    log: list[list[Match]] = []
    results: dict[str, dict[str, Any]] = {}
    for n, code in enumerate(codes):
        if n == 0:
            with compiled.ruleset.session() as session:
                recorder = _Recorder(session)
                results[code] = _evaluate_in(compiled, case, code, recorder)
                log = recorder.log
        else:
            results[code] = _evaluate_in(compiled, case, code, _Replay(log))
    return {lang: results[language_of(lang)] for lang in languages}


def _evaluate_in(
    compiled: CompiledPack, case: CaseFacts, language: str, session: _Asserts
) -> dict[str, Any]:
    pack = compiled.definition
    if case.as_of is None:
        raise ValueError("a case is evaluated as of a given day: set as_of")
    as_of = case.as_of
    departments = compiled.departments_on(as_of)
    authority = None
    if pack.authority_table:
        table = compiled.table_in_force(pack.authority_table, as_of)
        row = next((r for r in table.rows if r.key == case.department), None) if table else None
        if row is not None and table is not None:
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
        "count": {code.code: len(events_by_type.get(code.code, ())) for code in pack.event_types},
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
        language=language,
        translations=pack.translations.get(language, {}),
    )
    ev.absorb(session.assert_facts(facts))
    _settle(ev)

    deadlines = [d for d in (ev.deadlines.get(k) for k in compiled.order) if d is not None]
    deadlines.sort(key=lambda d: (d["due"] is None, d["due"] or ""))
    if compiled.deadline_facts and deadlines:
        # Once every deadline is known: conditions on due dates (e.g. past the review horizon).
        ev.absorb(session.assert_facts([_deadline_fact(d) for d in deadlines]))

    result: dict[str, Any] = {
        "procedure": pack.key,
        "rule_pack": {
            "key": pack.key,
            "version": pack.version,
            "name": ev.label_of(pack.name),
            "verified_on": pack.verified_on.isoformat(),
            "reviewed_until": pack.reviewed_until.isoformat() if pack.reviewed_until else None,
        },
        "as_of": as_of.isoformat(),
        "department": case.department,
    }
    if pack.authority_table:
        result[pack.authority_outcome] = authority
    result.update(_outcomes(ev))
    result["deadlines"] = deadlines
    result["warnings"] = _warnings(ev)
    result["notes"] = [ev.label_of(note) for note in pack.notes]
    result["language"] = language
    return result


def _deadline_fact(deadline: dict[str, Any]) -> dict[str, Any]:
    """A computed deadline as a fact (codes and dates only: the same in every language)."""
    fact: dict[str, Any] = {
        "t": "deadline",
        "key": deadline["key"],
        "status": deadline["status"],
        "non_working_day": deadline["non_working_day"],
    }
    if deadline["due"]:
        fact["due"] = deadline["due"]
    if deadline.get("next_working_day"):
        fact["next_working_day"] = deadline["next_working_day"]
    return fact


def _settle(ev: _Evaluation) -> None:
    """Compute deadlines and milestones until nothing more can be known."""
    pack = ev.compiled.definition
    pending_milestones = {m.key: m for m in pack.milestones if m.in_force_on(ev.as_of)}
    milestone_of = {m.key for m in pack.milestones}
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
                    ev.session.assert_facts([{"t": "milestone", "key": key, "date": found["date"]}])
                )
    for key in milestone_of - set(ev.milestone_dates):
        ev.milestone_dates[key] = None


def _outcomes(ev: _Evaluation) -> dict[str, Any]:
    pack = ev.compiled.definition
    fired: dict[str, list[tuple[OutcomeRule, dict[str, Any]]]] = defaultdict(list)
    for rule_name, matched in ev.fired:
        if rule_name.startswith("o:"):
            outcome, rule, _ = ev.compiled.outcome_rules[rule_name]
            if rule.in_force_on(ev.as_of):
                fired[outcome.key].append((rule, matched))
    extra = {"pack": {"reviewed_until": pack.settings["reviewed_until"]}}
    results: dict[str, Any] = {}
    value_labels: dict[str, Any] = {}
    for outcome in pack.outcomes:
        candidates = fired.get(outcome.key)
        if not candidates:
            results[outcome.key] = None
            continue
        top = max(rule.priority for rule, _ in candidates)
        winners = [(rule, matched) for rule, matched in candidates if rule.priority == top]
        winners.sort(key=lambda pair: (pair[0].name, _since(pair) or ""))
        rule = winners[0][0]
        if outcome.shape == "value":
            results[outcome.key] = rule.result
            value_labels[outcome.key] = (
                [ev.code_of(str(v)) for v in rule.result]
                if isinstance(rule.result, list)
                else ev.code_of(str(rule.result))
            )
            continue
        reasons: list[str] = []
        for winner, matched in winners:
            if winner.reason:
                text = conditions.render_template(
                    ev.label_of(winner.reason), matched, extra, date_formatter(ev.language)
                )
                if text not in reasons:
                    reasons.append(text)
        sinces = sorted(s for s in (_since(w) for w in winners) if s)
        entry: dict[str, Any] = {
            "status": rule.result,
            "status_label": ev.code_of(str(rule.result)),
            "reasons": reasons,
            "legal_basis": rule.legal_basis,
            "rule": {"key": rule.name, "version": rule.version, "confidence": rule.confidence},
        }
        if any(w.since for w, _ in winners):
            entry["since"] = sinces[0] if sinces else None
        results[outcome.key] = entry
    # The words for value outcomes (e.g. "post"), in the reader's language.
    results["outcome_labels"] = value_labels
    return results


def _since(pair: tuple[OutcomeRule, dict[str, Any]]) -> str | None:
    rule, matched = pair
    if not rule.since:
        return None
    alias, _, attr = rule.since.partition(".")
    value = matched.get(alias, {}).get(attr)
    return value if isinstance(value, str) else None


def _warnings(ev: _Evaluation) -> list[dict[str, Any]]:
    """The warnings that fired, one per code.

    A rule may have alternatives (e.g. an event after a day, or a computed due date after it):
    the first that fired writes the message (events are asserted before deadlines), and among
    its matches the one with the earliest dates. A warning whose every match names computed
    deadlines lists their keys in `deadlines` (it concerns those rows); otherwise it concerns
    the whole case.
    """
    pack = ev.compiled.definition
    extra = {"pack": {"reviewed_until": pack.settings["reviewed_until"]}}
    found: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for rule_name, matched in ev.fired:
        if not rule_name.startswith("w:"):
            continue
        warning, _ = ev.compiled.warning_rules[rule_name]
        if warning.in_force_on(ev.as_of):
            found.setdefault(warning.code, []).append((rule_name, matched))
    seen: dict[str, dict[str, Any]] = {}
    for code, matches in found.items():
        first_rule = matches[0][0]
        rule_name, matched = min(
            (m for m in matches if m[0] == first_rule), key=lambda m: _match_dates(m[1])
        )
        warning, _ = ev.compiled.warning_rules[rule_name]
        seen[code] = {
            "code": code,
            # Short words for lists (dashboard rows, SMS): the pack's words for the code.
            "title": ev.code_of(code),
            "message": conditions.render_template(
                ev.label_of(warning.message), matched, extra, date_formatter(ev.language)
            ),
            "legal_basis": warning.legal_basis,
        }
        if any(
            conditions.uses_setting(list(w.when), HORIZON_SETTING)
            for w, _ in (ev.compiled.warning_rules[name] for name, _ in matches)
        ):
            # About the review horizon: "checked against the law on …" names it as an exception.
            seen[code]["horizon"] = True
        keys: list[str] = []
        for _, other in matches:
            named = [f["key"] for f in other.values() if f.get("t") == "deadline"]
            if not named:
                keys = []
                break
            keys += [key for key in named if key not in keys]
        if keys:
            seen[code]["deadlines"] = keys
    # Not a rule of any pack: a date after the day of evaluation is a typo or a plan.
    future = sorted({e.date for e in ev.case.events if e.date > ev.as_of})
    if future and EVENT_IN_FUTURE not in seen:
        seen[EVENT_IN_FUTURE] = {
            "code": EVENT_IN_FUTURE,
            "title": phrase(ev.language, "event_in_future_title"),
            "message": phrase(
                ev.language,
                "event_in_future",
                dates=", ".join(format_date(day, ev.language) for day in future),
                as_of=format_date(ev.as_of, ev.language),
            ),
            "legal_basis": "",
        }
    return sorted(seen.values(), key=lambda w: str(w["code"]))


def _match_dates(matched: dict[str, dict[str, Any]]) -> list[str]:
    """The dates of a match's facts in alias order, to choose among matches of one rule."""
    return [str(fact.get("date") or fact.get("due") or "") for _, fact in sorted(matched.items())]
