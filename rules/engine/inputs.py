"""A case's facts as the engine takes them, parsed from a request with field-named errors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import orjson

from .calendars import LAST_HOLIDAY_YEAR
from .explain import LANGUAGES, lower_first
from .pack import PackDefinition

MAX_EVENTS = 500
MAX_NEW_ELEMENTS = 100
MAX_PREVIOUS = 1000
MAX_DESCRIPTION = 2000
# The one range of years a case's dates may have, everywhere: the API, the command, the case
# forms and the admin. Dates far outside any asylum file are typing mistakes (2126 for 2026);
# the last year leaves DEADLINE_HORIZON_YEARS of holiday calendar after it, so that a deadline
# counted from any accepted date still has its public holidays (services.py refuses the rare
# one that would not, rather than failing).
DEADLINE_HORIZON_YEARS = 10
MIN_YEAR = 1950
MAX_YEAR = LAST_HOLIDAY_YEAR - DEADLINE_HORIZON_YEARS

TOP_LEVEL_FIELDS = (
    "procedure",
    "department",
    "previous_reexaminations",
    "as_of",
    "events",
    "new_elements",
    "language",
)


class InputError(ValueError):
    """Malformed input; `errors` is a list of {"field": ..., "message": ...}."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        # Field names and values echoed from the request may hold lone surrogates ("\ud800"),
        # which no UTF-8 encoder accepts: escape them so the error itself can be sent.
        self.errors = [{k: _printable(v) for k, v in e.items()} for e in errors]
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in self.errors[:10]))


def unencodable_field(value: Any, path: str = "") -> str | None:
    """The path of the first string (key or value) in parsed JSON that UTF-8 cannot encode.

    JSON may spell a lone surrogate ("\\ud800"); no database, log or response can hold one.
    """
    if not _unencodable(value):  # the usual answer, found without writing every path
        return None
    return _unencodable_path(value, path)


def _unencodable_path(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            found = _unencodable_path(key, _printable(child)) or _unencodable_path(
                item, _printable(child)
            )
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _unencodable_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _unencodable(value: Any) -> bool:
    """Whether parsed JSON holds a string (key or value) that UTF-8 cannot encode.

    A loop over a stack, not recursion: a deeply nested body is the parser's to refuse.
    """
    try:
        # One call in C for the usual answer: orjson refuses a string UTF-8 cannot encode.
        orjson.dumps(value)
    except orjson.JSONEncodeError:
        pass  # a lone surrogate, or what orjson does not write (a non-string key, a huge integer)
    else:
        return False
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass(frozen=True)
class Event:
    type: str
    date: dt.date
    outcome: str | None = None


@dataclass(frozen=True)
class NewElement:
    date: dt.date
    known_on: dt.date | None = None
    description: str = ""


@dataclass(frozen=True)
class CaseFacts:
    department: str
    events: tuple[Event, ...] = ()
    new_elements: tuple[NewElement, ...] = ()
    previous_reexaminations: int = 0
    as_of: dt.date | None = None
    # The language of the texts in the result (codes and dates do not depend on it).
    language: str = "en"


def parse_date(value: Any) -> dt.date:
    """Parse a strict YYYY-MM-DD string in the supported range; ValueError with a message."""
    if not isinstance(value, str):
        raise ValueError("expected a date as a YYYY-MM-DD string")
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise ValueError("not a valid date (expected YYYY-MM-DD)")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError("not a valid date") from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValueError(f"year out of range ({MIN_YEAR}-{MAX_YEAR})")
    return day


def normalise_department(value: str) -> str:
    """INSEE department codes: letters in any case, a one-digit code zero-padded."""
    code = value.strip().upper()
    if code.isdigit() and len(code) == 1:
        code = "0" + code
    return code


def _check_order(events: list[Event], types: dict[str, Any], error: Any) -> None:
    """Refuse an event dated before the first event of a type it must follow (pack data)."""
    first: dict[str, dt.date] = {}
    for event in events:
        if event.type not in first or event.date < first[event.type]:
            first[event.type] = event.date
    for i, event in enumerate(events):
        for other in types[event.type].not_before:
            if other in first and event.date < first[other]:
                error(
                    f"events[{i}].date",
                    f"{types[event.type].label} cannot be dated before "
                    f"{lower_first(types[other].label)} ({first[other].isoformat()})",
                )


def parse_case(
    payload: Any, pack: PackDefinition, departments: frozenset[str], today: dt.date
) -> CaseFacts:
    """Validate a request body against a pack; raise InputError naming every bad field."""
    errors: list[dict[str, str]] = []

    def error(field: str, message: str) -> None:
        errors.append({"field": field, "message": message})

    if not isinstance(payload, dict):
        raise InputError([{"field": "", "message": "expected a JSON object"}])
    for name in payload:
        if name not in TOP_LEVEL_FIELDS:
            error(str(name), "unknown field")

    language = "en"
    raw_language = payload.get("language")
    if raw_language is not None:
        if not isinstance(raw_language, str) or raw_language not in LANGUAGES:
            error("language", f"expected one of {', '.join(LANGUAGES)}")
        else:
            language = raw_language

    as_of = today
    if payload.get("as_of") is not None:
        try:
            as_of = parse_date(payload["as_of"])
        except ValueError as exc:
            error("as_of", str(exc))

    department = ""
    raw_department = payload.get("department")
    if raw_department is None:
        error("department", "required")
    elif not isinstance(raw_department, str):
        error("department", 'expected a department code as a string, e.g. "54" or "2A"')
    else:
        department = normalise_department(raw_department)
        if department not in departments:
            error("department", f"{raw_department!r} is not a department code this procedure knows")

    previous = payload.get("previous_reexaminations", 0)
    if previous is None:
        previous = 0
    if isinstance(previous, bool) or not isinstance(previous, int):
        error("previous_reexaminations", "expected a whole number")
        previous = 0
    elif previous < 0:
        error("previous_reexaminations", "must not be negative")
    elif previous > MAX_PREVIOUS:
        error("previous_reexaminations", f"at most {MAX_PREVIOUS}")

    events: list[Event] = []
    raw_events = payload.get("events", [])
    if raw_events is None:
        raw_events = []
    if not isinstance(raw_events, list):
        error("events", "expected a list")
        raw_events = []
    elif len(raw_events) > MAX_EVENTS:
        error("events", f"at most {MAX_EVENTS} events")
        raw_events = []
    types = {e.code: e for e in pack.event_types}
    for i, raw in enumerate(raw_events):
        path = f"events[{i}]"
        if not isinstance(raw, dict):
            error(path, "expected an object with type and date")
            continue
        for name in raw:
            if name not in ("type", "date", "outcome"):
                error(f"{path}.{name}", "unknown field")
        event_type = raw.get("type")
        definition = types.get(event_type) if isinstance(event_type, str) else None
        if event_type is None:
            error(f"{path}.type", "required")
        elif definition is None:
            error(f"{path}.type", f"unknown event type {event_type!r}")
        date = None
        if raw.get("date") is None:
            error(f"{path}.date", "required")
        else:
            try:
                date = parse_date(raw["date"])
            except ValueError as exc:
                error(f"{path}.date", str(exc))
        outcome = raw.get("outcome")
        if definition is not None:
            if definition.outcomes:
                if outcome is None:
                    error(
                        f"{path}.outcome",
                        f"required for {definition.code}: one of {', '.join(definition.outcomes)}",
                    )
                elif outcome not in definition.outcomes:
                    error(
                        f"{path}.outcome",
                        f"unknown outcome {outcome!r}: one of {', '.join(definition.outcomes)}",
                    )
            elif outcome is not None:
                error(f"{path}.outcome", f"{definition.code} takes no outcome")
        if definition is not None and date is not None:
            events.append(Event(definition.code, date, outcome if definition.outcomes else None))

    if not errors:
        _check_order(events, types, error)

    elements: list[NewElement] = []
    raw_elements = payload.get("new_elements", [])
    if raw_elements is None:
        raw_elements = []
    if not isinstance(raw_elements, list):
        error("new_elements", "expected a list")
        raw_elements = []
    elif len(raw_elements) > MAX_NEW_ELEMENTS:
        error("new_elements", f"at most {MAX_NEW_ELEMENTS} new elements")
        raw_elements = []
    for i, raw in enumerate(raw_elements):
        path = f"new_elements[{i}]"
        if not isinstance(raw, dict):
            error(path, "expected an object with a date")
            continue
        for name in raw:
            if name not in ("date", "known_on", "description"):
                error(f"{path}.{name}", "unknown field")
        date = known_on = None
        if raw.get("date") is None:
            error(f"{path}.date", "required")
        else:
            try:
                date = parse_date(raw["date"])
            except ValueError as exc:
                error(f"{path}.date", str(exc))
        if raw.get("known_on") is not None:
            try:
                known_on = parse_date(raw["known_on"])
            except ValueError as exc:
                error(f"{path}.known_on", str(exc))
        if date and known_on and known_on < date:
            error(f"{path}.known_on", "cannot be before the date the element arose")
        description = raw.get("description", "")
        if description is None:
            description = ""
        if not isinstance(description, str):
            error(f"{path}.description", "expected text")
            description = ""
        elif len(description) > MAX_DESCRIPTION:
            error(f"{path}.description", f"at most {MAX_DESCRIPTION} characters")
        if date is not None:
            elements.append(NewElement(date, known_on, description))

    if errors:
        raise InputError(errors)
    return CaseFacts(
        department=department,
        events=tuple(events),
        new_elements=tuple(elements),
        previous_reexaminations=previous,
        as_of=as_of,
        language=language,
    )
