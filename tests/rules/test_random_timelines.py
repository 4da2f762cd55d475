"""The product against an independent oracle on a few hundred generated case timelines.

`tests/rules/oracle.py` computes, from the procedure spec alone, what the shipped pack must answer;
this module generates plausible, deterministic (seeded) reexamination stories and posts each one to
`POST /api/v1/evaluate`, comparing every field the oracle computes. All mismatches are collected and
the first ten reported with the request, the field, both values and the API's explanation.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import random
from collections import Counter
from typing import Any

import pytest
from rest_framework.test import APIClient

from rules.models import PackVersion
from tests.rules.oracle import (
    DEADLINE_KEYS,
    OVERSEAS,
    PREFECTURE_OF,
    Expected,
    add_months,
    evaluate,
    holiday_calendar,
    normalise_department,
    registration_subdiv,
)

SEED = 20260611
CASES = 600
URL = "/api/v1/evaluate"

# Every valid department code, plus the other spellings the API accepts; Alsace-Moselle, its
# neighbours registered in Metz, Corsica and overseas are drawn more often than their share.
DEPARTMENTS = (
    sorted(PREFECTURE_OF)
    + list(OVERSEAS) * 3
    + ["57", "67", "68", "54", "55", "88"] * 3
    + ["2a", "2b", "2A", "2B"]
    + [str(n) for n in range(1, 10)]
)

# Dates around which the calendars and the versioned rules change.
_EASTER_SUNDAYS = [
    "2019-04-21",
    "2020-04-12",
    "2021-04-04",
    "2022-04-17",
    "2023-04-09",
    "2024-03-31",
    "2025-04-20",
    "2026-04-05",
    "2027-03-28",
]
_HOTSPOTS: list[dt.date] = []
for _easter in _EASTER_SUNDAYS:
    _year = int(_easter[:4])
    _HOTSPOTS += [
        dt.date.fromisoformat(_easter) - dt.timedelta(days=4),  # the Wednesday before Good Friday
        dt.date(_year, 12, 22),
        dt.date(_year, 5, 5),
    ]
    _HOTSPOTS += [
        dt.date(_year, month, calendar.monthrange(_year, month)[1]) for month in (1, 2, 3, 8, 10)
    ]
_HOTSPOTS += [
    dt.date.fromisoformat(day)
    for day in [
        "2021-04-24",
        "2021-04-28",
        "2021-03-30",
        "2021-04-10",
        "2020-05-04",
        "2020-05-10",
        "2020-04-10",
        "2026-06-05",
        "2026-06-10",
        "2026-05-20",
    ]
]
START, END = dt.date(2019, 1, 2), dt.date(2027, 9, 30)


def _day(rng: random.Random, low: int, high: int) -> dt.timedelta:
    return dt.timedelta(days=rng.randint(low, high))


def _anchor(rng: random.Random) -> dt.date:
    if rng.random() < 0.45:
        return rng.choice(_HOTSPOTS) + _day(rng, -3, 3)
    return START + _day(rng, 0, (END - START).days)


def _local_holidays(subdiv: str) -> list[dt.date]:
    """Holidays of a local calendar (Alsace-Moselle, overseas) that the national one lacks."""
    local, national = holiday_calendar(subdiv), holiday_calendar(None)
    return sorted(day for day in local if START <= day <= END and day not in national)


def _iso(day: dt.date) -> str:
    return day.isoformat()


def generate_case(rng: random.Random) -> dict[str, Any]:
    """One plausible story, possibly stopped mid-way, with `as_of` around its events."""
    events: list[tuple[dt.date, str, str | None]] = []

    def add(kind: str, day: dt.date, outcome: str | None = None) -> dt.date:
        events.append((day, kind, outcome))
        return day

    department = rng.choice(DEPARTMENTS)
    subdiv = registration_subdiv(normalise_department(department))
    if subdiv is not None and rng.random() < 0.6:
        # Presented just before a holiday only the registering prefecture's calendar has.
        presented = rng.choice(_local_holidays(subdiv)) - _day(rng, 1, 4)
    else:
        presented = _anchor(rng)
    rejected = presented - _day(rng, 3, 420)
    if rng.random() < 0.9:
        add("final_rejection", rejected)
    new_elements: list[dict[str, str]] = []
    for _ in range(rng.choice((0, 1, 1, 1, 2, 3))):
        kind = rng.random()
        if kind < 0.35:  # arose after the rejection
            arose = rejected + _day(rng, 1, max(1, (presented - rejected).days))
        elif kind < 0.5:  # the same day
            arose = rejected
        else:  # before it
            arose = rejected - _day(rng, 1, 300)
        element = {"date": _iso(arose), "description": rng.choice(("arrest warrant", "letter"))}
        if rng.random() < 0.5:
            learned = arose + _day(rng, 0, 200)
            element["known_on"] = _iso(min(learned, max(presented, arose)))
        new_elements.append(element)

    add("prefecture_presentation", presented)
    if rng.random() < 0.08:  # turned away once, presented again
        presented = add("prefecture_presentation", presented + _day(rng, 1, 7))
    registered = add("registration", presented + rng.choice((_day(rng, 1, 6), _day(rng, 0, 14))))
    submitted = add("ofpra_submission", registered + _day(rng, 1, 12))
    if rng.random() < 0.08:  # posted again
        add("ofpra_submission", submitted + _day(rng, 1, 10))
    attestation = add("attestation_issued", registered)
    last_notice = submitted
    for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
        last_notice = add("ofpra_incomplete_notice", last_notice + _day(rng, 1, 5))
        if rng.random() < 0.8:
            add("ofpra_file_completed", last_notice + _day(rng, 0, 7))
    decided = add(
        "ofpra_admissibility_decision",
        max(submitted, last_notice) + _day(rng, 2, 12),
        "admissible" if rng.random() < 0.7 else "inadmissible",
    )
    negative = decided
    if events[-1][2] == "admissible":
        negative = add(
            "ofpra_decision",
            decided + _day(rng, 5, 200),
            "rejected" if rng.random() < 0.75 else "protection_granted",
        )
    # Attestations renewed while OFPRA examines the request.
    while rng.random() < 0.5 and attestation < negative:
        only_first = sum(kind == "attestation_issued" for _, kind, _ in events) == 1
        validity = 1 if only_first and attestation < dt.date(2020, 5, 11) else 6
        attestation = add(
            "attestation_issued", add_months(attestation, validity) - _day(rng, -5, 10)
        )

    if not any(outcome == "protection_granted" for *_, outcome in events):
        notified: dt.date | None = None
        if rng.random() < 0.7:
            available = add("decision_made_available", negative + _day(rng, 0, 5))
            if rng.random() < 0.15:  # made available again
                available = add("decision_made_available", available + _day(rng, 1, 10))
            roll = rng.random()
            if roll < 0.55:
                notified = add("decision_notified", available + _day(rng, 0, 15))
            elif roll < 0.75:
                add("decision_notified", available + _day(rng, 16, 30))
                notified = available + dt.timedelta(days=15)
            else:
                notified = available + dt.timedelta(days=15)
        elif rng.random() < 0.9:
            notified = add("decision_notified", negative + _day(rng, 1, 20))
            if rng.random() < 0.2:  # a registered letter received later
                add("decision_notified", notified + _day(rng, 1, 10))
        if notified is not None:
            appeal_from = notified
            roll = rng.random()
            if roll < 0.55:
                requested = add(
                    "legal_aid_requested",
                    notified + rng.choice((_day(rng, 0, 15), _day(rng, 0, 15), _day(rng, 16, 25))),
                )
                if rng.random() < 0.75:
                    appeal_from = add("legal_aid_decision_notified", requested + _day(rng, 5, 90))
            if rng.random() < 0.8:
                appealed = add("cnda_appeal_filed", appeal_from + _day(rng, 0, 40))
                if rng.random() < 0.7:
                    add("cnda_decision", appealed + _day(rng, 10, 50))

    events.sort(key=lambda event: event[0])
    if rng.random() < 0.6:  # the case stopped mid-way
        events = events[: rng.randint(1, len(events))]
    last = max(day for day, _, _ in events)
    if rng.random() < 0.85:
        as_of = last + rng.choice((_day(rng, 0, 10), _day(rng, 0, 60), _day(rng, 20, 200)))
    else:
        as_of = events[0][0] + _day(rng, 0, (last - events[0][0]).days)
    listed = [
        {"type": kind, "date": _iso(day)} | ({"outcome": outcome} if outcome else {})
        for day, kind, outcome in events
    ]
    request = {
        "procedure": "asylum-reexamination",
        "department": department,
        "previous_reexaminations": rng.choice((0, 0, 0, 0, 0, 1, 2)),
        "as_of": _iso(as_of),
        "events": listed,
        "new_elements": new_elements,
    }
    dues = [item["due"] for item in evaluate(request).deadlines.values() if item["due"]]
    if dues and rng.random() < 0.2:  # as_of on, or a day either side of, a due date
        due = dt.date.fromisoformat(rng.choice(dues))
        request["as_of"] = _iso(due + _day(rng, -1, 1))
    if rng.random() < 0.3:
        rng.shuffle(listed)
    return request


def generate_cases(count: int = CASES, seed: int = SEED) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [generate_case(rng) for _ in range(count)]


def compare(expected: Expected, answer: dict[str, Any]) -> list[tuple[str, Any, Any, str]]:
    """(field, oracle value, API value, explanation) for every disagreement."""
    found: list[tuple[str, Any, Any, str]] = []
    prefecture = answer.get("competent_prefecture")
    got = prefecture["department"] if prefecture else None
    if got != expected.department:
        found.append(("competent_prefecture.department", expected.department, got, ""))
    deadlines = {item["key"]: item for item in answer.get("deadlines", [])}
    for key in DEADLINE_KEYS:
        want, item = expected.deadlines.get(key), deadlines.get(key)
        if want is None or item is None:
            if (want is None) != (item is None):
                found.append((f"deadlines.{key}", want, item, (item or {}).get("explanation", "")))
            continue
        for name, value in want.items():
            if value is None and name in ("non_working_day", "legal_basis"):
                continue  # undefined without a due date / not checked (attestation_renewal)
            if item.get(name) != value:
                found.append(
                    (f"deadlines.{key}.{name}", value, item.get(name), item.get("explanation", ""))
                )
    if answer["admissibility"]["status"] != expected.admissibility:
        found.append(
            (
                "admissibility.status",
                expected.admissibility,
                answer["admissibility"]["status"],
                "; ".join(answer["admissibility"].get("reasons", [])),
            )
        )
    remain = answer["right_to_remain"]
    reasons = "; ".join(remain.get("reasons", []))
    if remain["status"] != expected.right_to_remain:
        found.append(
            ("right_to_remain.status", expected.right_to_remain, remain["status"], reasons)
        )
    elif remain.get("since") != expected.right_to_remain_since:
        found.append(
            ("right_to_remain.since", expected.right_to_remain_since, remain.get("since"), reasons)
        )
    codes = {warning["code"] for warning in answer.get("warnings", [])}
    if codes != expected.warnings:
        found.append(("warnings", sorted(expected.warnings), sorted(codes), ""))
    return found


def test_generated_cases_cover_every_status() -> None:
    """The generator exercises met, missed and open for every deadline, and the suspension."""
    seen: Counter[tuple[str, str]] = Counter()
    for request in generate_cases():
        for key, deadline in evaluate(request).deadlines.items():
            seen[key, deadline["status"]] += 1
    for key in DEADLINE_KEYS:
        statuses = ("open", "missed") if key == "attestation_renewal" else ("met", "missed", "open")
        for status in statuses:
            assert seen[key, status] >= 3, (key, status, seen)
    assert seen["cnda_appeal", "suspended"] >= 3, seen


def test_product_agrees_with_oracle_on_generated_timelines(
    asylum_pack: PackVersion, token_client: APIClient
) -> None:
    mismatches: list[str] = []
    for number, request in enumerate(generate_cases()):
        response = token_client.post(URL, request, format="json")
        assert response.status_code == 200, (number, request, response.content)
        for name, want, got, explanation in compare(evaluate(request), response.json()):
            mismatches.append(
                f"case {number}: {name}: oracle {want!r}, API {got!r}\n"
                f"  explanation: {explanation}\n"
                f"  request: {json.dumps(request, ensure_ascii=False)}"
            )
    if mismatches:
        pytest.fail(
            f"{len(mismatches)} mismatches on {CASES} cases; the first 10:\n\n"
            + "\n\n".join(mismatches[:10]),
            pytrace=False,
        )
