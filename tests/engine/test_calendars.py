"""Calendars: weekends and public holidays from the `holidays` package.

Weekdays in comments come from a real 2025-2026 calendar: 1 January 2026 is a Thursday, Easter
Sunday 2026 is 5 April, so Good Friday is Friday 3 April and Easter Monday Monday 6 April.
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import holidays
import pytest

from rules.engine.calendars import (
    Calendar,
    CalendarError,
    clear_holiday_cache,
    get_calendar,
    weekday_name,
)

NATIONAL = get_calendar("FR")
MOSELLE = get_calendar("FR", "57")


def test_good_friday_is_a_holiday_in_moselle_but_not_nationally() -> None:
    good_friday = date(2026, 4, 3)  # a Friday
    assert MOSELLE.holiday_name(good_friday) == "Good Friday"
    assert not MOSELLE.is_working_day(good_friday)
    assert NATIONAL.holiday_name(good_friday) is None
    assert NATIONAL.is_working_day(good_friday)


def test_saint_stephens_day_is_a_holiday_in_moselle_only() -> None:
    st_stephen = date(2025, 12, 26)  # a Friday
    assert not MOSELLE.is_working_day(st_stephen)
    assert MOSELLE.holiday_name(st_stephen) == "Saint Stephen's Day"
    assert NATIONAL.is_working_day(st_stephen)


def test_national_holidays_apply_in_moselle_too() -> None:
    easter_monday = date(2026, 4, 6)
    assert NATIONAL.holiday_name(easter_monday) == "Easter Monday"
    assert MOSELLE.holiday_name(easter_monday) == "Easter Monday"


def test_ascension_2026_is_thursday_14_may() -> None:
    ascension = date(2026, 5, 14)  # Easter 5 April + 39 days; a Thursday
    assert NATIONAL.holiday_name(ascension) == "Ascension Day"
    assert NATIONAL.holiday_name(ascension, "fr") == "Ascension"
    assert NATIONAL.non_working_reason(ascension) == "Ascension Day"


# Each overseas department's abolition-of-slavery day, as the holidays package gives it.
@pytest.mark.parametrize(
    ("subdivision", "day"),
    [
        ("976", date(2026, 4, 27)),  # Mayotte, a Monday
        ("972", date(2026, 5, 22)),  # Martinique, a Friday
        ("971", date(2026, 5, 27)),  # Guadeloupe, a Wednesday
        ("973", date(2026, 6, 10)),  # Guyane, a Wednesday
        ("974", date(2026, 12, 20)),  # La Réunion, a Sunday
    ],
)
def test_abolition_of_slavery_is_a_holiday_only_in_its_overseas_department(
    subdivision: str, day: date
) -> None:
    overseas = get_calendar("FR", subdivision)
    assert overseas.holiday_name(day) == "Abolition of Slavery"
    assert overseas.holiday_name(day, "fr") == "Abolition de l'esclavage"
    assert NATIONAL.holiday_name(day) is None
    assert MOSELLE.holiday_name(day) is None


def test_an_overseas_calendar_keeps_the_national_holidays() -> None:
    mayotte = get_calendar("FR", "976")
    assert mayotte.holiday_name(date(2026, 7, 14)) == "National Day"


def test_weekends_are_not_working_days() -> None:
    assert not NATIONAL.is_working_day(date(2026, 4, 4))  # Saturday
    assert not NATIONAL.is_working_day(date(2026, 4, 5))  # Sunday
    assert NATIONAL.is_working_day(date(2026, 4, 7))  # Tuesday


def test_non_working_reason_names_the_weekday_in_english_or_french() -> None:
    saturday, sunday = date(2026, 4, 4), date(2026, 4, 5)
    assert NATIONAL.non_working_reason(saturday) == "Saturday"
    assert NATIONAL.non_working_reason(sunday) == "Sunday"
    assert NATIONAL.non_working_reason(saturday, "fr") == "samedi"
    assert NATIONAL.non_working_reason(sunday, "fr_FR") == "dimanche"


def test_non_working_reason_names_a_holiday_that_falls_on_a_weekend() -> None:
    assumption = date(2026, 8, 15)  # a Saturday
    assert NATIONAL.non_working_reason(assumption) == "Assumption Day"
    assert NATIONAL.non_working_reason(assumption, "fr") == "Assomption"
    reunion_abolition = date(2026, 12, 20)  # a Sunday
    assert get_calendar("FR", "974").non_working_reason(reunion_abolition) == (
        "Abolition of Slavery"
    )


def test_non_working_reason_is_none_on_a_working_day() -> None:
    assert NATIONAL.non_working_reason(date(2026, 4, 7)) is None  # Tuesday, no holiday


def test_holiday_names_follow_the_language() -> None:
    good_friday = date(2026, 4, 3)
    assert MOSELLE.holiday_name(good_friday, "en_US") == "Good Friday"
    assert MOSELLE.holiday_name(good_friday, "fr") == "Vendredi saint"
    # A regional variant or a bare language code picks the package's translation of it.
    assert MOSELLE.holiday_name(good_friday, "fr_FR") == "Vendredi saint"
    assert MOSELLE.holiday_name(good_friday, "fr-FR") == "Vendredi saint"
    assert MOSELLE.holiday_name(good_friday, "en") == "Good Friday"


def test_an_unsupported_language_is_refused_rather_than_taken_from_the_locale() -> None:
    with pytest.raises(CalendarError, match="'de'"):
        NATIONAL.holiday_name(date(2026, 4, 6), "de")


def test_weekday_name_is_french_for_french_languages_only() -> None:
    monday = date(2026, 4, 6)
    assert weekday_name(monday) == "Monday"
    assert weekday_name(monday, "fr") == "lundi"
    assert weekday_name(monday, "uk") == "Monday"


def test_holidays_between_is_inclusive_and_in_date_order() -> None:
    # National holidays from Easter Monday to Ascension 2026, both ends included.
    assert NATIONAL.holidays_between(date(2026, 4, 6), date(2026, 5, 14)) == [
        (date(2026, 4, 6), "Easter Monday"),
        (date(2026, 5, 1), "Labor Day"),
        (date(2026, 5, 8), "Victory Day"),
        (date(2026, 5, 14), "Ascension Day"),
    ]


def test_holidays_between_uses_the_subdivision_and_crosses_years() -> None:
    assert MOSELLE.holidays_between(date(2025, 12, 20), date(2026, 1, 2)) == [
        (date(2025, 12, 25), "Christmas Day"),
        (date(2025, 12, 26), "Saint Stephen's Day"),
        (date(2026, 1, 1), "New Year's Day"),
    ]


def test_holidays_between_includes_holidays_on_weekends() -> None:
    assert NATIONAL.holidays_between(date(2026, 8, 15), date(2026, 8, 16)) == [
        (date(2026, 8, 15), "Assumption Day"),  # a Saturday
    ]


def test_holidays_between_is_empty_when_the_range_is_reversed() -> None:
    assert NATIONAL.holidays_between(date(2026, 5, 14), date(2026, 4, 6)) == []


def test_label_names_the_country_and_subdivision() -> None:
    assert NATIONAL.label == "FR"
    assert MOSELLE.label == "FR-57"
    assert get_calendar("FR", "971").label == "FR-971"


def test_get_calendar_returns_the_same_cached_calendar() -> None:
    assert get_calendar("FR", "57") is get_calendar("FR", "57", weekend=[6, 5])
    assert get_calendar("fr") is get_calendar("FR")


def test_get_calendar_defaults_to_a_saturday_and_sunday_weekend() -> None:
    assert NATIONAL.weekend == frozenset({5, 6})
    assert NATIONAL.subdivision is None


def test_get_calendar_accepts_a_subdivision_alias_and_stores_its_code() -> None:
    assert get_calendar("FR", "Moselle") is MOSELLE
    assert get_calendar("FR", "Mayotte").subdivision == "976"


def test_a_calendar_built_directly_equals_the_one_from_get_calendar() -> None:
    assert Calendar("FR", "57", frozenset({5, 6})) == MOSELLE


def test_unknown_subdivision_raises_a_calendar_error_naming_it() -> None:
    # The package has no department 67: Bas-Rhin's calendar is chosen in rule data.
    with pytest.raises(CalendarError, match="'67'"):
        get_calendar("FR", "67")


def test_unknown_country_raises_a_calendar_error_naming_it() -> None:
    with pytest.raises(CalendarError, match="'XX'"):
        get_calendar("XX")


def test_calendar_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="'999'"):
        get_calendar("FR", "999")


def test_a_calendar_built_directly_is_validated_too() -> None:
    with pytest.raises(CalendarError, match="'68'"):
        Calendar("FR", "68", frozenset({5, 6}))
    with pytest.raises(CalendarError, match="alias"):
        Calendar("FR", "Moselle", frozenset({5, 6}))


def test_weekend_must_hold_weekday_numbers_and_leave_a_working_day() -> None:
    with pytest.raises(CalendarError, match="weekday numbers"):
        get_calendar("FR", weekend=(5, 7))
    with pytest.raises(CalendarError, match="no working day"):
        get_calendar("FR", weekend=range(7))


def test_the_weekend_is_the_callers_choice() -> None:
    friday_saturday = get_calendar("FR", weekend=(4, 5))
    assert not friday_saturday.is_working_day(date(2026, 4, 10))  # Friday
    assert friday_saturday.non_working_reason(date(2026, 4, 10)) == "Friday"
    assert friday_saturday.is_working_day(date(2026, 4, 12))  # Sunday
    assert not friday_saturday.is_working_day(date(2026, 4, 6))  # Easter Monday still counts


def test_a_year_the_package_does_not_cover_raises_a_calendar_error() -> None:
    with pytest.raises(CalendarError, match="year 1000"):
        NATIONAL.is_working_day(date(1000, 1, 1))


def test_preload_builds_the_tables_ahead_of_lookups() -> None:
    clear_holiday_cache()
    MOSELLE.preload(range(2026, 2028), language="fr")
    assert MOSELLE.holiday_name(date(2027, 3, 26), "fr") == "Vendredi saint"  # Easter 28 Mar 2027


@pytest.fixture
def fast_thread_switching() -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # interleave threads as often as possible
    yield
    sys.setswitchinterval(previous)


@pytest.mark.usefixtures("fast_thread_switching")
def test_threads_querying_different_years_concurrently_get_correct_answers() -> None:
    subdivisions: list[str | None] = [None, "57", "971"]
    years = range(1990, 2071)
    # What the package says, from objects no other thread touches.
    expected = {
        (subdivision, year): sorted(
            holidays.country_holidays(
                "FR", subdiv=subdivision, years=year, language="en_US"
            ).items()
        )
        for subdivision in subdivisions
        for year in years
    }
    clear_holiday_cache()
    thread_count = 8
    barrier = threading.Barrier(thread_count)

    def query(seed: int) -> list[str]:
        failures: list[str] = []
        work = list(expected)
        random.Random(seed).shuffle(work)
        barrier.wait()  # all threads start on an empty cache together
        for subdivision, year in work:
            calendar = get_calendar("FR", subdivision)
            want = expected[(subdivision, year)]
            for day, name in want:
                if calendar.is_working_day(day) or calendar.holiday_name(day) != name:
                    failures.append(f"{calendar.label} {day}: not {name!r}")
            got = calendar.holidays_between(date(year, 1, 1), date(year, 12, 31))
            if got != want:
                failures.append(f"{calendar.label} {year}: {got!r} != {want!r}")
        return failures

    with ThreadPoolExecutor(max_workers=thread_count) as pool:
        results = [pool.submit(query, seed) for seed in range(thread_count)]
        # result() re-raises an exception from the thread, failing the test.
        failures = [failure for result in results for failure in result.result(timeout=120)]
    assert failures == []
