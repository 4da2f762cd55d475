"""Working-day calendars: weekends plus the public holidays of the `holidays` package.

Pure Python: no Django, no rule engine, and no procedure knowledge. Callers say which country,
which `holidays` subdivision and which weekdays are the weekend; rule data decides which
calendar a deadline uses.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import TypeAlias

import holidays
from holidays.constants import DEFAULT_END_YEAR

__all__ = [
    "LAST_HOLIDAY_YEAR",
    "Calendar",
    "CalendarError",
    "HolidayChange",
    "clear_holiday_cache",
    "get_calendar",
    "weekday_name",
]

_WEEKDAY_NAMES_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAY_NAMES_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_DAYS_IN_A_WEEK = len(_WEEKDAY_NAMES_EN)


# The last year the `holidays` package has tables for (its countries all end there): a working
# day after it cannot be counted. rules/engine/inputs.py derives the accepted dates from it.
LAST_HOLIDAY_YEAR: int = DEFAULT_END_YEAR


class CalendarError(ValueError):
    """A country, subdivision, language, weekend or year the calendars cannot serve."""


def weekday_name(day: date, language: str = "en_US") -> str:
    """Name the day's weekday: in French ("samedi") when language starts with "fr", else English."""
    names = _WEEKDAY_NAMES_FR if language.lower().startswith("fr") else _WEEKDAY_NAMES_EN
    return names[day.weekday()]


# One immutable {date: name} table per (country, subdivision, language, year). A `holidays`
# object fills its dict lazily when asked about a new year, which is not safe while other
# threads read it; so each table is built whole, under the lock, from a private object, and
# only published once complete. Readers take no lock: a dict read is atomic.
_HolidayKey: TypeAlias = tuple[str, str | None, str | None, int]
_tables: dict[_HolidayKey, Mapping[date, str]] = {}
_tables_lock = threading.Lock()


def clear_holiday_cache() -> None:
    """Forget every built holiday table (tests use it; tables rebuild on demand)."""
    with _tables_lock:
        _tables.clear()
        _adjusted.clear()


@cache
def _entity_class(country: str) -> type[holidays.HolidayBase]:
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise CalendarError(
            f"unknown country {country!r}: the holidays package has no calendar for it"
        )
    return type(holidays.country_holidays(country, years=[]))


@cache
def _canonical_subdivision(country: str, subdivision: str) -> str:
    entity = _entity_class(country)
    if subdivision in entity.subdivisions:
        return subdivision
    aliases: Mapping[str, str] = getattr(entity, "subdivisions_aliases", {})
    if subdivision in aliases:
        return aliases[subdivision]
    raise CalendarError(
        f"unknown subdivision {subdivision!r} for country {country!r}: "
        f"the holidays package knows {', '.join(entity.subdivisions) or 'none'}"
    )


@cache
def _holiday_language(country: str, language: str) -> str | None:
    """The `holidays` language code to ask for, always one the entity supports.

    An unsupported language must never reach `holidays`: it would then name holidays in the
    language of the process's locale (LANG), which differs between machines.
    """
    supported: tuple[str, ...] = tuple(_entity_class(country).supported_languages)
    if not supported:
        return None  # the entity has no translations: one set of names whatever is asked
    if language in supported:
        return language
    primary = language.replace("-", "_").split("_")[0].lower()
    same_language = [code for code in supported if code.split("_")[0].lower() == primary]
    if same_language:
        return min(same_language, key=lambda code: (code.lower() != primary, code))
    raise CalendarError(
        f"unsupported language {language!r} for country {country!r}: "
        f"use one of {', '.join(supported)}"
    )


@cache
def _membership_language(country: str) -> str | None:
    # Which days are holidays does not depend on the language; pick any supported one.
    supported = tuple(_entity_class(country).supported_languages)
    return supported[0] if supported else None


def _build_table(
    country: str, subdivision: str | None, language: str | None, year: int
) -> Mapping[date, str]:
    entity = _entity_class(country)
    first, last = entity.start_year, entity.end_year
    if not first <= year <= last:
        raise CalendarError(
            f"year {year} is outside the {country} holidays known to the holidays package "
            f"({first}-{last})"
        )
    # Neighbouring years too: a rule of year N+1 (e.g. an observed day) can fall in year N.
    years = [y for y in (year - 1, year, year + 1) if first <= y <= last]
    source = holidays.country_holidays(
        country, subdiv=subdivision, years=years, language=language, expand=False
    )
    return {day: name for day, name in source.items() if day.year == year}


def _holiday_table(
    country: str, subdivision: str | None, language: str | None, year: int
) -> Mapping[date, str]:
    key: _HolidayKey = (country, subdivision, language, year)
    table = _tables.get(key)
    if table is None:
        with _tables_lock:
            table = _tables.get(key)
            if table is None:
                table = _build_table(country, subdivision, language, year)
                _tables[key] = table
    return table


@dataclass(frozen=True)
class HolidayChange:
    """A day added to or removed from a calendar's public holidays, on top of `holidays`.

    `day` is one date; or `month_day` is (month, day) of every year (29 February: leap years
    only); or, to remove a movable holiday, `package_name` is its name in the `holidays` package
    (in English, e.g. "Mi-Careme"), removed whatever its date. The change holds on the days from
    `valid_from` to `valid_to` (None: unbounded).
    """

    add: bool
    name: str
    day: date | None = None
    month_day: tuple[int, int] | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    # The name in other languages: (language prefix such as "fr", name).
    names: tuple[tuple[str, str], ...] = ()
    package_name: str | None = None

    def holds_on(self, day: date) -> bool:
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_to is None or day <= self.valid_to

    def on(self, year: int) -> date | None:
        """The day it concerns in that year, if any and if the change holds on it."""
        if self.day is not None:
            found: date | None = self.day if self.day.year == year else None
        elif self.month_day is not None:
            try:
                found = date(year, *self.month_day)
            except ValueError:  # 29 February of a common year
                found = None
        else:
            found = None
        if found is None or not self.holds_on(found):
            return None
        return found

    def name_in(self, language: str | None) -> str:
        primary = (language or "").replace("-", "_").split("_")[0].lower()
        return next((text for code, text in self.names if code == primary), self.name)


_AdjustedKey: TypeAlias = tuple["Calendar", str | None, int]
_adjusted: dict[_AdjustedKey, Mapping[date, str]] = {}


@dataclass(frozen=True)
class Calendar:
    """Which days are not working days: a weekend and a `holidays` country or subdivision.

    `changes` add or remove days on top of the package's holidays (a rule pack's data), applied
    in order: a later change of the same day wins.
    """

    country: str  # e.g. "FR"
    subdivision: str | None  # a `holidays` subdivision code, e.g. "57", "971"; None: national
    weekend: frozenset[int]  # weekday numbers, Monday=0 ... Sunday=6
    changes: tuple[HolidayChange, ...] = ()

    def _table(self, language: str | None, year: int) -> Mapping[date, str]:
        base = _holiday_table(self.country, self.subdivision, language, year)
        if not self.changes:
            return base
        key: _AdjustedKey = (self, language, year)
        table = _adjusted.get(key)
        if table is None:
            adjusted = dict(base)
            for change in self.changes:
                if change.package_name is not None:
                    for named in self.package_days_named(change.package_name, year):
                        if change.holds_on(named):
                            adjusted.pop(named, None)
                    continue
                day = change.on(year)
                if day is None:
                    continue
                if change.add:
                    adjusted[day] = change.name_in(language)
                else:
                    adjusted.pop(day, None)
            table = dict(sorted(adjusted.items()))
            with _tables_lock:
                _adjusted[key] = table
        return table

    def __post_init__(self) -> None:
        _entity_class(self.country)
        if self.subdivision is not None:
            canonical = _canonical_subdivision(self.country, self.subdivision)
            if canonical != self.subdivision:
                raise CalendarError(
                    f"subdivision {self.subdivision!r} is an alias: use {canonical!r} "
                    "(get_calendar() accepts aliases)"
                )
        weekend = frozenset(self.weekend)
        if not all(isinstance(day, int) and 0 <= day < _DAYS_IN_A_WEEK for day in weekend):
            raise CalendarError(
                f"weekend {sorted(weekend)!r} must hold weekday numbers 0 (Monday) to 6 (Sunday)"
            )
        if len(weekend) == _DAYS_IN_A_WEEK:
            raise CalendarError("a weekend of all seven days leaves no working day")
        object.__setattr__(self, "weekend", weekend)

    def package_days_named(self, name: str, year: int) -> list[date]:
        """The days of a year the `holidays` package names so (in English), before any change."""
        english = _holiday_language(self.country, "en_US")
        table = _holiday_table(self.country, self.subdivision, english, year)
        return [day for day, names in table.items() if name in names.split("; ")]

    @property
    def label(self) -> str:
        """The calendar's short name: "FR" when national, "FR-57" for a subdivision."""
        if self.subdivision is None:
            return self.country
        return f"{self.country}-{self.subdivision}"

    def holiday_name(self, day: date, language: str = "en_US") -> str | None:
        """The public holiday's name on that day, or None (several are joined with "; ")."""
        table = self._table(_holiday_language(self.country, language), day.year)
        return table.get(day)

    def is_holiday(self, day: date) -> bool:
        table = self._table(_membership_language(self.country), day.year)
        return day in table

    def is_weekend(self, day: date) -> bool:
        return day.weekday() in self.weekend

    def is_working_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and not self.is_holiday(day)

    def non_working_reason(self, day: date, language: str = "en_US") -> str | None:
        """Why the day is not a working day: its holiday's name, else its weekday's; else None."""
        name = self.holiday_name(day, language)
        if name is not None:
            return name
        if day.weekday() in self.weekend:
            return weekday_name(day, language)
        return None

    def holidays_between(
        self, start: date, end: date, language: str = "en_US"
    ) -> list[tuple[date, str]]:
        """The holidays from start to end inclusive (weekend ones too), in date order."""
        if start > end:
            return []
        code = _holiday_language(self.country, language)
        found: list[tuple[date, str]] = []
        for year in range(start.year, end.year + 1):
            table = self._table(code, year)
            found.extend((day, name) for day, name in table.items() if start <= day <= end)
        found.sort()
        return found

    def preload(self, years: Iterable[int], language: str = "en_US") -> None:
        """Build the holiday tables of these years now, e.g. at start-up, not on a first request."""
        codes = {_membership_language(self.country), _holiday_language(self.country, language)}
        for year in years:
            for code in codes:
                self._table(code, year)


def get_calendar(
    country: str,
    subdivision: str | None = None,
    weekend: Iterable[int] = (5, 6),
    changes: tuple[HolidayChange, ...] = (),
) -> Calendar:
    """The validated, shared calendar of a country or one of its `holidays` subdivisions.

    The country code is case-insensitive; a subdivision may be given by a `holidays` alias
    (e.g. "Moselle") and is stored as its code ("57").
    """
    code = country.strip().upper()
    if subdivision is not None:
        subdivision = _canonical_subdivision(code, subdivision)
    return _shared_calendar(code, subdivision, frozenset(weekend), changes)


@cache
def _shared_calendar(
    country: str,
    subdivision: str | None,
    weekend: frozenset[int],
    changes: tuple[HolidayChange, ...],
) -> Calendar:
    return Calendar(country=country, subdivision=subdivision, weekend=weekend, changes=changes)
