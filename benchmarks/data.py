"""Bulk benchmark data: one organisation with N cases (100,000 in a minute or two), ~10 events each.

    from benchmarks.data import populate
    population = populate(100_000)          # after migrate(): Django set up, the pack loaded

Reused by every benchmark that needs many cases (the alerts here; the pages and re-evaluation
benchmarks may call it too). What it builds, in the database Django is set up on:

- an organisation ("Bench organisation" unless named), a supervisor and `caseworkers`
  caseworkers (usernames b<organisation id>-supervisor, b<id>-cw01…), no passwords;
- `templates` distinct cases made through the app itself (cases.actions.create_case, their
  events, then cases.actions.evaluate_and_store: the rows, columns and stored evaluation are
  exactly what the app writes; the alert hooks are detached while building);
- every other case a copy of one template: its case row, events and Deadline rows with the
  same dates (so the stored deadlines are what an evaluation would give), another reference,
  applicant name and caseworker; `closed_share` of them closed. `contact_share` of the
  templates have the applicant's phone and email with consent (SMS and email alerts). No history
  rows for copies.

Timelines: `events` = (min, max) consecutive steps of a re-examination file (final rejection,
presentation, registration, … CNDA appeal: 14 steps), the last one `last_event_days` days ago.
The default (6, 14) gives ~10 events a case: 100,000 cases, ~1,000,000 events.

Copies are written with explicit ids, by COPY on PostgreSQL and executemany on SQLite, then the
id sequences are reset: `populate` must be the only writer of those tables while it runs (the
benchmarks run it on a throwaway database of their own, benchmarks/db.py). Columns the copies
do not set take the model field's default; a new column without a default raises an error
naming it.

    python -m benchmarks.data [--cases 100000]     # on a throwaway database: times it, drops it
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any
from unittest import mock

PACK_KEY = "asylum-reexamination"
BATCH = 10_000

# Steps of a re-examination file in order: (event type, days since the previous step (min, max),
# outcome). A timeline is `count` consecutive steps of this chain.
CHAIN: tuple[tuple[str, int, int, str], ...] = (
    ("final_rejection", 0, 0, ""),
    ("prefecture_presentation", 10, 60, ""),
    ("registration", 1, 5, ""),
    ("attestation_issued", 0, 0, ""),
    ("ofpra_submission", 2, 8, ""),
    ("ofpra_incomplete_notice", 1, 4, ""),
    ("ofpra_file_completed", 2, 6, ""),
    ("ofpra_admissibility_decision", 2, 10, "admissible"),
    ("ofpra_decision", 15, 60, "rejected"),
    ("decision_made_available", 1, 5, ""),
    ("decision_notified", 2, 12, ""),
    ("legal_aid_requested", 3, 14, ""),
    ("legal_aid_decision_notified", 20, 60, ""),
    ("cnda_appeal_filed", 3, 20, ""),
)
# Applicants' names (the pages benchmark searches one family name: ~2.5% of the cases).
FIRST_NAMES = (
    "Amina", "Mamadou", "Fatoumata", "Ibrahima", "Aïssatou", "Ahmad", "Zahra", "Mohammad",
    "Nino", "Giorgi", "Arben", "Elira", "Rahim", "Nasrin", "Kouadio", "Mariam", "Jean-Pierre",
    "Grâce", "Tesfaye", "Selam", "Omar", "Hawa", "Yusuf", "Leila", "Dmitri", "Olena",
)  # fmt: skip
LAST_NAMES = (
    "Diallo", "Bah", "Barry", "Sow", "Camara", "Konaté", "Traoré", "Keita", "Sylla", "Touré",
    "Ahmadi", "Hosseini", "Rahimi", "Karimi", "Noori", "Beridze", "Kapanadze", "Gelashvili",
    "Hoxha", "Krasniqi", "Berisha", "Rahman", "Hossain", "Uddin", "Kabila", "Mbuyi", "Ilunga",
    "Tshibangu", "Kouassi", "Yao", "Haile", "Tesfay", "Mohamed", "Ali", "Hassan", "Abdi",
    "Nazari", "Popescu", "Ivanova", "Petrenko",
)  # fmt: skip
DEPARTMENTS = ("57", "57", "54", "54", "88", "55", "75", "93", "67", "971")

Event = tuple[str, dt.date, str]


@dataclass
class Population:
    """What `populate` built (ids to find it again, counts, and how long each part took)."""

    organisation_id: int
    supervisor_id: int
    caseworker_ids: list[int]
    first_case_id: int
    last_case_id: int
    cases: int
    open_cases: int
    events: int
    deadlines: int
    templates: int
    template_seconds: float
    copy_seconds: float
    seconds: float
    database: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def timeline(
    rng: random.Random, today: dt.date, events: tuple[int, int], last_event_days: tuple[int, int]
) -> list[Event]:
    """`events` (min, max) consecutive steps of the chain, the last one some days ago."""
    count = rng.randint(max(1, events[0]), min(len(CHAIN), events[1]))
    start = rng.randint(0, len(CHAIN) - count)
    steps = CHAIN[start : start + count]
    offsets = [0]
    for _, low, high, _ in steps[1:]:
        offsets.append(offsets[-1] + rng.randint(low, high))
    first = today - dt.timedelta(days=rng.randint(*last_event_days) + offsets[-1])
    return [
        (kind, first + dt.timedelta(days=offset), outcome)
        for (kind, _, _, outcome), offset in zip(steps, offsets, strict=True)
    ]


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


# --- writing rows fast ---------------------------------------------------------------------


class Table:
    """A model's table written in bulk: column order, DB-ready defaults, explicit ids."""

    def __init__(self, model: Any) -> None:
        from django.db import connection
        from django.utils import timezone

        self.model = model
        self.connection = connection
        self.fields = list(model._meta.concrete_fields)
        self.columns = [f.column for f in self.fields]
        self.attnames = [f.attname for f in self.fields]
        self.now = timezone.now()

    def db_row(self, values: dict[str, Any]) -> list[Any]:
        """Values by attname (the pk included) as the database stores them, in column order."""
        row = []
        for f in self.fields:
            if f.attname in values:
                value = values[f.attname]
            elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = self.now
            elif f.has_default():
                value = f.get_default()
            elif f.null:
                value = None
            else:
                raise RuntimeError(
                    f"benchmarks/data.py: {self.model.__name__}.{f.attname} has no default: "
                    "give it a value in populate()"
                )
            row.append(self.prepare(f, value))
        return row

    def prepare(self, f: Any, value: Any) -> Any:
        if value is None:
            return None
        if f.get_internal_type() == "JSONField":
            return json.dumps(value, cls=f.encoder)
        return f.get_db_prep_save(value, self.connection)

    def index(self, attname: str) -> int:
        return self.attnames.index(attname)

    def next_id(self) -> int:
        from django.db.models import Max

        return (self.model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1

    def write(self, rows: Iterable[Sequence[Any]]) -> int:
        """Insert the rows (DB-ready, column order); return how many."""
        table = self.connection.ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(self.connection.ops.quote_name(c) for c in self.columns)
        count = 0
        if self.connection.vendor == "postgresql":
            with self.connection.cursor() as cursor:
                raw = cursor.cursor
                with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
            return count
        self.connection.ensure_connection()
        raw_connection = self.connection.connection
        marks = ", ".join("?" * len(self.columns))
        batch: list[Sequence[Any]] = []
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                raw_connection.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            raw_connection.executemany(sql, batch)
            count += len(batch)
        return count


@contextmanager
def _without_fk_triggers() -> Iterator[None]:
    """On PostgreSQL, as a superuser: no per-row foreign-key trigger for the copies.

    The copies point at rows written just before them, so the checks could only pass; they
    cost more than the COPY itself (one trigger call per row). Without the right to skip them
    (not a superuser), they run.
    """
    from django.db import connection

    skipped = False
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = cursor.fetchone()
            if row and row[0]:
                cursor.execute("SET LOCAL session_replication_role = replica")
                skipped = True
    try:
        yield
    finally:
        if skipped:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def reset_sequences(models: Sequence[Any]) -> None:
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(models)):
            cursor.execute(sql)


def analyse() -> None:
    """Fresh planner statistics on PostgreSQL (autovacuum would soon give them)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


# --- the population ------------------------------------------------------------------------


def _member(username: str, organisation: Any, role: str, first: str, last: str) -> Any:
    from django.contrib.auth.models import User

    from cases.models import Membership

    user = User.objects.create_user(
        username, first_name=first, last_name=last, email=f"{username}@example.org"
    )
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


def _template(
    organisation: Any,
    user: Any,
    procedure: Any,
    number: int,
    events: list[Event],
    rng: random.Random,
    contact: bool,
) -> Any:
    """One case through the app: create_case, its events, then evaluate_and_store."""
    from django.db import transaction

    from cases import actions
    from cases.models import CaseEvent

    with transaction.atomic():
        case = actions.create_case(
            organisation=organisation,
            user=user,
            assigned_to=user,
            procedure=procedure,
            reference=f"T-{number:06d}",
            applicant_name=_name(rng),
            department=rng.choice(DEPARTMENTS),
            preferred_language=rng.choice(("fr", "fr", "en")),
            **(
                {  # type: ignore[arg-type]
                    "phone": f"+3361234{number % 10000:04d}",
                    "email": f"applicant{number}@example.org",
                    "sms_consent": True,
                    "email_consent": True,
                }
                if contact
                else {}
            ),
        )
        CaseEvent.objects.bulk_create(
            [CaseEvent(case=case, type=t, date=d, outcome=o) for t, d, o in events]
        )
        actions.evaluate_and_store(case, user=user, reason="benchmark data", run_hooks=False)
    return case


def populate(
    cases: int = 100_000,
    *,
    events: tuple[int, int] = (6, 14),
    last_event_days: tuple[int, int] = (0, 90),
    caseworkers: int = 20,
    templates: int = 300,
    closed_share: float = 0.10,
    contact_share: float = 1.0,
    organisation: str = "Bench organisation",
    seed: int = 100_000,
    progress: Callable[[str], None] | None = None,
) -> Population:
    """Build one organisation with `cases` cases (see the module's docstring)."""
    from django.db import transaction

    from cases import actions
    from cases.models import Case, CaseEvent, Deadline, Organisation
    from rules.models import RulePack
    from rules.services import today as service_today

    say = progress or (lambda message: None)
    started = time.perf_counter()
    rng = random.Random(seed)
    day = service_today()
    procedure = RulePack.objects.get(key=PACK_KEY)
    org = Organisation.objects.create(name=organisation)
    prefix = f"b{org.pk}"
    supervisor = _member(f"{prefix}-supervisor", org, "supervisor", "Sofia", "Supervisor")
    workers = [
        _member(f"{prefix}-cw{i:02d}", org, "caseworker", rng.choice(FIRST_NAMES), f"CW {i:02d}")
        for i in range(1, caseworkers + 1)
    ]
    templates = max(1, min(templates, cases))

    say(f"{templates} template cases through cases.actions")
    clock = time.perf_counter()
    made: list[Any] = []
    # Detached while building: each write would otherwise queue an alert-planning task.
    with (
        mock.patch.object(actions, "after_deadlines_change", []),
        mock.patch.object(actions, "after_many_deadlines_change", []),
    ):
        while len(made) < templates:
            number = len(made) + 1
            try:
                made.append(
                    _template(
                        org,
                        workers[number % len(workers)],
                        procedure,
                        number,
                        timeline(rng, day, events, last_event_days),
                        rng,
                        rng.random() < contact_share,
                    )
                )
            except actions.CaseRefused as error:  # not expected: never hide it
                raise RuntimeError(f"the rules refuse a generated timeline: {error}") from error
    template_seconds = time.perf_counter() - clock

    case_table, event_table, deadline_table = Table(Case), Table(CaseEvent), Table(Deadline)
    # Each template's rows once, DB-ready; a copy only changes ids and a few columns.
    case_rows, event_rows, deadline_rows = [], [], []
    for case in made:
        values = {f.attname: getattr(case, f.attname) for f in case_table.fields}
        case_rows.append(case_table.db_row(values))
        event_rows.append(
            [
                event_table.db_row({a: getattr(e, a) for a in event_table.attnames})
                for e in CaseEvent.objects.filter(case=case).order_by("pk")
            ]
        )
        deadline_rows.append(
            [
                deadline_table.db_row({a: getattr(d, a) for a in deadline_table.attnames})
                for d in Deadline.objects.filter(case=case).order_by("pk")
            ]
        )

    c_id, c_ref, c_name, c_user, c_state, c_closed = (
        case_table.index(a)
        for a in ("id", "reference", "applicant_name", "assigned_to_id", "state", "closed_at")
    )
    e_id, e_case = event_table.index("id"), event_table.index("case_id")
    d_id, d_case = deadline_table.index("id"), deadline_table.index("case_id")
    closed_at = case_table.prepare(case_table.fields[c_closed], case_table.now)
    worker_ids = [w.pk for w in workers]

    copies = cases - templates
    first_copy = case_table.next_id()
    next_event, next_deadline = event_table.next_id(), deadline_table.next_id()
    picks = [rng.randrange(templates) for _ in range(copies)]
    say(f"{copies:,} copies (bulk insert)")
    clock = time.perf_counter()

    def case_copies() -> Iterable[list[Any]]:
        for n, pick in enumerate(picks):
            row = list(case_rows[pick])
            row[c_id] = first_copy + n
            row[c_ref] = f"B-{n + 1:06d}"
            row[c_name] = _name(rng)
            row[c_user] = worker_ids[n % len(worker_ids)]
            if rng.random() < closed_share:
                row[c_state] = Case.State.CLOSED.value
                row[c_closed] = closed_at
            yield row

    def children(
        rows: list[list[list[Any]]], first_id: int, id_at: int, case_at: int
    ) -> Iterable[list[Any]]:
        next_id = first_id
        for n, pick in enumerate(picks):
            for template_row in rows[pick]:
                row = list(template_row)
                row[id_at] = next_id
                row[case_at] = first_copy + n
                next_id += 1
                yield row

    with transaction.atomic(), _without_fk_triggers():
        written_cases = case_table.write(case_copies())
        say(f"{written_cases:,} cases written; events")
        written_events = event_table.write(children(event_rows, next_event, e_id, e_case))
        say(f"{written_events:,} events written; deadlines")
        written_deadlines = deadline_table.write(
            children(deadline_rows, next_deadline, d_id, d_case)
        )
        reset_sequences([Case, CaseEvent, Deadline])
    copy_seconds = time.perf_counter() - clock
    say("ANALYZE")
    analyse()

    return Population(
        organisation_id=org.pk,
        supervisor_id=supervisor.pk,
        caseworker_ids=worker_ids,
        first_case_id=made[0].pk,
        last_case_id=first_copy + copies - 1 if copies else made[-1].pk,
        cases=Case.objects.filter(organisation=org).count(),
        open_cases=Case.objects.filter(organisation=org, state=Case.State.OPEN).count(),
        events=CaseEvent.objects.filter(case__organisation=org).count(),
        deadlines=Deadline.objects.filter(case__organisation=org).count(),
        templates=templates,
        template_seconds=round(template_seconds, 2),
        copy_seconds=round(copy_seconds, 2),
        seconds=round(time.perf_counter() - started, 2),
        extra={"written": [written_cases, written_events, written_deadlines]},
    )


def main(argv: list[str] | None = None) -> int:
    from benchmarks import db

    parser = argparse.ArgumentParser(description="Time populate() on a throwaway database.")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--templates", type=int, default=300)
    args = parser.parse_args(argv)

    def say(message: str) -> None:
        print(f"  data: {message}", file=sys.stderr, flush=True)

    with db.throwaway_database("data") as url:
        db.configure_django(url)
        db.migrate()
        population = populate(args.cases, templates=min(args.templates, args.cases), progress=say)
        population.database = db.vendor()
    p = population
    print(
        f"\nBenchmark data ({p.database}): {p.cases:,} cases ({p.open_cases:,} open), "
        f"{p.events:,} events, {p.deadlines:,} deadlines in {p.seconds:.1f} s "
        f"({p.templates} templates through the app: {p.template_seconds:.1f} s; copies: "
        f"{p.copy_seconds:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
