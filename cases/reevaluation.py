"""After a pack version is published, every open case of its procedure follows.

`start_run` stores the run and its chunks up front (case ids, CHUNK_SIZE per chunk). A worker
applies a chunk with `apply_chunk`: it claims the chunk with a conditional update and a lease,
then, in one transaction, locks the chunk's open cases, reads their facts and deadline rows as
tuples (three queries, no model instances), evaluates each once (`actions.evaluate_payload`:
every language's texts from one pass through the rules), compares the result
with the rows as evaluate_and_store would, and writes only what changed in a fixed number of
statements (`write_chunk`: rows loaded by COPY into a temporary table, then one UPDATE, INSERT
or history INSERT per kind of change, the cases' results and next due date in one UPDATE, the
moves by COPY), and marks the chunk applied. The applied mark is written in that same
transaction, so a worker killed mid-chunk leaves nothing applied and the chunk is taken again
once its lease has passed; a second worker holding the same chunk finds it applied and stops.
`sweep` queues again what a dead worker or a lost message left behind, and finishes runs whose
chunks are all applied.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import BooleanField, F, Field, Model, Q, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils import timezone

from rules.engine.definition import PackDefinition
from rules.models import PackVersion
from rules.services import PackUnavailable, compiled_pack, published_version

from . import actions
from .models import (
    PENDING_STATUSES,
    Case,
    CaseEvent,
    Deadline,
    DeadlineMove,
    NewElement,
    ReevaluationChunk,
    ReevaluationRun,
    facts_payload,
    status_on,
)
from .reach import reach_from

logger = logging.getLogger(__name__)

# False: every open case is evaluated, whatever changed (a test compares both ways).
NARROW = True

# Called on commit with the id of a run whose chunks are all applied (the notices hook here).
after_run_finished: list[Callable[[int], None]] = []


def publication_reason(version: PackVersion) -> str:
    """The reason kept in each case's history: "rule pack v3 published: <why>"."""
    why = version.publish_reason.strip()
    return f"rule pack v{version.number} published" + (f": {why}" if why else "")


def open_case_ids(pack_id: int) -> list[int]:
    return list(
        Case.objects.filter(procedure_id=pack_id, state=Case.State.OPEN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def start_run(pack_version_id: int, *, chunk_size: int | None = None) -> ReevaluationRun:
    """The run of a published version with its chunks; the existing one if already started."""
    existing = ReevaluationRun.objects.filter(pack_version_id=pack_version_id).first()
    if existing is not None:
        return existing
    version = PackVersion.objects.get(pk=pack_version_id)
    size = max(1, chunk_size or settings.REEVALUATION_CHUNK_SIZE)
    try:
        with transaction.atomic():
            ids = open_case_ids(version.pack_id)
            run = ReevaluationRun.objects.create(
                pack_version=version, reason=publication_reason(version), total_cases=len(ids)
            )
            ReevaluationChunk.objects.bulk_create(
                ReevaluationChunk(run=run, number=n, case_ids=ids[start : start + size])
                for n, start in enumerate(range(0, len(ids), size), start=1)
            )
    except IntegrityError:
        # Another process started it a moment ago (the unique constraint on the version).
        return ReevaluationRun.objects.get(pack_version_id=pack_version_id)
    if ids:
        refresh_statistics()
    else:
        finish_if_complete(run.pk)
    return ReevaluationRun.objects.get(pk=run.pk)


# The tables a run reads by case (statistics refreshed before) and rewrites (vacuumed after).
READ_TABLES = (Case, CaseEvent, NewElement, Deadline)
REWRITTEN_TABLES = (Case, Deadline)


def refresh_statistics() -> None:
    """ANALYZE the tables a run reads, on PostgreSQL: its chunks select by lists of case ids,
    and without statistics (autovacuum off or behind, a table just filled) the planner counts
    every row a match and scans whole tables: 380 ms a chunk at 100,000 cases instead of 8. A
    sample of each table: 1.2 s at that size, paid once by whoever starts the run (the
    publication, on commit)."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(quote(m._meta.db_table) for m in READ_TABLES)}")


def tidy_tables() -> None:
    """VACUUM (ANALYZE) the tables a finished run rewrote, on PostgreSQL: the old row versions
    of every case it changed are freed for the next writes, whether or not autovacuum runs.
    Outside any transaction (VACUUM refuses one); it blocks neither reads nor writes."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        tables = ", ".join(quote(m._meta.db_table) for m in REWRITTEN_TABLES)
        cursor.execute(f"VACUUM (ANALYZE) {tables}")


def claim_chunk(chunk_id: int, now: dt.datetime) -> bool:
    """Hold a chunk for LEASE seconds; False when applied or held by a live worker."""
    lease = dt.timedelta(seconds=settings.REEVALUATION_LEASE_SECONDS)
    return bool(
        ReevaluationChunk.objects.filter(pk=chunk_id, applied_at__isnull=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + lease, attempts=F("attempts") + 1)
    )


# A chunk reads its cases' facts and deadline rows as tuples (no model instances): these
# columns, in this order. The cases' are read when locking them.
CASE_COLUMNS = (
    "pk",
    "evaluated_pack_version_id",
    "evaluated_revision",
    "evaluation_errors",
    "department",
    "previous_reexaminations",
    "organisation_id",
    "reference",
    "assigned_to_id",
)
# A row's provenance is not read: it names the version that wrote its values, and a row whose
# values a newer version gives again is left as it is (the case records that version).
DEADLINE_COLUMNS = ("pk", "case_id", "key", *actions.CHANGED_FIELDS)
_CHANGED = slice(3, 3 + len(actions.CHANGED_FIELDS))
_LABEL, _DUE, _STATUS, _NEXT_WORKING_DAY, _TEXTS = (
    actions.CHANGED_FIELDS.index(name)
    for name in ("label", "due", "status", "next_working_day", "texts")
)
# What a chunk writes of a deadline row (besides its id): created rows take all of it, changed
# rows CHANGED_FIELDS and PROVENANCE_FIELDS.
WRITTEN = (
    "case_id",
    "key",
    *actions.CHANGED_FIELDS,
    *actions.PROVENANCE_FIELDS,
    "organisation_id",
    "case_open",
    "case_reference",
    "assigned_to_id",
)
MOVE_COLUMNS = (
    "run_id",
    "case_id",
    "assigned_to_id",
    "key",
    "label",
    "texts",
    "old_due",
    "new_due",
    "old_status",
    "new_status",
)
CREATED, CHANGED = "+", "~"
# What alerts are planned from, of a deadline row (notifications/planner.py reads these).
DATED = ("due", "status", "completed_on", "next_working_day")


@dataclass
class ChunkWrites:
    """What re-evaluating a chunk's cases writes, as rows of values (nothing written yet).

    deadlines: (n, op, id, *WRITTEN), op CREATED (no id) or CHANGED;
    cases: (id, next_due, evaluation as JSON, case_warnings as JSON); moves: MOVE_COLUMNS.
    """

    deadlines: list[tuple[Any, ...]] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    cases: list[tuple[int, dt.date | None, str, str]] = field(default_factory=list)
    moves: list[tuple[Any, ...]] = field(default_factory=list)
    moved_cases: int = 0
    errors: list[dict[str, object]] = field(default_factory=list)


def apply_chunk(chunk_id: int, *, now: dt.datetime | None = None) -> str:
    """Re-evaluate a chunk's cases once: "applied", or "skipped" (applied or held elsewhere)."""
    now = now or timezone.now()
    if not claim_chunk(chunk_id, now):
        return "skipped"
    try:
        return _apply_claimed(chunk_id, now)
    except Exception as error:
        # Nothing of the chunk was written; it is taken again once its lease has passed. Its
        # row says why meanwhile (the admin's run page), not a stack trace in a log alone.
        _record_failure(chunk_id, error)
        raise


def _record_failure(chunk_id: int, error: Exception) -> None:
    """Keep on the chunk the kind of error and its first line (a database's detail lines may
    quote a row's values: left out)."""
    first_line = (str(error).strip().splitlines() or [""])[0][:300]
    try:
        ReevaluationChunk.objects.filter(pk=chunk_id, applied_at__isnull=True).update(
            errors=[{"failure": f"{type(error).__name__}: {first_line}"}]
        )
    except DatabaseError:  # the database itself is gone: the log and the sweep remain
        logger.warning("re-evaluation chunk %s: its failure could not be recorded", chunk_id)


def _apply_claimed(chunk_id: int, now: dt.datetime) -> str:
    with transaction.atomic():
        # The applied mark first: a second worker that took the chunk over (lease passed) waits
        # here on PostgreSQL's row lock until this commits, then updates nothing and stops.
        if not ReevaluationChunk.objects.filter(pk=chunk_id, applied_at__isnull=True).update(
            applied_at=now
        ):
            return "skipped"
        chunk = ReevaluationChunk.objects.select_related(
            "run__pack_version__published_by", "run__pack_version__pack"
        ).get(pk=chunk_id)
        run = chunk.run
        # Locked in id order, like the alert planner: a caseworker's save waits for the chunk.
        # What is read after the lock (the facts) is what the caseworkers committed.
        locked = list(
            Case.objects.select_for_update(of=("self",))
            .filter(
                _among(Case, "id", chunk.case_ids),
                procedure_id=run.pack_version.pack_id,
                state=Case.State.OPEN,  # closed since the run started: its dates no longer matter
            )
            .order_by("pk")
            .values_list(*CASE_COLUMNS)
        )
        if locked:
            _chunk_settings()
        # The fresh published row, read once for the chunk before evaluating (see actions).
        published = published_version(run.pack_version.pack.key) if locked else None
        to_evaluate, to_stamp = _narrow(locked, published)
        _stamp(to_stamp, published, now)
        evaluate = set(to_evaluate)
        writes = evaluate_cases(
            [row for row in locked if row[0] in evaluate],
            run.pack_version.pack.key,
            published,
            run_id=run.pk,
            day=timezone.localdate(now),
        )
        evaluated = [row[0] for row in writes.cases]
        write_chunk(writes, published, run.pack_version.published_by, run.reason, now)
        ReevaluationChunk.objects.filter(pk=chunk_id).update(errors=writes.errors)
        ReevaluationRun.objects.filter(pk=run.pk).update(
            done_cases=F("done_cases") + len(chunk.case_ids),
            changed_cases=F("changed_cases") + writes.moved_cases,
            failed_cases=F("failed_cases") + len(writes.errors),
        )
        if evaluated:
            # One alert-planning job for the chunk instead of one per case; every case, not only
            # the moved ones: the new version may also change the alert policy.
            for hook in actions.after_many_deadlines_change:
                transaction.on_commit(lambda hook=hook: hook(evaluated))  # type: ignore[misc]
    finish_if_complete(run.pk)
    return "applied"


def evaluate_cases(
    cases: Sequence[tuple[Any, ...]],
    procedure: str,
    published: tuple[int, str] | None,
    *,
    run_id: int,
    day: dt.date,
) -> ChunkWrites:
    """Evaluate each case (rows of CASE_COLUMNS) once from its facts, read in three queries,
    and compare its result with its deadline rows: what to write, as evaluate_and_store would
    store it (a test compares the two)."""
    writes = ChunkWrites()
    if not cases:
        return writes
    ids = [row[0] for row in cases]
    events: dict[int, list[tuple[str, dt.date, str]]] = {pk: [] for pk in ids}
    for case_id, *event in (
        CaseEvent.objects.filter(_among(CaseEvent, "case_id", ids))
        .order_by("case_id", "date", "pk")
        .values_list("case_id", "type", "date", "outcome")
    ):
        events[case_id].append(tuple(event))  # type: ignore[arg-type]
    elements: dict[int, list[tuple[dt.date, dt.date | None]]] = {pk: [] for pk in ids}
    for case_id, *element in (
        NewElement.objects.filter(_among(NewElement, "case_id", ids))
        .order_by("case_id", "date", "pk")
        .values_list("case_id", "date", "known_on")
    ):
        elements[case_id].append(tuple(element))  # type: ignore[arg-type]
    stored: dict[int, dict[str, tuple[Any, ...]]] = {pk: {} for pk in ids}
    # The texts as the database's text, decoded here by orjson: Django's JSONField decoding
    # through the json module was ~5% of a chunk's Python time.
    texts = 3 + _TEXTS
    for row in (
        Deadline.objects.filter(_among(Deadline, "case_id", ids))
        .order_by()
        .values_list(
            *DEADLINE_COLUMNS[:texts], Cast("texts", TextField()), *DEADLINE_COLUMNS[texts + 1 :]
        )
    ):
        stored[row[1]][row[2]] = (*row[:texts], orjson.loads(row[texts]), *row[texts + 1 :])
    n = 0
    for case_id, _, _, _, department, reexaminations, organisation_id, reference, worker in cases:
        payload = facts_payload(
            procedure, department, reexaminations, events[case_id], elements[case_id]
        )
        try:
            results = actions.evaluate_payload(payload, published)
        except actions.CaseRefused as refused:
            # The new rules refuse this case's facts: it keeps its dates, the admin shows it.
            writes.errors.append({"case": case_id, "errors": refused.errors})
            continue
        provenance = tuple(actions.provenance_values(results, published).values())
        listed = (organisation_id, True, reference, worker)  # Deadline.listed_values: open
        rows = stored[case_id]
        after: dict[str, tuple[Any, ...]] = {}
        next_due = None
        for key, found in actions.deadline_values(results):
            values = tuple(found.values())
            after[key] = values
            due = values[_DUE]
            if (
                due is not None
                and found["completed_on"] is None
                and found["status"] in PENDING_STATUSES
                and (next_due is None or due < next_due)
            ):
                next_due = due
            row = rows.get(key)
            n += 1
            if row is None:
                writes.deadlines.append(
                    (n, CREATED, None, case_id, key, *_db(values), *provenance, *listed)
                )
            elif row[_CHANGED] != values:
                writes.deadlines.append(
                    (n, CHANGED, row[0], case_id, key, *_db(values), *provenance, *listed)
                )
        writes.deleted += [row[0] for key, row in rows.items() if key not in after]
        writes.cases.append(
            (
                case_id,
                next_due,
                _json(actions.summary_of(results)),
                _json(actions.case_warnings(results)),
            )
        )
        moves = _moves(run_id, case_id, worker, rows, after, day)
        if moves:
            writes.moves += moves
            writes.moved_cases += 1
    return writes


def _among(model: type[Model], column: str, ids: Sequence[int]) -> Any:
    """A filter: `column` is one of `ids`. One array parameter on PostgreSQL (the driver takes
    milliseconds to parse an IN list of hundreds of placeholders), an IN list elsewhere."""
    if connection.vendor != "postgresql":
        return Q(**{f"{column}__in": ids})
    quote = connection.ops.quote_name
    name = f"{quote(model._meta.db_table)}.{quote(column)}"
    return RawSQL(f"{name} = ANY(%s)", (list(ids),), output_field=BooleanField())


def _json(value: Any) -> str:
    """JSON text to COPY or bind (orjson: several times faster than the json module)."""
    return orjson.dumps(value).decode()


def _db(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """CHANGED_FIELDS' values as written: the texts as JSON."""
    return (*values[:_TEXTS], _json(values[_TEXTS]), *values[_TEXTS + 1 :])


def _moves(
    run_id: int,
    case_id: int,
    worker: int | None,
    before: dict[str, tuple[Any, ...]],
    after: dict[str, tuple[Any, ...]],
    day: dt.date,
) -> list[tuple[Any, ...]]:
    """DeadlineMove rows (MOVE_COLUMNS) of the deadlines whose due date or status today moved:
    `before` the stored rows by key, `after` the new CHANGED_FIELDS values by key."""
    moves = []
    for key in sorted(before.keys() | after.keys()):
        old_row, new = before.get(key), after.get(key)
        old = old_row[_CHANGED] if old_row is not None else None
        old_due, old_status = (
            (old[_DUE], status_on(old[_STATUS], old[_DUE], old[_NEXT_WORKING_DAY], day))
            if old is not None
            else (None, "")
        )
        new_due, new_status = (
            (new[_DUE], status_on(new[_STATUS], new[_DUE], new[_NEXT_WORKING_DAY], day))
            if new is not None
            else (None, "")
        )
        if old is not None and new is not None and (old_due, old_status) == (new_due, new_status):
            continue
        shown = new if new is not None else old
        assert shown is not None
        texts = _json(shown[_TEXTS] or {})
        label = shown[_LABEL]
        moves.append(
            (run_id, case_id, worker, key, label, texts, old_due, new_due, old_status, new_status)
        )
    return moves


def write_chunk(
    writes: ChunkWrites,
    published: tuple[int, str] | None,
    user: Any,
    reason: str,
    now: dt.datetime,
) -> None:
    """Write what changed in a few statements whatever the number of cases: the deadline rows
    loaded into a temporary table (COPY on PostgreSQL), then one UPDATE for the changed rows,
    one INSERT for the new ones and one for the history rows of both (the publisher and the
    publication's reason); the cases in one UPDATE; the moves by COPY. Deleted rows (rare) go
    through the ORM, with their history."""
    quote = connection.ops.quote_name
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        if writes.deadlines:
            table = quote(Deadline._meta.db_table)
            temp = _temporary_table(cursor, "reevaluation_deadline", table, WRITTEN, "id")
            _load(cursor, temp, ["n", "op", "id", *WRITTEN], writes.deadlines)
            changed = [_column(name) for name in actions.CHANGED_FIELDS]
            provenance = [_column(name) for name in actions.PROVENANCE_FIELDS]
            sets = ", ".join(f"{c} = u.{c}" for c in [*changed, *provenance])
            # `updated_at` only where what an alert is planned from moved (the dates, the
            # status: the frequent planner looks for rows written since its last run). It is
            # indexed: set on a row whose words alone changed, PostgreSQL could not update that
            # row in place and each of the table's indexes would take a new entry. The
            # calendar feed's last-modified reads the case's evaluated_at for those.
            differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
            moved = " OR ".join(f"d.{c} {differs} u.{c}" for c in map(_column, DATED))
            updated = _column("updated_at")
            cursor.execute(
                f"UPDATE {table} AS d SET {sets}, {updated} = CASE WHEN {moved} THEN %s "
                f"ELSE d.{updated} END FROM {temp} AS u WHERE u.op = %s AND d.id = u.id",
                [stamp, CHANGED],
            )
            columns = ", ".join(_column(name) for name in WRITTEN)
            cursor.execute(
                f"INSERT INTO {table} ({columns}, {_column('updated_at')}) "
                f"SELECT {columns}, %s FROM {temp} WHERE op = %s ORDER BY n",
                [stamp, CREATED],
            )
            if getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
                _history(cursor, temp, user, reason, stamp)
        if writes.deleted:  # rare (a deadline the new rules no longer produce)
            for deadline in Deadline.objects.filter(pk__in=writes.deleted).order_by("pk"):
                actions.history_author(deadline, user, reason)
                deadline.delete()
        if writes.cases:
            table = quote(Case._meta.db_table)
            names = ["next_due", "evaluation", "case_warnings"]
            temp = _temporary_table(cursor, "reevaluation_case", table, names, "id")
            _load(cursor, temp, ["id", *names], writes.cases)
            if connection.vendor == "postgresql":
                # Its row count known (its ids alone sampled): unanalysed, the planner guessed
                # thousands of rows from its pages and joined it by reading every case.
                cursor.execute(f"ANALYZE {temp} (id)")
            errors = Case._meta.get_field("evaluation_errors").get_db_prep_save([], connection)
            # Not `updated_at` (indexed: PostgreSQL could not update the row in place): the
            # alerts these cases need are planned for the chunk, and the deadline rows whose
            # dates moved carry the time, for the frequent planner to see them.
            cursor.execute(
                f"UPDATE {table} AS c SET next_due = u.next_due, evaluation = u.evaluation, "
                "case_warnings = u.case_warnings, evaluation_errors = %s, evaluated_at = %s, "
                "evaluated_pack_version_id = %s, evaluated_revision = %s "
                f"FROM {temp} AS u WHERE c.id = u.id",
                [errors, stamp, *(published or (None, ""))],
            )
        if writes.moves:
            _load(cursor, quote(DeadlineMove._meta.db_table), MOVE_COLUMNS, writes.moves)


def _chunk_settings() -> None:
    """For this transaction, on PostgreSQL, in one round trip:

    - its commit does not wait for the write-ahead log to reach the disk (synchronous_commit
      off): a database crash may lose the last chunks committed (well under a second's worth),
      and with them their applied mark, so the sweep applies them again; nothing half-applied;
    - the cases' stored results are compressed with lz4, 40% cheaper for the server than the
      default pglz, read back the same (PostgreSQL 14 or later, where the server has it).
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "DO $$ BEGIN SET LOCAL synchronous_commit = off; "
            "BEGIN SET LOCAL default_toast_compression = lz4; EXCEPTION "
            "WHEN invalid_parameter_value OR undefined_object THEN NULL; END; END $$"
        )


def _column(name: str) -> str:
    """A Deadline field's column, quoted."""
    column = cast("Field[Any, Any]", Deadline._meta.get_field(name)).column
    return connection.ops.quote_name(column)


def _temporary_table(cursor: Any, name: str, table: str, columns: Sequence[str], key: str) -> str:
    """An empty temporary table with the types of `table`'s `columns` (and `key`, n, op)."""
    postgresql = connection.vendor == "postgresql"
    temp = f"{'pg_temp' if postgresql else 'temp'}.{name}"
    cursor.execute(f"DROP TABLE IF EXISTS {temp}")
    names = ", ".join(connection.ops.quote_name(c) for c in [key, *columns])
    if postgresql:
        # Dropped at the commit. Never analysed: the planner guesses few rows and joins it
        # through the tables' indexes, the plan wanted whatever their size.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temp} ON COMMIT DROP AS "
            f"SELECT 0 AS n, ''::text AS op, {names} FROM {table} WITH NO DATA"
        )
    else:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temp} AS "
            f"SELECT 0 AS n, '' AS op, {names} FROM {table} LIMIT 0"
        )
    return temp


def _load(cursor: Any, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Append rows to a table: COPY on PostgreSQL, one executemany INSERT on SQLite."""
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    if connection.vendor == "postgresql":
        with (
            connection.wrap_database_errors,
            cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join(["%s"] * len(columns))
    cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def _history(cursor: Any, temp: str, user: Any, reason: str, stamp: Any) -> None:
    """History rows for the created and changed deadlines (the rows as just written), as
    simple-history's bulk helpers would make them: the publisher and the publication's reason."""
    model = Deadline.history.model
    author = user if user is not None and user.is_authenticated else None
    if author is None:
        author = model.get_default_history_user(Deadline())
    quote = connection.ops.quote_name
    tracked = [quote(f.column) for f in model.tracked_fields]
    history = [
        quote(model._meta.get_field(name).column)
        for name in ("history_date", "history_change_reason", "history_type", "history_user")
    ]
    cursor.execute(
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join([*tracked, *history])}) "
        f"SELECT {', '.join(f'd.{c}' for c in tracked)}, %s, %s, u.op, %s "
        f"FROM {temp} AS u JOIN {quote(Deadline._meta.db_table)} AS d "
        "ON d.case_id = u.case_id AND d.key = u.key WHERE u.op IN (%s, %s) ORDER BY u.n",
        [stamp, reason[:100], author.pk if author is not None else None, CREATED, CHANGED],
    )


def _narrow(
    locked: Sequence[tuple[Any, ...]], published: tuple[int, str] | None
) -> tuple[list[int], list[int]]:
    """(cases to evaluate, cases the change cannot reach) (cases/reach.py).

    A case is evaluated when its facts can reach what changed between the version it was
    evaluated with and the published one, or when that cannot be told: no version, errors, a
    version whose records changed since, a change that is not narrowed.
    """
    if published is None or not NARROW:
        return [row[0] for row in locked], []
    try:
        new = compiled_pack(*published).definition
    except PackUnavailable:
        return [row[0] for row in locked], []
    evaluate: list[int] = []
    candidates: dict[int, frozenset[str]] = {}
    for pk, version_id, revision, errors, *_ in locked:
        if errors or version_id is None:
            evaluate.append(pk)
            continue
        scope = _reach((version_id, revision), published, new)
        if scope is None:
            evaluate.append(pk)
        else:
            candidates[pk] = scope
    types = set().union(*candidates.values())
    if types:
        for case_id, event_type in (
            CaseEvent.objects.filter(_among(CaseEvent, "case_id", list(candidates)), type__in=types)
            .values_list("case_id", "type")
            .distinct()
        ):
            if case_id in candidates and event_type in candidates[case_id]:
                del candidates[case_id]
                evaluate.append(case_id)
    return sorted(evaluate), sorted(candidates)


# What a change reaches, by (version evaluated with, its revision, published, its revision):
# the same for every chunk of a run (a version's records are frozen once published; a revision
# names them), and 7 ms a chunk to work out again.
_REACHES: dict[tuple[int, str, int, str], frozenset[str] | None] = {}


def _reach(
    evaluated: tuple[int, str], published: tuple[int, str], new: PackDefinition
) -> frozenset[str] | None:
    if evaluated == tuple(published):  # evaluated with the published version: nothing to do
        return frozenset()
    key = (*evaluated, *published)
    if key not in _REACHES:
        if len(_REACHES) >= 64:  # versions a long-lived worker has seen: start again
            _REACHES.clear()
        _REACHES[key] = reach_from(evaluated[0], new)
    return _REACHES[key]


def _stamp(case_ids: list[int], published: tuple[int, str] | None, now: dt.datetime) -> None:
    """Record the published version on cases it cannot change, as an evaluation would: the
    version on the case (their deadline rows keep the version that wrote their values, as an
    evaluation giving the same values leaves them). Their results are not rewritten (what they
    say of the pack is read from the version: actions.stored_result), nor their `updated_at`
    (nothing an alert reads has changed): one narrow update, which PostgreSQL makes in place
    (no indexed column moves)."""
    if not case_ids or published is None:
        return
    version_id, revision = published
    Case.objects.filter(_among(Case, "id", case_ids)).update(
        evaluated_at=now, evaluated_pack_version_id=version_id, evaluated_revision=revision
    )


def finish_if_complete(run_id: int) -> bool:
    """Mark a run done once every chunk is applied; its hooks run once, on commit."""
    with transaction.atomic():
        if ReevaluationChunk.objects.filter(run_id=run_id, applied_at__isnull=True).exists():
            return False
        finished = ReevaluationRun.objects.filter(
            pk=run_id, state=ReevaluationRun.State.RUNNING
        ).update(state=ReevaluationRun.State.DONE, finished_at=timezone.now())
        if finished:
            for hook in after_run_finished:
                transaction.on_commit(lambda hook=hook: hook(run_id))  # type: ignore[misc]
    return bool(finished)


def chunks_to_queue(now: dt.datetime) -> list[int]:
    """Chunks a worker should take: never queued, held past their lease by a dead worker, or
    queued long ago and never claimed (the message was lost)."""
    requeue = now - dt.timedelta(seconds=settings.REEVALUATION_REQUEUE_SECONDS)
    return list(
        ReevaluationChunk.objects.filter(
            applied_at__isnull=True, run__state=ReevaluationRun.State.RUNNING
        )
        .filter(
            Q(enqueued_at__isnull=True)
            | Q(lease_until__lt=now)
            | Q(lease_until__isnull=True, enqueued_at__lt=requeue)
        )
        .order_by("run_id", "number")
        .values_list("pk", flat=True)
    )


def mark_queued(chunk_ids: Iterable[int], now: dt.datetime) -> None:
    """Stamp the chunks just queued. A chunk locked by a worker applying it is left as it is
    (its lease says when it may be taken again): the sweep never waits behind a chunk's
    transaction, which itself may wait behind a caseworker's save."""
    with transaction.atomic():
        free = list(
            ReevaluationChunk.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(chunk_ids))
            .values_list("pk", flat=True)
        )
        ReevaluationChunk.objects.filter(pk__in=free).update(enqueued_at=now)


def finish_complete_runs() -> list[int]:
    """Runs whose last chunk was applied by a worker that died before finishing the run."""
    running = ReevaluationRun.objects.filter(state=ReevaluationRun.State.RUNNING).values_list(
        "pk", flat=True
    )
    return [run_id for run_id in running if finish_if_complete(run_id)]


def recomputing_versions() -> dict[int, int]:
    """{procedure id: published version id} for each procedure being re-evaluated now."""
    procedures = set(
        ReevaluationRun.objects.filter(state=ReevaluationRun.State.RUNNING).values_list(
            "pack_version__pack_id", flat=True
        )
    )
    if not procedures:
        return {}
    # Ordered by number: the newest published version of each procedure wins.
    return dict(
        PackVersion.objects.filter(pack_id__in=procedures, status=PackVersion.Status.PUBLISHED)
        .order_by("pack_id", "number")
        .values_list("pack_id", "pk")
    )


def is_recomputing(case: Case, running: dict[int, int]) -> bool:
    """Whether the case's dates await the running re-evaluation of its procedure."""
    version_id = running.get(case.procedure_id)
    return (
        version_id is not None
        and case.state == Case.State.OPEN
        and case.evaluated_pack_version_id != version_id
    )
