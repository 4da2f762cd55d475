"""Counting time limits.

Expected dates are worked out by hand from a real calendar; the comments give the reasoning.
2026: Easter Sunday is 5 April (Good Friday 3 April, Easter Monday 6 April), Ascension Thursday
14 May, 1 and 8 May are Fridays, 15 August is a Saturday.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from rules.engine.calendars import get_calendar
from rules.engine.periods import (
    NON_WORKING_DAY_POLICIES,
    UNITS,
    Period,
    add_calendar_days,
    add_months,
    add_weeks,
    add_working_days,
    apply_non_working_day_policy,
    count_period,
    days_between,
)

NATIONAL = get_calendar("FR")
MOSELLE = get_calendar("FR", "57")


def test_the_units_and_policies_are_listed() -> None:
    assert UNITS == ("calendar_days", "working_days", "weeks", "months")
    assert NON_WORKING_DAY_POLICIES == ("flag", "next_working_day", "previous_working_day")


# --- calendar days, weeks, months -------------------------------------------------------------


def test_add_calendar_days_crosses_months_and_years() -> None:
    assert add_calendar_days(date(2026, 5, 6), 8) == date(2026, 5, 14)
    # 28 Dec 2025 + 3 = 31 Dec, + 5 more = 5 Jan 2026.
    assert add_calendar_days(date(2025, 12, 28), 8) == date(2026, 1, 5)
    assert add_calendar_days(date(2026, 5, 6), 0) == date(2026, 5, 6)


def test_add_weeks_keeps_the_weekday() -> None:
    # Wed 6 May 2026 + 35 days: 6 + 35 = 41 May = 10 June, a Wednesday.
    assert add_weeks(date(2026, 5, 6), 5) == date(2026, 6, 10)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),  # no 31 Feb; 2026 is not a leap year
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # 2028 is a leap year
        (date(2026, 3, 2), 1, date(2026, 4, 2)),  # the same day of the month
        (date(2026, 3, 31), 1, date(2026, 4, 30)),  # April has 30 days
        (date(2026, 4, 30), 1, date(2026, 5, 30)),  # the 30th stays the 30th, not May's end
        (date(2025, 11, 30), 3, date(2026, 2, 28)),  # Nov -> Feb 2026, which has 28 days
        (date(2027, 11, 30), 3, date(2028, 2, 29)),  # Nov -> Feb 2028, which has 29 days
        (date(2026, 11, 15), 3, date(2027, 2, 15)),  # across the year end
        (date(2025, 12, 31), 2, date(2026, 2, 28)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),  # no 29 Feb 2029
        (date(2026, 3, 31), -1, date(2026, 2, 28)),  # backwards too
        (date(2026, 3, 2), 0, date(2026, 3, 2)),
    ],
)
def test_add_months_keeps_the_day_of_month_or_takes_the_months_last_day(
    start: date, months: int, expected: date
) -> None:
    assert add_months(start, months) == expected


def test_days_between_counts_from_the_first_date_to_the_second() -> None:
    # 10 March to 2 April 2026: 21 days left in March + 2 = 23.
    assert days_between(date(2026, 3, 10), date(2026, 4, 2)) == 23
    assert days_between(date(2026, 4, 2), date(2026, 3, 10)) == -23
    assert days_between(date(2026, 4, 2), date(2026, 4, 2)) == 0
    # ... and 4 May + 23 days is 27 May.
    assert add_calendar_days(date(2026, 5, 4), 23) == date(2026, 5, 27)


# --- working days -----------------------------------------------------------------------------


def test_working_days_skip_easter_monday_nationally() -> None:
    # From Thu 2 Apr 2026: Fri 3 (1), Sat-Sun, Mon 6 Easter Monday, Tue 7 (2), Wed 8 (3).
    due, skipped = add_working_days(date(2026, 4, 2), 3, NATIONAL)
    assert due == date(2026, 4, 8)
    assert skipped == [(date(2026, 4, 6), "Easter Monday")]


def test_working_days_skip_good_friday_too_in_moselle() -> None:
    # From Thu 2 Apr 2026: Fri 3 Good Friday, Sat-Sun, Mon 6 Easter Monday, Tue 7 (1), Wed 8 (2),
    # Thu 9 (3).
    due, skipped = add_working_days(date(2026, 4, 2), 3, MOSELLE)
    assert due == date(2026, 4, 9)
    assert skipped == [(date(2026, 4, 3), "Good Friday"), (date(2026, 4, 6), "Easter Monday")]


def test_skipped_holidays_are_named_in_the_requested_language() -> None:
    _, skipped = add_working_days(date(2026, 4, 2), 3, MOSELLE, language="fr")
    assert skipped == [(date(2026, 4, 3), "Vendredi saint"), (date(2026, 4, 6), "Lundi de Pâques")]


def test_working_days_skip_the_may_holidays() -> None:
    # From Thu 30 Apr 2026: Fri 1 May holiday, Mon 4 (1), Tue 5 (2), Wed 6 (3), Thu 7 (4),
    # Fri 8 May holiday, Mon 11 (5).
    due, skipped = add_working_days(date(2026, 4, 30), 5, NATIONAL)
    assert due == date(2026, 5, 11)
    assert [day for day, _ in skipped] == [date(2026, 5, 1), date(2026, 5, 8)]


def test_working_days_cross_the_year_end_with_saint_stephen_in_moselle() -> None:
    # From Wed 24 Dec 2025. Nationally: Thu 25 Christmas, Fri 26 (1), Sat-Sun, Mon 29 (2).
    # In Moselle Fri 26 is Saint Stephen's Day: Mon 29 (1), Tue 30 (2).
    assert add_working_days(date(2025, 12, 24), 2, NATIONAL)[0] == date(2025, 12, 29)
    due, skipped = add_working_days(date(2025, 12, 24), 2, MOSELLE)
    assert due == date(2025, 12, 30)
    assert [day for day, _ in skipped] == [date(2025, 12, 25), date(2025, 12, 26)]
    # From Wed 31 Dec 2025: Thu 1 Jan 2026 is New Year's Day, Fri 2 Jan (1).
    assert add_working_days(date(2025, 12, 31), 1, NATIONAL)[0] == date(2026, 1, 2)


def test_a_holiday_on_a_weekend_is_not_listed_as_skipped() -> None:
    # From Fri 14 Aug 2026: Sat 15 (Assumption, but a weekend day anyway), Sun 16, Mon 17 (1).
    due, skipped = add_working_days(date(2026, 8, 14), 1, NATIONAL)
    assert due == date(2026, 8, 17)
    assert skipped == []


def test_working_days_count_from_the_day_after_a_weekend_start() -> None:
    # From Sat 4 Apr 2026: Sun 5, Mon 6 Easter Monday, Tue 7 (1).
    assert add_working_days(date(2026, 4, 4), 1, NATIONAL)[0] == date(2026, 4, 7)


def test_working_days_use_the_overseas_departments_own_holidays() -> None:
    # From Fri 24 Apr 2026: Mon 27 Apr is the abolition of slavery in Mayotte, so Tue 28 (1);
    # nationally Mon 27 (1).
    mayotte = get_calendar("FR", "976")
    due, skipped = add_working_days(date(2026, 4, 24), 1, mayotte)
    assert due == date(2026, 4, 28)
    assert skipped == [(date(2026, 4, 27), "Abolition of Slavery")]
    assert add_working_days(date(2026, 4, 24), 1, NATIONAL)[0] == date(2026, 4, 27)


def test_working_days_follow_the_calendars_weekend() -> None:
    # Weekend Friday-Saturday: from Thu 2 Apr 2026, Fri 3 and Sat 4 are off, Sun 5 (1).
    friday_saturday = get_calendar("FR", weekend=(4, 5))
    assert add_working_days(date(2026, 4, 2), 1, friday_saturday) == (date(2026, 4, 5), [])


def test_zero_working_days_is_the_start_day() -> None:
    assert add_working_days(date(2026, 4, 4), 0, NATIONAL) == (date(2026, 4, 4), [])


def test_a_negative_number_of_working_days_is_refused() -> None:
    with pytest.raises(ValueError, match="-1"):
        add_working_days(date(2026, 4, 2), -1, NATIONAL)


# --- non-working-day policies -----------------------------------------------------------------


def test_flag_leaves_a_non_working_day_in_place() -> None:
    assert apply_non_working_day_policy(date(2026, 4, 4), NATIONAL, "flag") == date(2026, 4, 4)


def test_next_working_day_moves_a_saturday_to_monday() -> None:
    # Sat 2 May 2026 -> Sun 3 -> Mon 4 May, an ordinary Monday.
    assert apply_non_working_day_policy(date(2026, 5, 2), NATIONAL, "next_working_day") == date(
        2026, 5, 4
    )


def test_next_working_day_moves_a_saturday_to_tuesday_when_monday_is_a_holiday() -> None:
    # Sat 4 Apr 2026 -> Sun 5 -> Mon 6 Easter Monday -> Tue 7.
    assert apply_non_working_day_policy(date(2026, 4, 4), NATIONAL, "next_working_day") == date(
        2026, 4, 7
    )


def test_previous_working_day_moves_a_saturday_to_friday() -> None:
    assert apply_non_working_day_policy(date(2026, 4, 4), NATIONAL, "previous_working_day") == date(
        2026, 4, 3
    )


def test_previous_working_day_moves_to_thursday_when_friday_is_good_friday_in_moselle() -> None:
    assert apply_non_working_day_policy(date(2026, 4, 4), MOSELLE, "previous_working_day") == date(
        2026, 4, 2
    )


def test_policies_leave_a_working_day_alone() -> None:
    for policy in NON_WORKING_DAY_POLICIES:
        assert apply_non_working_day_policy(date(2026, 4, 7), NATIONAL, policy) == date(2026, 4, 7)


def test_an_unknown_policy_raises_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match="'roll_forward'"):
        apply_non_working_day_policy(date(2026, 4, 4), NATIONAL, "roll_forward")


# --- count_period -----------------------------------------------------------------------------


def test_eight_calendar_days_from_6_may_2026_fall_on_ascension() -> None:
    period = count_period(date(2026, 5, 6), 8, "calendar_days", NATIONAL)
    assert period == Period(
        due=date(2026, 5, 14),
        unadjusted_due=date(2026, 5, 14),
        non_working_day=True,
        non_working_reason="Ascension Day",
        skipped=(),
    )


def test_count_period_names_the_reason_in_french() -> None:
    period = count_period(date(2026, 5, 6), 8, "calendar_days", NATIONAL, language="fr")
    assert period.non_working_reason == "Ascension"


def test_count_period_flags_a_month_end_saturday() -> None:
    # 31 Jan 2026 + 1 month = 28 Feb 2026 (1 Feb 2026 is a Sunday, so the 28th is a Saturday).
    period = count_period(date(2026, 1, 31), 1, "months", NATIONAL)
    assert period.due == date(2026, 2, 28)
    assert period.non_working_day is True
    assert period.non_working_reason == "Saturday"


def test_count_period_in_weeks() -> None:
    period = count_period(date(2026, 5, 6), 5, "weeks", NATIONAL)
    assert period.due == date(2026, 6, 10)  # a Wednesday
    assert period.non_working_day is False
    assert period.non_working_reason is None
    assert period.skipped == ()


def test_count_period_in_working_days_reports_the_skipped_holidays() -> None:
    period = count_period(date(2026, 4, 2), 3, "working_days", MOSELLE)
    assert period.due == period.unadjusted_due == date(2026, 4, 9)
    assert period.non_working_day is False
    assert period.skipped == (
        (date(2026, 4, 3), "Good Friday"),
        (date(2026, 4, 6), "Easter Monday"),
    )


def test_count_period_moves_to_the_next_working_day_and_keeps_the_unadjusted_due() -> None:
    # Thu 2 Apr 2026 + 2 days = Sat 4 Apr; next working day is Tue 7 (Mon 6 is Easter Monday).
    period = count_period(date(2026, 4, 2), 2, "calendar_days", NATIONAL, "next_working_day")
    assert period.unadjusted_due == date(2026, 4, 4)
    assert period.due == date(2026, 4, 7)
    assert period.non_working_day is False
    assert period.non_working_reason is None


def test_count_period_moves_to_the_previous_working_day() -> None:
    # Thu 2 Apr 2026 + 2 days = Sat 4 Apr; in Moselle Fri 3 is Good Friday, so Thu 2.
    period = count_period(date(2026, 4, 2), 2, "calendar_days", MOSELLE, "previous_working_day")
    assert period.unadjusted_due == date(2026, 4, 4)
    assert period.due == date(2026, 4, 2)


@pytest.mark.parametrize("unit", ["calendar_days", "weeks", "months"])
def test_an_offset_of_zero_is_the_start_day(unit: str) -> None:
    period = count_period(date(2026, 4, 4), 0, unit, NATIONAL)
    assert period.due == date(2026, 4, 4)
    assert period.non_working_reason == "Saturday"


def test_an_unknown_unit_raises_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match="'days'"):
        count_period(date(2026, 4, 2), 3, "days", NATIONAL)


def test_an_unknown_policy_in_count_period_raises_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match="'extend'"):
        count_period(date(2026, 4, 2), 3, "calendar_days", NATIONAL, policy="extend")


def test_a_negative_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="-3"):
        count_period(date(2026, 4, 2), -3, "calendar_days", NATIONAL)


def test_a_period_cannot_be_changed() -> None:
    period = count_period(date(2026, 4, 2), 3, "calendar_days", NATIONAL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        period.due = date(2026, 4, 6)  # type: ignore[misc]
