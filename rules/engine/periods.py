"""Counting time limits: calendar days, working days, weeks and months from a start date.

Pure Python: no Django, no rule engine, and no procedure knowledge. The offset, the unit, the
calendar and what to do when the due date is not a working day all come from the caller.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from rules.engine.calendars import Calendar

__all__ = [
    "NON_WORKING_DAY_POLICIES",
    "UNITS",
    "Period",
    "add_calendar_days",
    "add_months",
    "add_weeks",
    "add_working_days",
    "apply_non_working_day_policy",
    "count_period",
    "days_between",
]

UNITS: Final = ("calendar_days", "working_days", "weeks", "months")
NON_WORKING_DAY_POLICIES: Final = ("flag", "next_working_day", "previous_working_day")

# Any real calendar has a working day within a few weeks; this only stops a runaway loop.
_MAX_DAYS_TO_WORKING_DAY = 366

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """The result of counting a time limit."""

    due: date  # after the non-working-day policy
    unadjusted_due: date  # before it
    non_working_day: bool  # the final due date is a weekend day or a holiday of the calendar
    non_working_reason: str | None  # the holiday's or the weekday's name, when it is
    skipped: tuple[tuple[date, str], ...]  # holidays skipped counting working days; else empty


def add_calendar_days(start: date, days: int) -> date:
    return start + timedelta(days=days)


def add_weeks(start: date, weeks: int) -> date:
    return start + timedelta(weeks=weeks)


def add_months(start: date, months: int) -> date:
    """The same day-of-month `months` later; the month's last day when that day does not exist.

    31 January + 1 month is 28 (or 29) February; 31 March + 1 month is 30 April.
    """
    month_index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(month_index, 12)
    month += 1
    last_day = _stdlib_calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last_day))


def add_working_days(
    start: date, days: int, calendar: Calendar, language: str = "en_US"
) -> tuple[date, list[tuple[date, str]]]:
    """Count `days` working days after `start` (the start day itself never counts).

    Returns the due date and the holidays skipped on weekdays between start and due, with
    their names in `language`. Zero days gives `start` itself, working day or not.
    """
    if days < 0:
        raise ValueError(f"cannot count a negative number of working days ({days})")
    skipped: list[tuple[date, str]] = []
    day = start
    remaining = days
    while remaining > 0:
        day += _ONE_DAY
        if calendar.is_weekend(day):
            continue
        holiday = calendar.holiday_name(day, language)
        if holiday is not None:
            skipped.append((day, holiday))
            continue
        remaining -= 1
    return day, skipped


def apply_non_working_day_policy(day: date, calendar: Calendar, policy: str) -> date:
    """Keep the day ("flag"), or move it to the next or previous working day when it is not one."""
    if policy == "flag":
        return day
    if policy == "next_working_day":
        step = _ONE_DAY
    elif policy == "previous_working_day":
        step = -_ONE_DAY
    else:
        raise ValueError(
            f"unknown non-working-day policy {policy!r}: "
            f"expected one of {', '.join(NON_WORKING_DAY_POLICIES)}"
        )
    moved = day
    for _ in range(_MAX_DAYS_TO_WORKING_DAY):
        if calendar.is_working_day(moved):
            return moved
        moved += step
    raise ValueError(
        f"no working day within {_MAX_DAYS_TO_WORKING_DAY} days of {day.isoformat()} "
        f"in calendar {calendar.label}"
    )


def count_period(
    start: date,
    offset: int,
    unit: str,
    calendar: Calendar,
    policy: str = "flag",
    language: str = "en_US",
) -> Period:
    """Count `offset` units from `start`, then apply the non-working-day policy to the result."""
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}: expected one of {', '.join(UNITS)}")
    if policy not in NON_WORKING_DAY_POLICIES:
        raise ValueError(
            f"unknown non-working-day policy {policy!r}: "
            f"expected one of {', '.join(NON_WORKING_DAY_POLICIES)}"
        )
    if offset < 0:
        raise ValueError(f"a time limit cannot be negative ({offset} {unit})")

    skipped: list[tuple[date, str]] = []
    if unit == "calendar_days":
        unadjusted = add_calendar_days(start, offset)
    elif unit == "weeks":
        unadjusted = add_weeks(start, offset)
    elif unit == "months":
        unadjusted = add_months(start, offset)
    else:
        unadjusted, skipped = add_working_days(start, offset, calendar, language)

    due = apply_non_working_day_policy(unadjusted, calendar, policy)
    reason = calendar.non_working_reason(due, language)
    return Period(
        due=due,
        unadjusted_due=unadjusted,
        non_working_day=reason is not None,
        non_working_reason=reason,
        skipped=tuple(skipped),
    )


def days_between(a: date, b: date) -> int:
    """The number of days from a to b: negative when b comes before a."""
    return (b - a).days
