"""The dashboard as a CSV file, with the same filters; safe to open in a spreadsheet."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from rules.models import RulePack
from rules.services import today

from .. import procedures
from ..dashboard import (
    BUCKET_LABELS,
    DeadlineFilterForm,
    bucket_of,
    pending_deadlines,
    status_text,
    with_status,
)
from ..forms import person_name
from ..models import (
    CaseView,
    Deadline,
    merged_warnings,
    status_on,
    texts_in_query,
    warning_list,
)
from ..privacy import record_views_of
from .common import member_or_403

# A spreadsheet runs a cell that starts with one of these as a formula ("CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# French spreadsheets expect ";" between cells and a byte-order mark to read UTF-8.
DELIMITER = ";"
BOM = "\ufeff"


def quoted(value: Any) -> str:
    """safe_cell(value) as csv.writer(delimiter=DELIMITER) writes it in a line (QUOTE_MINIMAL):
    in double quotes, doubled inside, when it holds a quote, the delimiter or a line break.

    The exports write their lines with this instead of csv.writer, whose per-character loop was
    most of the export's time (~15-25 µs a row of ~900 characters against ~3 µs);
    tests/cases/test_csv_lines_as_csv_writes_them.py checks both give the same lines.
    """
    text = safe_cell(value)
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if DELIMITER in text or "\n" in text or "\r" in text:
        return '"' + text + '"'
    return text


class Cells(dict[Any, str]):
    """quoted(value) of each value seen, worked out once: most of a file's cells repeat (labels,
    departments, legal bases, warnings, caseworkers). Forgets all past `limit` values."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def __missing__(self, value: Any) -> str:
        if len(self) >= self.limit:
            self.clear()
        cell = self[value] = quoted(value)
        return cell


def line(cells: Iterable[str]) -> str:
    """One CSV line of cells already made safe and quoted (`quoted`)."""
    return DELIMITER.join(cells) + "\r\n"


def write_rows(response: HttpResponse, header: list[str], rows: Iterable[list[Any]]) -> None:
    """A whole CSV file written to a response, as the deadlines' export writes its lines."""
    response.write(BOM + line(quoted(cell) for cell in header))
    for row in rows:
        response.write(line(quoted(cell) for cell in row))


# Rows read from the database at a time (one query: a server-side cursor on PostgreSQL), and
# rows written to the response at a time (about 200 KB).
FETCH_ROWS = 2000
WRITE_ROWS = 250
# What the file shows of each deadline row: plain values, no model instances.
COLUMNS = (
    "case_id",
    "due",
    "status",
    "next_working_day",
    "case__reference",
    "case__applicant_name",
    "case__department",
    "case__procedure_id",
    "case__procedure__key",
    "key",
    "label_text",
    "explanation_text",
    "warnings_json",
    "case_warnings_json",
    "legal_basis",
    "rule_version",
    "case__assigned_to_id",
    "case__assigned_to__username",
    "case__assigned_to__first_name",
    "case__assigned_to__last_name",
)


@require_safe
@login_required
def deadlines_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The pending deadlines as a CSV file, written while it is sent (a fixed number of queries).

    The cases it holds are recorded as viewed (one bulk insert, `Recording`) before any of it
    is sent; a row whose case was not recorded (added to the scope meanwhile) is left out.
    """
    membership = member_or_403(request)
    day = today()
    language = get_language() or settings.LANGUAGE_CODE
    form = DeadlineFilterForm(request.GET, membership=membership)
    pending = pending_deadlines(form, day)
    if form.is_valid() and form.cleaned_data.get("status"):
        deadlines = with_status(pending, form, day)
    else:
        # The page lists suspended deadlines apart; the file has them all, at the end.
        deadlines = pending.order_by(F("due").asc(nulls_last=True), "case_reference", "key")
    exported = Recording(
        request.user,
        deadlines.order_by().values("case_id").distinct(),
        CaseView.Through.CSV_EXPORT,
    )
    rows = deadlines.annotate(**texts_in_query(language)).values_list(*COLUMNS)
    response = StreamingHttpResponse(
        csv_lines(rows, exported, day, language),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="deadlines-{day.isoformat()}.csv"'
    return response


# False: an export records its cases before its rows' query starts, in the request's thread.
RECORD_ALONGSIDE = True


class Recording:
    """The cases an export holds, recorded as viewed (privacy.record_views_of) before any byte
    of the file is sent: `cases()` waits for them and gives their ids, or raises what stopped
    the recording (nothing of the file has been sent then: the server answers an error).

    On PostgreSQL the insert runs in a thread on a connection of its own, while the rows'
    query starts on the request's: at 100,000 cases a caseworker's file records ~4,500 cases
    in 35-45 ms, which the file no longer waits for before its rows are read. Not inside a
    transaction (uncommitted rows, as in most tests, are not seen by another connection) nor on
    SQLite (one writer at a time): then recorded at once, in the request's thread.
    """

    def __init__(self, user: Any, case_ids: QuerySet[Any, Any], through: str) -> None:
        self._found: set[int] | None = None
        self._error: BaseException | None = None
        connection = connections[case_ids.db]
        if not RECORD_ALONGSIDE or connection.vendor != "postgresql" or connection.in_atomic_block:
            self._found = record_views_of(user, case_ids, through)
            self._thread = None
            return
        self._thread = threading.Thread(
            target=self._record, args=(user, case_ids, through), name="export-audit"
        )
        self._thread.start()

    def _record(self, user: Any, case_ids: QuerySet[Any, Any], through: str) -> None:
        try:
            self._found = record_views_of(user, case_ids, through)
        except BaseException as error:  # raised again in the request's thread
            self._error = error
        finally:
            connections.close_all()  # this thread's own connections

    def done(self) -> bool:
        """Whether `cases()` would answer without waiting."""
        return self._thread is None or not self._thread.is_alive()

    def cases(self) -> set[int]:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._found is not None
        return self._found


def read_as_sent(using: str) -> contextlib.AbstractContextManager[Any]:
    """Around a streamed read of many rows (`streamed`): on PostgreSQL, a transaction, that
    ends with the file, read to its end or dropped half way. Read-only: it takes no lock a
    caseworker's save waits for; open as long as the file is being sent, a slow reader only
    holds back the cleanup (VACUUM) of rows changed meanwhile and schema changes (a migration
    waits for the file). Not on SQLite, whose transactions here take the write lock up front
    (IMMEDIATE: every other writer would wait for the file to be sent)."""
    if connections[using].vendor == "postgresql":
        return _streamed_read(using)
    return contextlib.nullcontext()


# For the streamed read's transaction only (SET LOCAL): a plan that gives the rows in the order
# they are sent, as they are found, rather than all of them sorted first.
# - No parallel workers: a parallel plan sorts every row in each worker and merges them before
#   the first is sent, while the second CPU could already be writing lines (and the workers
#   take CPUs from the other requests).
# - Random reads priced as sequential ones (1.1 instead of 4): a deployment's tables are in
#   memory or on SSD. Without it, and without parallel workers, PostgreSQL read every case of
#   the table to hash-join them and sorted the rows on disk; with it, it walks a caseworker's
#   pending rows in the index's order and looks each case up.
# At 100,000 cases, medians of alternating runs: a caseworker's 8,723 rows, first row after
# 93 ms instead of 156, the whole file 133 ms instead of 159; a supervisor's search (4,254 rows,
# from the cases found, sorted) 169 ms instead of 239 (README, "The early-morning changes").
STREAMED_READ_SETTINGS = (
    "SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL random_page_cost = 1.1"
)


@contextlib.contextmanager
def _streamed_read(using: str) -> Iterator[None]:
    with transaction.atomic(using=using):
        with connections[using].cursor() as cursor:
            cursor.execute(STREAMED_READ_SETTINGS)
        yield


def streamed(
    rows: QuerySet[Any, tuple[Any, ...]], size: int
) -> Generator[tuple[Any, ...], None, None]:
    """The rows of a values_list query as the database sends them, `size` at a time.

    On PostgreSQL, in read_as_sent's transaction: one ordinary query whose rows psycopg reads
    as they come (cursor.stream, chunks of `size`), so the database computes the next rows
    while Python writes the lines of the last ones, and the query is planned for the whole
    result. It used to be read through a server-side cursor (FETCH `size` at a time): the
    database then waited for Python between fetches, and a cursor's plan favours the first
    rows, which walked an organisation's every pending row in date order to find a search's
    few (a supervisor's export of one name among 100,000 cases: 1.7 s, ~0.2 s as a query).

    While the rows are being sent the connection is busy: psycopg would wait forever for a
    query made meanwhile on it, so one raises ConnectionBusy instead. Whatever the loop needs
    from the database is read before. Logged as Django logs its queries (a time that covers the
    whole read). Elsewhere, and for a query whose columns Django converts: rows.iterator.
    """
    connection = connections[rows.db]
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        yield from rows.iterator(chunk_size=size)
        return
    compiler = rows.query.get_compiler(rows.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:  # .none(): an invalid filter matches nothing
        return
    if compiler.get_converters([column for column, _, _ in compiler.select]):
        yield from rows.iterator(chunk_size=size)
        return
    logged = connection.queries_logged
    start = time.monotonic()
    with connection.cursor() as cursor, connection.execute_wrapper(_busy):
        try:
            yield from cursor.cursor.stream(sql, params, size=size)
        finally:
            if logged:
                connection.queries_log.append(
                    {
                        "sql": cast(Any, connection.ops).compose_sql(sql, params),
                        "time": f"{time.monotonic() - start:.3f}",
                    }
                )


class ConnectionBusy(RuntimeError):
    """A query on a connection that is sending a streamed result (`streamed`)."""


def _busy(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
    raise ConnectionBusy(
        "this database connection is sending the rows of a streamed query; read what the "
        f"loop needs before it starts (refused: {sql[:80]})"
    )


def csv_lines(
    rows: QuerySet[Deadline, tuple[Any, ...]], recording: Recording, day: dt.date, language: str
) -> Iterator[bytes]:
    """The file in pieces of WRITE_ROWS rows, in `language`, of the rows whose case `recording`
    recorded. Nothing is given before the cases are recorded: the lines of the rows read
    meanwhile are held back, and those of cases not recorded left out.

    Run while the response is sent, after the view has returned: the language is set again here.
    Texts shared by many rows (bucket, status, procedure, what to do, caseworker, warnings) are
    translated, made safe and quoted once each.
    """
    with (
        translation.override(language),
        read_as_sent(rows.db),
        # Closed before the transaction ends; the query runs at the first row.
        contextlib.closing(streamed(rows, FETCH_ROWS)) as fetched,
    ):
        # Read now: no query can run while the rows are streamed.
        procedure_names = {
            procedure.key: quoted(procedures.procedure_name(procedure))
            for procedure in RulePack.objects.only("pk", "key", "name")
        }
        heading = BOM + line(quoted(cell) for cell in header())
        buckets = {key: quoted(label) for key, label in BUCKET_LABELS.items()}
        statuses: dict[str, str] = {}
        warning = _("%(title)s: %(message)s")
        # The same warnings (the review horizon's, say) come back on row after row.
        warning_cells: dict[tuple[str | None, str | None], str] = {}
        descriptions = procedures.deadline_descriptions()
        what_to_do: dict[tuple[int, str, int], str] = {}
        people: dict[int, str] = {}
        cells = Cells(limit=FETCH_ROWS * 4)

        def made(row: tuple[Any, ...]) -> str:
            (
                _case_id,
                due,
                status,
                next_working_day,
                reference,
                applicant,
                department,
                procedure_id,
                procedure_key,
                key,
                label,
                explanation,
                warnings,
                case_warnings,
                legal_basis,
                rule_version,
                assigned_to_id,
                username,
                first_name,
                last_name,
            ) = row
            status = status_on(status, due, next_working_day, day)
            if status not in statuses:
                statuses[status] = quoted(status_text(status))
            rule = (procedure_id, key, rule_version)
            if rule not in what_to_do:
                what_to_do[rule] = quoted(descriptions.of_rule(*rule))
            if assigned_to_id not in people:
                user = get_user_model()(
                    pk=assigned_to_id,
                    username=username,
                    first_name=first_name,
                    last_name=last_name,
                )
                people[assigned_to_id] = quoted(person_name(user))
            both = (case_warnings, warnings)
            if both not in warning_cells:
                if len(warning_cells) > FETCH_ROWS:
                    warning_cells.clear()
                found = merged_warnings(warning_list(case_warnings), warning_list(warnings))
                warning_cells[both] = quoted("\n".join(warning % w for w in found))
            return line(
                (
                    buckets[bucket_of(due, day)],
                    due.isoformat() if due else "",
                    statuses[status],
                    cells[reference],
                    cells[applicant],
                    cells[department],
                    procedure_names[procedure_key],
                    cells[label],
                    what_to_do[rule],
                    people[assigned_to_id],
                    cells[legal_basis],
                    str(rule_version),
                    cells[explanation],
                    warning_cells[both],
                )
            )

        # Until the cases are recorded (alongside, on PostgreSQL), the lines are held back; the
        # recording is looked at every WRITE_ROWS rows, and waited for after the last.
        held: list[tuple[int, str]] = []
        if not recording.done():
            for row in fetched:
                held.append((row[0], made(row)))
                if not len(held) % WRITE_ROWS and recording.done():
                    break
        cases = recording.cases()
        yield heading.encode()
        lines = [text for case_id, text in held if case_id in cases]
        for row in fetched:  # the rest of the rows
            if row[0] not in cases:
                continue
            lines.append(made(row))
            if len(lines) >= WRITE_ROWS:
                yield "".join(lines).encode()
                lines.clear()
        if lines:
            yield "".join(lines).encode()


def header() -> list[str]:
    return [
        _("Bucket"),
        _("Due date"),
        _("Status"),
        _("File reference"),
        _("Applicant"),
        _("Department"),
        _("Procedure"),
        _("Step"),
        _("What to do"),
        _("Caseworker"),
        _("Legal basis"),
        _("Rule version"),
        _("Explanation"),
        _("Warnings"),
    ]
