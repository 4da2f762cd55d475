"""Send times, the SMS hours, escalation after working days, and the retry backoff."""

from __future__ import annotations

import datetime as dt

import pytest

from notifications import schedule
from rules.engine.calendars import get_calendar
from tests.notifications.conftest import paris

FR = get_calendar("FR")


def test_reminders_go_out_at_the_send_hour_in_paris_whatever_the_season() -> None:
    winter = schedule.reminder_time(dt.date(2026, 3, 12), 2, 8)
    summer = schedule.reminder_time(dt.date(2026, 7, 12), 2, 8)
    assert winter.astimezone(dt.UTC).hour == 7  # UTC+1
    assert summer.astimezone(dt.UTC).hour == 6  # UTC+2
    assert schedule.overdue_time(dt.date(2026, 3, 12), 8) == paris(2026, 3, 13)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (paris(2026, 3, 2, 6, 30), paris(2026, 3, 2, 8)),
        (paris(2026, 3, 2, 8), paris(2026, 3, 2, 8)),
        (paris(2026, 3, 2, 19, 59), paris(2026, 3, 2, 19, 59)),
        (paris(2026, 3, 2, 20), paris(2026, 3, 3, 8)),
        (paris(2026, 3, 2, 23, 30), paris(2026, 3, 3, 8)),
    ],
)
def test_sms_wait_for_8_and_stop_at_20(moment: dt.datetime, expected: dt.datetime) -> None:
    assert schedule.clamp_to_sms_window(moment, 8, 20) == expected
    assert schedule.in_sms_window(expected, 8, 20)


def test_the_sms_hours_are_paris_hours_not_utc() -> None:
    nineteen_utc_in_summer = dt.datetime(2026, 7, 1, 19, 0, tzinfo=dt.UTC)  # 21:00 in Paris
    assert not schedule.in_sms_window(nineteen_utc_in_summer, 8, 20)


@pytest.mark.parametrize(
    ("anchor", "days", "expected"),
    [
        (paris(2026, 3, 16, 8), 1, paris(2026, 3, 17)),  # Monday morning -> Tuesday
        (paris(2026, 3, 13, 8), 1, paris(2026, 3, 16)),  # Friday morning -> Monday
        (paris(2026, 3, 16, 17), 1, paris(2026, 3, 18)),  # Monday evening: Tuesday counts
        (paris(2026, 3, 14, 8), 1, paris(2026, 3, 17)),  # Saturday: Monday counts
        (paris(2026, 3, 16, 8), 2, paris(2026, 3, 18)),
        # Thursday 30 April 2026: Friday 1 May is a public holiday, then the weekend.
        (paris(2026, 4, 30, 17), 1, paris(2026, 5, 5)),
    ],
)
def test_escalation_waits_whole_working_days_of_the_national_calendar(
    anchor: dt.datetime, days: int, expected: dt.datetime
) -> None:
    assert schedule.escalation_time(anchor, days, FR, 8) == expected


def test_retries_back_off_exponentially_up_to_a_cap() -> None:
    assert [schedule.retry_delay(n, 60, 600) for n in range(1, 7)] == [60, 120, 240, 480, 600, 600]
