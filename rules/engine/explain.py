"""Sentences a caseworker can read aloud, built from a rule version and what was counted."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from .periods import Period

if TYPE_CHECKING:
    from .pack import DeadlineRuleVersion, PackDefinition

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
UNIT_WORDS = {
    "calendar_days": ("day", "days"),
    "working_days": ("working day", "working days"),
    "weeks": ("week", "weeks"),
    "months": ("month", "months"),
}


def format_date(value: str | dt.date) -> str:
    """2026-05-06 -> '6 May 2026'."""
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def describe_period(
    *,
    version: DeadlineRuleVersion,
    trigger_label: str,
    trigger_date: dt.date,
    trigger_how: str,
    period: Period,
    final: Period | None,
    calendar_name: str,
    suspension: dict[str, Any] | None,
    pack: PackDefinition,
) -> str:
    singular, plural = UNIT_WORDS.get(version.unit, (version.unit, version.unit))
    amount = f"{version.offset} {singular if version.offset == 1 else plural}"
    text = f"{amount} after {lower_first(trigger_label)} on {format_date(trigger_date)}"
    if trigger_how:
        text += f" ({trigger_how})"
    if version.unit == "working_days":
        skipped = ", ".join(name for _, name in period.skipped)
        text += f" ({calendar_name}" + (f": {skipped} not counted)" if skipped else ")")
    if version.unit == "months" and period.unadjusted_due.day != trigger_date.day:
        text += f"; that month has no day {trigger_date.day}, so its last day"
    if suspension is not None:
        started = suspension["suspended_by"]
        event_type = pack.event_type(started["type"])
        label = lower_first(event_type.label) if event_type else started["type"]
        text += (
            f"; suspended by {label} on {format_date(started['date'])} with "
            f"{suspension['remaining_days']} days left"
        )
        resumed = suspension["resumed_by"]
        if resumed is None:
            return text + ", until the event that ends the suspension is recorded."
        event_type = pack.event_type(resumed["type"])
        label = lower_first(event_type.label) if event_type else resumed["type"]
        if version.resumption == "remaining":
            text += f", which run again from {label} on {format_date(resumed['date'])}"
        else:
            text += (
                f"; the full time limit runs again from {label} on {format_date(resumed['date'])}"
            )
    if final is None:
        return text + "."
    if final.due != final.unadjusted_due:
        text += (
            f"; {format_date(final.unadjusted_due)} is not a working day "
            f"({final_reason(final.unadjusted_due)}), so it moves to "
            f"{WEEKDAYS[final.due.weekday()]} {format_date(final.due)}"
        )
    elif final.non_working_day:
        text += (
            f"; falls on {_article(final.non_working_reason)} "
            "(not a working day; the date is not moved)"
        )
    return text + "."


def final_reason(day: dt.date) -> str:
    return WEEKDAYS[day.weekday()]


def _article(reason: str | None) -> str:
    if reason in WEEKDAYS:
        return f"a {reason}"
    return reason or "a non-working day"
