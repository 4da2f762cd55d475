"""The one `evaluate` that the API, the CLI and the web views call.

Compiled packs are cached in the process, keyed by pack version and revision: each evaluation
reads the published version's revision (one small query), so an edit in the admin reaches every
web and worker process on its next evaluation, with no restart. The stateless API may instead
use a revision read less than PUBLISHED_CACHE_SECONDS ago (`cached=True`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from .engine.calendars import LAST_HOLIDAY_YEAR, Calendar, CalendarError
from .engine.durable import DurableError, RulesetRetired
from .engine.evaluate import CompiledPack, compile_pack, evaluate, evaluate_languages
from .engine.explain import language_of
from .engine.inputs import CaseFacts, InputError, parse_case, unencodable_field
from .engine.pack import AlertRule, PackError
from .engine.reader_texts import code_label
from .models import PackVersion, RulePack
from .packstore import definition

_cache: dict[int, tuple[str, CompiledPack]] = {}
_cache_lock = threading.Lock()


class PackUnavailable(RuntimeError):
    """The published pack version cannot be compiled (its records are invalid)."""


def today() -> dt.date:
    return dt.datetime.now(ZoneInfo(settings.TIME_ZONE)).date()


def compiled_pack(version_id: int, revision: str) -> CompiledPack:
    """The compiled rules of a pack version at a revision, compiling at most once per revision."""
    cached = _cache.get(version_id)
    if cached is not None and cached[0] == revision:
        return cached[1]
    with _cache_lock:
        cached = _cache.get(version_id)
        if cached is not None and cached[0] == revision:
            return cached[1]
        version = PackVersion.objects.select_related("pack").get(pk=version_id)
        try:
            compiled = compile_pack(definition(version))
        except (PackError, DurableError) as error:
            raise PackUnavailable(
                f"rule pack {version.pack.key} v{version.number} is invalid: {error}"
            ) from error
        # The revision read with the records, not the one asked for: a change made in between
        # gets compiled on the next call instead of being cached under the old revision.
        _cache[version_id] = (version.revision, compiled)
        if cached is not None:
            # Freed once the evaluations still using it finish (memory stays flat over edits).
            cached[1].ruleset.retire()
        return compiled


# Run on every evaluation: plain SQL costs ~15 µs where the ORM spends ~200 µs building it.
_PUBLISHED_SQL = (
    f"SELECT v.id, v.revision FROM {PackVersion._meta.db_table} v "
    f"JOIN {RulePack._meta.db_table} p ON p.id = v.pack_id "
    "WHERE p.key = %s AND v.status = %s ORDER BY v.number DESC LIMIT 1"
)


# The stateless API's short memory of the published versions: {procedure: (found, read at)}.
_published: dict[str, tuple[tuple[int, str] | None, float]] = {}


def forget_published() -> None:
    """Drop this process's remembered published versions (a publish or an edit here)."""
    _published.clear()


def published_version(procedure: str, *, cached: bool = False) -> tuple[int, str] | None:
    """The id and revision of a procedure's newest published pack version.

    `cached`: for the stateless API only, the answer may be up to PUBLISHED_CACHE_SECONDS old
    (one query per procedure and process per period instead of one per request). A publish or
    an edit in this process forgets it at once; other processes see it within the period.
    Writes to cases never pass `cached`: what they store says which version made it.
    """
    # PostgreSQL text cannot hold NUL, no key is that long or holds a lone surrogate (which no
    # driver can encode): no such pack, no query.
    if "\x00" in procedure or len(procedure) > 63 or not procedure.isascii():
        return None
    ttl = settings.PUBLISHED_CACHE_SECONDS
    if cached and ttl > 0:
        remembered = _published.get(procedure)
        if remembered is not None and time.monotonic() - remembered[1] < ttl:
            return remembered[0]
    read_at = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(_PUBLISHED_SQL, [procedure, PackVersion.Status.PUBLISHED.value])
        row = cursor.fetchone()
    found = (int(row[0]), str(row[1])) if row else None
    if ttl > 0 and found is not None and len(_published) < 1000:  # pack keys are few
        _published[procedure] = (found, read_at)
    return found


def version_revision(version_id: int, procedure: str) -> tuple[int, str] | None:
    """The id and current revision of any version of a procedure's pack (a draft included)."""
    row = (
        PackVersion.objects.filter(pk=version_id, pack__key=procedure)
        .values_list("id", "revision")
        .first()
    )
    return (int(row[0]), str(row[1])) if row else None


def evaluate_request(
    payload: Any, *, pack_version_id: int | None = None, cached: bool = False
) -> dict[str, Any]:
    """Validate a request body (api.md) and evaluate it; InputError lists every bad field.

    By default the procedure's published pack version is used; `pack_version_id` evaluates with
    another version of the same procedure instead (a draft's scenarios and impact).
    """
    if not isinstance(payload, dict):
        raise InputError([{"field": "", "message": "expected a JSON object"}])
    bad_text = unencodable_field(payload)
    if bad_text is not None:
        raise InputError(
            [{"field": bad_text, "message": "text that is not valid Unicode (a lone surrogate)"}]
        )
    procedure = payload.get("procedure")
    if procedure is None:
        raise InputError([{"field": "procedure", "message": "required"}])
    if not isinstance(procedure, str):
        raise InputError([{"field": "procedure", "message": "expected the key of a rule pack"}])
    found = (
        published_version(procedure, cached=cached)
        if pack_version_id is None
        else version_revision(pack_version_id, procedure)
    )
    if found is None:
        raise InputError([{"field": "procedure", "message": f"unknown procedure {procedure!r}"}])
    try:
        return _evaluate_with(compiled_pack(*found), payload)
    except RulesetRetired:
        # Another thread recompiled this version between our lookup and our evaluation.
        return _evaluate_with(compiled_pack(*found), payload)


def evaluate_in_languages(
    payload: Any, languages: list[str], *, published: tuple[int, str] | None = None
) -> dict[str, dict[str, Any]]:
    """`evaluate_request` in each of `languages`, with one pass through the rules.

    `published` (id, revision), when the caller has just read it, saves reading it again.
    """
    if not isinstance(payload, dict):
        raise InputError([{"field": "", "message": "expected a JSON object"}])
    bad_text = unencodable_field(payload)
    if bad_text is not None:
        raise InputError(
            [{"field": bad_text, "message": "text that is not valid Unicode (a lone surrogate)"}]
        )
    procedure = payload.get("procedure")
    if not isinstance(procedure, str):
        raise InputError([{"field": "procedure", "message": "expected the key of a rule pack"}])
    found = published or published_version(procedure)
    if found is None:
        raise InputError([{"field": "procedure", "message": f"unknown procedure {procedure!r}"}])
    with _calendar_bounds():
        try:
            compiled = compiled_pack(*found)
            return evaluate_languages(compiled, _parse(compiled, payload), languages)
        except RulesetRetired:
            compiled = compiled_pack(*found)
            return evaluate_languages(compiled, _parse(compiled, payload), languages)


def _evaluate_with(compiled: CompiledPack, payload: dict[str, Any]) -> dict[str, Any]:
    with _calendar_bounds():
        return evaluate(compiled, _parse(compiled, payload))


def _parse(compiled: CompiledPack, payload: dict[str, Any]) -> CaseFacts:
    # The department table in force on as_of decides which codes are valid; as_of is checked
    # again, with the other fields, by parse_case.
    as_of = today()
    raw_as_of = payload.get("as_of")
    if isinstance(raw_as_of, str):
        with contextlib.suppress(ValueError):
            as_of = dt.date.fromisoformat(raw_as_of)
    departments = compiled.department_codes_on(as_of)
    return parse_case(payload, compiled.definition, departments, today())


@contextlib.contextmanager
def _calendar_bounds() -> Iterator[None]:
    """A deadline past the holiday calendars is refused as bad dates, not a server error."""
    try:
        yield
    except CalendarError as error:
        # Accepted dates leave years of calendar after them; a pack period longer than that
        # would still run past it: the dates are refused, not the server.
        raise InputError(
            [
                {
                    "field": "",
                    "message": f"a deadline would fall after {LAST_HOLIDAY_YEAR}, beyond the "
                    f"public holiday calendars: check the dates ({error})",
                }
            ]
        ) from error


def published_pack(procedure: str) -> CompiledPack | None:
    """The compiled newest published version of a procedure, or None when it has none."""
    found = published_version(procedure)
    return compiled_pack(*found) if found else None


def alert_rules(procedure: str) -> dict[str, tuple[AlertRule, ...]]:
    """The alert policy of each deadline of a procedure's published pack version."""
    compiled = published_pack(procedure)
    if compiled is None:
        return {}
    return {rule.key: rule.alerts for rule in compiled.definition.deadline_rules}


def working_calendar(procedure: str) -> Calendar:
    """The national working-day calendar of a procedure's published pack (holidays, weekend)."""
    compiled = published_pack(procedure)
    if compiled is None:
        raise PackUnavailable(f"no published rule pack {procedure!r}")
    return compiled.national


def translator(procedure: str, language: str) -> Callable[[str], str]:
    """A function giving a pack text of the procedure in a language (unchanged if untranslated)."""
    compiled = published_pack(procedure)
    table = compiled.definition.translations.get(language_of(language), {}) if compiled else {}
    return lambda text: table.get(text, text)


def code_labeller(procedure: str, language: str) -> Callable[[str], str]:
    """A function giving the words for a code the procedure shows (an event's outcome, a status)
    in a language, from the pack's translations (rules/engine/reader_texts.py)."""
    compiled = published_pack(procedure)
    tables = compiled.definition.translations if compiled else {}
    lang = language_of(language)
    return lambda code: code_label(tables, code, lang)
