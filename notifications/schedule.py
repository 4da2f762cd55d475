"""When an alert goes out: send times, the SMS hours, escalation after working days, backoff.

Pure Python (no Django imports): every function takes its clock, hours and calendar as
arguments, so the tests can state the rules with plain dates.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from rules.engine.calendars import Calendar

PARIS = ZoneInfo("Europe/Paris")


def local_date(moment: dt.datetime, tz: ZoneInfo = PARIS) -> dt.date:
    return moment.astimezone(tz).date()


def at_local(day: dt.date, hour: int, tz: ZoneInfo = PARIS) -> dt.datetime:
    """An aware datetime: `hour`:00 on `day` in `tz` (DST handled by zoneinfo)."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=tz)


def reminder_time(due: dt.date, lead_days: int, hour: int, tz: ZoneInfo = PARIS) -> dt.datetime:
    """`lead_days` days before the due date, at the morning send hour (0: on the due day)."""
    return at_local(due - dt.timedelta(days=lead_days), hour, tz)


def overdue_time(due: dt.date, hour: int, tz: ZoneInfo = PARIS) -> dt.datetime:
    """The morning after the due date: the first day the deadline is missed."""
    return at_local(due + dt.timedelta(days=1), hour, tz)


def in_sms_window(
    moment: dt.datetime, start_hour: int, end_hour: int, tz: ZoneInfo = PARIS
) -> bool:
    local = moment.astimezone(tz)
    return start_hour <= local.hour < end_hour


def clamp_to_sms_window(
    moment: dt.datetime, start_hour: int, end_hour: int, tz: ZoneInfo = PARIS
) -> dt.datetime:
    """The moment itself if it falls within the SMS hours, else the next opening."""
    local = moment.astimezone(tz)
    if local.hour < start_hour:
        return at_local(local.date(), start_hour, tz)
    if local.hour >= end_hour:
        return at_local(local.date() + dt.timedelta(days=1), start_hour, tz)
    return moment


def escalation_time(
    anchor: dt.datetime, working_days: int, calendar: Calendar, hour: int, tz: ZoneInfo = PARIS
) -> dt.datetime:
    """When supervisors hear of an overdue alert still unacknowledged after `working_days`.

    The anchor is when the caseworker was told. Its own day counts as a working day only if it
    is one and the alert arrived in the morning (a caseworker told at 17:00 has not had a day);
    the supervisors are told at `hour` on the working day after the last counted one. So an
    overdue alert sent on Monday at 08:00 escalates on Tuesday at 08:00, one sent on Friday at
    08:00 on Monday, one sent on Saturday on Tuesday.
    """
    local = anchor.astimezone(tz)
    day = local.date()
    counted = 1 if calendar.is_working_day(day) and local.hour < 12 else 0
    while counted < working_days:
        day += dt.timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    day += dt.timedelta(days=1)
    while not calendar.is_working_day(day):
        day += dt.timedelta(days=1)
    return at_local(day, hour, tz)


def retry_delay(attempt: int, base_seconds: int, max_seconds: int) -> int:
    """Exponential backoff after the n-th failed attempt: base, 2 x base, 4 x base ... capped."""
    return int(min(max_seconds, base_seconds * 2 ** max(0, attempt - 1)))
