"""An independent oracle for the shipped `asylum-reexamination` pack.

Written from the procedure spec (`asylum-reexamination.md` §1 to §5, `api.md`) alone, in plain
Python, without reading the product's engine or the pack file: it exists to be compared with the
product on generated timelines (see `test_random_timelines.py`). It computes what the spec fixes
for a request: the competent prefecture's department, each deadline's due date, status,
non-working-day flag and legal basis, the absent deadlines, the admissibility pre-check, the right
to remain and the warning codes.

Readings of points the spec leaves implicit (aligned with the hand-worked scenarios' reasoning):

- a trigger is the first event of its type unless the table says "latest";
- the completing event is the first event of the completing type, or, for `file_completion`,
  `decision_consultation`, `legal_aid_request` and `cnda_appeal`, the first one dated on/after the
  trigger (the notification date for the last two);
- `met` when that event is on/before `due`, `missed` when after, whatever `as_of` is; without one,
  `missed` when `as_of` > `due`, else `open` (so `open` on the due day itself);
- "the first attestation" is the only `attestation_issued` event of the case;
- `right_to_remain.since` is the date the status began: for `ended` the earliest negative OFPRA
  decision (inadmissible, or rejected on the merits), for `protection_granted` the granting
  decision; `none` and `until_ofpra_decision` have no date (`null`);
- `review_horizon` looks at event dates only (new elements are not events);
- `event_in_future` (§7.2) likewise: an event dated after `as_of`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import holidays

DEADLINE_KEYS = (
    "registration",
    "ofpra_submission",
    "file_completion",
    "ofpra_admissibility",
    "attestation_renewal",
    "decision_consultation",
    "legal_aid_request",
    "cnda_appeal",
    "cnda_decision",
)

# §4: departments -> the department of the prefecture that registers their asylum applications.
_PREFECTURE_TABLE = (
    ("03 15 43 63", "63"),
    ("01 07 42 69", "69"),
    ("26 38 73 74", "38"),
    ("21 58 89", "21"),
    ("25 39 70 90", "25"),
    ("71", "71"),
    ("22 29 35 56", "35"),
    ("18 28 36 37 41 45", "45"),
    ("2A 2B", "13"),
    ("08 10 51 52", "51"),
    ("54 55 57 88", "57"),
    ("67", "67"),
    ("68", "68"),
    ("59 62", "59"),
    ("02 60 80", "60"),
    ("75", "75"),
    ("77", "77"),
    ("78", "78"),
    ("91", "91"),
    ("92", "92"),
    ("93", "93"),
    ("94", "94"),
    ("95", "95"),
    ("14 50 61", "14"),
    ("27 76", "76"),
    ("16 17 79 86", "86"),
    ("24 33 40 47 64", "33"),
    ("19 23 87", "87"),
    ("09 12 31 32 46 65 81 82", "31"),
    ("11 30 34 48 66", "34"),
    ("44 53 85", "44"),
    ("49 72", "49"),
    ("06 83", "06"),
    ("04 05 13 84", "13"),
)
PREFECTURE_OF: dict[str, str] = {
    department: prefecture
    for departments, prefecture in _PREFECTURE_TABLE
    for department in departments.split()
}
OVERSEAS = ("971", "972", "973", "974", "976")
ALSACE_MOSELLE = ("57", "67", "68")

CODE_SWITCH = dt.date(2021, 5, 1)
ATTESTATION_SWITCH = dt.date(2020, 5, 11)
REVIEW_HORIZON = dt.date(2026, 6, 12)

# key -> (basis for a trigger before 1 May 2021, basis from 1 May 2021)
LEGAL_BASIS = {
    "registration": ("CESEDA L741-1", "CESEDA L521-4"),
    "ofpra_submission": ("CESEDA R723-15", "CESEDA R531-36"),
    "file_completion": ("CESEDA R723-15", "CESEDA R531-37"),
    "ofpra_admissibility": ("CESEDA R723-16", "CESEDA R531-38"),
    "decision_consultation": ("CESEDA R531-17", "CESEDA R531-17"),
    "legal_aid_request": ("Loi n° 91-647 art. 9-4", "Loi n° 91-647 art. 9-4"),
    "cnda_appeal": ("CESEDA L731-2", "CESEDA L532-1"),
    "cnda_decision": ("CESEDA L731-2", "CESEDA L532-6"),
}


def normalise_department(raw: str) -> str:
    code = raw.strip().upper()
    return code.zfill(2) if len(code) == 1 else code


@cache
def holiday_calendar(subdiv: str | None) -> holidays.HolidayBase:
    years = range(2015, 2035)
    if subdiv is None:
        return holidays.France(years=years)
    return holidays.France(subdiv=subdiv, years=years)


def registration_subdiv(department: str) -> str | None:
    """The calendar of the competent prefecture's department (overseas: the department's own)."""
    if department in OVERSEAS:
        return department
    return "57" if PREFECTURE_OF[department] in ALSACE_MOSELLE else None


def is_non_working(day: dt.date, subdiv: str | None = None) -> bool:
    return day.weekday() >= 5 or day in holiday_calendar(subdiv)


def add_working_days(start: dt.date, count: int, subdiv: str | None) -> dt.date:
    day, counted = start, 0
    while counted < count:
        day += dt.timedelta(days=1)
        if not is_non_working(day, subdiv):
            counted += 1
    return day


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _status(due: dt.date, completed: dt.date | None, as_of: dt.date) -> str:
    if completed is not None:
        return "met" if completed <= due else "missed"
    return "missed" if as_of > due else "open"


def _basis(key: str, trigger: dt.date) -> str:
    before, after = LEGAL_BASIS[key]
    return before if trigger < CODE_SWITCH else after


@dataclass
class Expected:
    department: str | None
    deadlines: dict[str, dict[str, Any]] = field(default_factory=dict)
    admissibility: str = "incomplete"
    right_to_remain: str = "until_ofpra_decision"
    right_to_remain_since: str | None = None
    warnings: set[str] = field(default_factory=set)

    @property
    def absent(self) -> set[str]:
        return set(DEADLINE_KEYS) - set(self.deadlines)


def evaluate(request: dict[str, Any]) -> Expected:
    department = normalise_department(request["department"])
    overseas = department in OVERSEAS
    as_of = dt.date.fromisoformat(request["as_of"])
    dates: dict[str, list[dt.date]] = {}
    outcomes: dict[str, list[tuple[dt.date, str]]] = {}
    for event in request["events"]:
        day = dt.date.fromisoformat(event["date"])
        dates.setdefault(event["type"], []).append(day)
        if "outcome" in event:
            outcomes.setdefault(event["type"], []).append((day, event["outcome"]))
    for listed in dates.values():
        listed.sort()

    def first(kind: str) -> dt.date | None:
        return dates[kind][0] if kind in dates else None

    def latest(kind: str) -> dt.date | None:
        return dates[kind][-1] if kind in dates else None

    def first_from(kind: str, start: dt.date) -> dt.date | None:
        return next((day for day in dates.get(kind, []) if day >= start), None)

    result = Expected(department=None if overseas else PREFECTURE_OF[department])
    deadlines = result.deadlines

    def put(key: str, trigger: dt.date, due: dt.date | None, status: str) -> None:
        subdiv = registration_subdiv(department) if key == "registration" else None
        deadlines[key] = {
            "due": due.isoformat() if due else None,
            "status": status,
            "non_working_day": is_non_working(due, subdiv) if due else None,
            "legal_basis": _basis(key, trigger) if key in LEGAL_BASIS else None,
        }

    def simple(key: str, trigger: dt.date | None, due_of: Any, done: dt.date | None) -> None:
        if trigger is not None:
            due = due_of(trigger)
            put(key, trigger, due, _status(due, done, as_of))

    days = dt.timedelta  # calendar-day offsets below
    simple(
        "registration",
        first("prefecture_presentation"),
        lambda t: add_working_days(t, 3, registration_subdiv(department)),
        first("registration"),
    )
    simple(
        "ofpra_submission", first("registration"), lambda t: t + days(8), first("ofpra_submission")
    )
    notice = latest("ofpra_incomplete_notice")
    if notice is not None:
        simple(
            "file_completion",
            notice,
            lambda t: t + days(4),
            first_from("ofpra_file_completed", notice),
        )
    simple(
        "ofpra_admissibility",
        first("ofpra_submission"),
        lambda t: t + days(8),
        first("ofpra_admissibility_decision"),
    )

    attestation = latest("attestation_issued")
    if attestation is not None:
        only = len(dates["attestation_issued"]) == 1
        due = add_months(attestation, 1 if only and attestation < ATTESTATION_SWITCH else 6)
        put("attestation_renewal", attestation, due, "open" if as_of <= due else "missed")

    notification: dt.date | None = None
    available = latest("decision_made_available")
    if available is not None:
        deemed = available + days(15)
        consulted = first_from("decision_notified", available)
        put("decision_consultation", available, deemed, _status(deemed, consulted, as_of))
        notification = consulted if consulted is not None and consulted <= deemed else deemed
    else:
        notification = latest("decision_notified")

    if notification is not None:
        aid_due = notification + days(15)
        aid_requested = first_from("legal_aid_requested", notification)
        put("legal_aid_request", notification, aid_due, _status(aid_due, aid_requested, as_of))
        appeal_due = add_months(notification, 1)
        appealed = first_from("cnda_appeal_filed", notification)
        if aid_requested is not None and aid_requested <= aid_due:
            aid_decided = first_from("legal_aid_decision_notified", aid_requested)
            if aid_decided is None:
                put("cnda_appeal", notification, None, "met" if appealed else "suspended")
            else:
                appeal_due = aid_decided + (appeal_due - aid_requested)
                put("cnda_appeal", notification, appeal_due, _status(appeal_due, appealed, as_of))
        else:
            put("cnda_appeal", notification, appeal_due, _status(appeal_due, appealed, as_of))

    simple(
        "cnda_decision", first("cnda_appeal_filed"), lambda t: t + days(35), first("cnda_decision")
    )

    # §3 admissibility pre-check.
    rejection = first("final_rejection")
    elements = request.get("new_elements") or []
    if rejection is None or not elements:
        result.admissibility = "incomplete"
    else:
        counts = any(
            dt.date.fromisoformat(element["date"]) > rejection
            or (element.get("known_on") and dt.date.fromisoformat(element["known_on"]) > rejection)
            for element in elements
        )
        result.admissibility = "meets_conditions" if counts else "fails_conditions"

    # §3 right to remain.
    negatives = sorted(
        [
            day
            for day, outcome in outcomes.get("ofpra_admissibility_decision", [])
            if outcome == "inadmissible"
        ]
        + [day for day, outcome in outcomes.get("ofpra_decision", []) if outcome == "rejected"]
    )
    granted = sorted(
        day
        for day, outcome in outcomes.get("ofpra_decision", [])
        if outcome == "protection_granted"
    )
    if request.get("previous_reexaminations", 0) >= 1:
        result.right_to_remain = "none"
    elif granted:
        result.right_to_remain = "protection_granted"
        result.right_to_remain_since = granted[0].isoformat()
    elif negatives:
        result.right_to_remain = "ended"
        result.right_to_remain_since = negatives[0].isoformat()
    else:
        result.right_to_remain = "until_ofpra_decision"

    if any(day >= REVIEW_HORIZON for listed in dates.values() for day in listed):
        result.warnings.add("review_horizon")
    if overseas:
        result.warnings.add("overseas_not_covered")
    # §7.2: an event dated after the day of evaluation.
    if any(day > as_of for listed in dates.values() for day in listed):
        result.warnings.add("event_in_future")
    return result
