"""Sentences a caseworker can read aloud, built from a rule version and what was counted.

The sentences are built in the reader's language (English or French); the labels they quote
are pack data, translated by the pack's own `translations`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .periods import Period

if TYPE_CHECKING:
    from .pack import DeadlineRuleVersion, PackDefinition

LANGUAGES = ("en", "fr")

MONTHS = {
    "en": (
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December",
    ),
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
        "octobre", "novembre", "décembre",
    ),
}  # fmt: skip
WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
}
UNIT_WORDS = {
    "en": {
        "calendar_days": ("day", "days"),
        "working_days": ("working day", "working days"),
        "weeks": ("week", "weeks"),
        "months": ("month", "months"),
    },
    "fr": {
        "calendar_days": ("jour", "jours"),
        "working_days": ("jour ouvré", "jours ouvrés"),
        "weeks": ("semaine", "semaines"),
        "months": ("mois", "mois"),
    },
}
# No brackets inside brackets: a name that has its own, such as "Préfecture de la Moselle (Metz)",
# is never put between brackets again.
PHRASES = {
    "en": {
        "after": "{amount} after {label} on {date}",
        "how": " ({how})",
        "calendar": ", on the {calendar}",
        "skipped": "; public holidays not counted: {holidays}",
        "month_end": "; that month has no day {day}, so the due date is the last day of the month",
        "suspended": "; suspended by {label} on {date} with {days} left",
        "not_resumed": ", until the event that ends the suspension is recorded.",
        "resumed": "; what was left runs again from {label} on {date}",
        "restarted": "; the full time limit runs again from {label} on {date}",
        "moved": "; {date} falls on {reason}, so the due date moves to {weekday} {new_date}",
        "flagged": "; falls on {reason}; the date is not moved",
        "weekend_reason": "a {weekday}, not a working day",
        "holiday_reason": "a public holiday ({name})",
        "deemed": "at the end of the time limit \u201c{label}\u201d",
        "national": "national calendar",
        "authority_calendar": "calendar of department {department} \u2013 {name}",
        "department_calendar": "calendar of department {department}",
        "chosen_by": " (rule version in force on {date}, {label})",
        "extension": "; the limit may be extended to the next working day, {weekday} {date} "
        "({basis}): check with a lawyer",
        "status_open": "open",
        "status_met": "met",
        "status_missed": "missed",
        "status_suspended": "suspended",
        "status_possibly_open": "may still be possible until {date} \u2014 check with a lawyer",
        "status_possibly_met": "in time only if the limit is extended",
        "event_in_future": "An event is dated after the day of evaluation ({as_of}): {dates}. "
        "Check the date: a typing mistake, or a step that has not happened yet.",
        "event_in_future_title": "Event dated after the day of evaluation",
    },
    "fr": {
        "after": "{amount} à compter du {date} ({label})",
        "how": ", {how}",
        "calendar": ", selon le {calendar}",
        "skipped": " ; jours fériés non décomptés : {holidays}",
        "month_end": " ; ce mois-là n'a pas de {day} : l'échéance est ramenée au dernier jour du "
        "mois",
        "suspended": " ; délai suspendu le {date} ({label}) alors qu'il restait {days}",
        "not_resumed": ", jusqu'à l'événement qui met fin à la suspension.",
        "resumed": " ; le reste du délai court à nouveau à compter du {date} ({label})",
        "restarted": " ; le délai entier recommence à courir à compter du {date} ({label})",
        "moved": " ; le {date} tombe {reason} : l'échéance passe au {weekday} {new_date}",
        "flagged": " ; tombe {reason} : la date n'est pas déplacée",
        "weekend_reason": "un {weekday}, jour non ouvré",
        "holiday_reason": "un jour férié ({name})",
        "deemed": "à l'expiration du délai \u00ab\u00a0{label}\u00a0\u00bb",
        "national": "calendrier national",
        "authority_calendar": "calendrier du département {department} \u2013 {name}",
        "department_calendar": "calendrier du département {department}",
        "chosen_by": " (version de la règle en vigueur le {date}, {label})",
        "extension": " ; l'échéance peut être prorogée au premier jour ouvré suivant, le "
        "{weekday} {date} ({basis}) : à vérifier avec un juriste",
        "status_open": "en cours",
        "status_met": "respecté",
        "status_missed": "dépassé",
        "status_suspended": "suspendu",
        "status_possibly_open": "peut-être encore possible jusqu'au {date} \u2014 à vérifier "
        "avec un juriste",
        "status_possibly_met": "dans le délai seulement si l'échéance est prorogée",
        "event_in_future": "Un événement est daté après le jour de l'évaluation ({as_of}) : "
        "{dates}. Vérifiez la date : erreur de saisie, ou étape qui n'a pas encore eu lieu.",
        "event_in_future_title": "Événement daté après le jour de l'évaluation",
    },
}


def language_of(language: str) -> str:
    """The supported language for a code such as "fr", "fr-FR" or "en_GB" (English otherwise)."""
    if language in LANGUAGES:  # already one: the engine asks this for every sentence it writes
        return language
    primary = language.replace("-", "_").split("_")[0].lower()
    return primary if primary in LANGUAGES else "en"


def phrase(language: str, key: str, /, **values: Any) -> str:
    return PHRASES[language_of(language)][key].format(**values)


def format_date(value: str | dt.date, language: str = "en") -> str:
    """2026-05-06 -> '6 May 2026' or '6 mai 2026' (and '1er mai 2026')."""
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    language = language_of(language)
    number = "1er" if language == "fr" and day.day == 1 else str(day.day)
    return f"{number} {MONTHS[language][day.month - 1]} {day.year}"


def date_formatter(language: str) -> Callable[[str], str]:
    return lambda value: format_date(value, language)


def amount_of(number: int, unit: str, language: str) -> str:
    """ "1 day", "3 days", « 1 jour », « 3 jours »: the unit agrees with the number."""
    lang = language_of(language)
    singular, plural = UNIT_WORDS[lang].get(unit, (unit, unit))
    return f"{number} {singular if abs(number) == 1 else plural}"


def holiday_names(names: list[str], language: str) -> str:
    """Holidays as a list in a sentence: in French a name that starts with a weekday takes a
    small letter (« lundi de Pâques », « vendredi saint »)."""
    lang = language_of(language)
    if lang == "fr":
        names = [
            name[:1].lower() + name[1:] if name.split(" ")[0].lower() in WEEKDAYS["fr"] else name
            for name in names
        ]
    return ", ".join(names)


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
    label_of: Callable[[str], str] = lambda text: text,
    language: str = "en",
    next_working_day: dt.date | None = None,
    chosen_by: dict[str, Any] | None = None,
) -> str:
    """One sentence: what was counted, from what, on which calendar, and where it landed."""
    lang = language_of(language)
    amount = amount_of(version.offset, version.unit, lang)

    def event_label(code: str) -> str:
        event_type = pack.event_type(code)
        return lower_first(label_of(event_type.label)) if event_type else code

    text = phrase(
        lang,
        "after",
        amount=amount,
        label=lower_first(trigger_label),
        date=format_date(trigger_date, lang),
    )
    if trigger_how:
        text += phrase(lang, "how", how=trigger_how)
    if chosen_by is not None:
        text += phrase(
            lang,
            "chosen_by",
            date=format_date(chosen_by["date"], lang),
            label=event_label(chosen_by["type"]),
        )
    if version.unit == "working_days":
        text += phrase(lang, "calendar", calendar=calendar_name)
        if period.skipped:
            names = holiday_names([name for _, name in period.skipped], lang)
            text += phrase(lang, "skipped", holidays=names)
    if version.unit == "months" and period.unadjusted_due.day != trigger_date.day:
        text += phrase(lang, "month_end", day=trigger_date.day)
    if suspension is not None:
        started = suspension["suspended_by"]
        text += phrase(
            lang,
            "suspended",
            label=event_label(started["type"]),
            date=format_date(started["date"], lang),
            days=amount_of(suspension["remaining_days"], "calendar_days", lang),
        )
        resumed = suspension["resumed_by"]
        if resumed is None:
            return text + phrase(lang, "not_resumed")
        name = "resumed" if version.resumption == "remaining" else "restarted"
        text += phrase(
            lang, name, label=event_label(resumed["type"]), date=format_date(resumed["date"], lang)
        )
    if final is None:
        return text + "."
    if final.due != final.unadjusted_due:
        text += phrase(
            lang,
            "moved",
            date=format_date(final.unadjusted_due, lang),
            reason=_reason(WEEKDAYS[lang][final.unadjusted_due.weekday()], lang),
            weekday=WEEKDAYS[lang][final.due.weekday()],
            new_date=format_date(final.due, lang),
        )
    elif final.non_working_day:
        text += phrase(lang, "flagged", reason=_reason(final.non_working_reason, lang))
    if next_working_day is not None:
        text += phrase(
            lang,
            "extension",
            weekday=WEEKDAYS[lang][next_working_day.weekday()],
            date=format_date(next_working_day, lang),
            basis=version.extension_basis,
        )
    return text + "."


def _reason(reason: str | None, language: str) -> str:
    """Why a day is not worked, as a phrase: "a Saturday, not a working day", "a public holiday
    (Ascension Day)"."""
    weekdays = [*WEEKDAYS["en"], *WEEKDAYS["fr"]]
    if reason in weekdays:
        return phrase(language, "weekend_reason", weekday=reason)
    return phrase(language, "holiday_reason", name=reason or "")
