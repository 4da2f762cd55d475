"""How fast the caseworkers' pages are with 100,000 cases: a script that prints figures, not a test.

    python -m benchmarks.dashboard [--cases 100000] [--runs 200]

One organisation ("Cimade Metz") has a supervisor and 20 caseworkers sharing N cases (--cases,
100,000 by default) of 6 to 14 events each (~10: ~1,000,000 events), with the Deadline rows their
last evaluation stored; a second organisation ("Forum Réfugiés Lyon", 3 caseworkers, 15% as many
cases) shares the same tables, to check that every page keeps to the reader's organisation. The
pages are then requested through Django's test Client (force_login, DEBUG off, every middleware
on) and each request is timed:

1. the dashboard as a caseworker (default scope: their own cases);
2. the dashboard as the supervisor (the whole organisation, ?caseworker=all);
3. page 40 of that dashboard;
4. a search by applicant name on the supervisor's dashboard;
5. the case list (it shows the whole organisation by default);
6. the CSV export of a caseworker's pending deadlines (default scope);
7. the CSV export of the supervisor's search (the whole organisation's files with that name).

Each p95 is printed next to its target (issue 10: < 150 ms).

Building every case through cases/actions.py costs one evaluation and a few history rows per
event (the per-case cost is measured and printed), far over the time budget. So a few hundred
distinct timelines are recorded through cases.actions exactly as the app does (create_case, then
record_event per event: the template cases, part of the N), and every other case copies one
template's case row, events and stored Deadline rows with bulk_create (same dates, so the
deadlines are what an evaluation would give; the case's next due date and the case fields its
deadline rows carry are set as cases/actions.py sets them; no history rows, which no measured
page reads). The after_deadlines_change hooks are detached while building, so no alert planning
is queued. On PostgreSQL the tables are then vacuumed and analysed, as autovacuum does after
large inserts (PostgreSQL 13+ vacuums insert-only tables too).

Each figure is the median and p95 of time.perf_counter_ns around client.get, after a warm-up.
The queries per request are counted on one more request (CaptureQueriesContext), with the SQL
time Django measured for them. Figures go to .run/bench/dashboard.json.

The database is a throwaway one of its own (benchmarks/reevaluation.py's prepare_environment):
on the PostgreSQL server of BENCH_DATABASE_URL (else DATABASE_URL), a database with a unique name
created for the run and dropped at the end; a SQLite file under .run/bench/ when neither is
PostgreSQL. BENCH_KEEP_DATABASE=1 keeps it (its URL is printed); `--reuse-database URL` times the
pages again on a kept database without building anything (drop it yourself when done).

A streamed body (the CSV export) is read to its end inside each timed request; "1st byte" is the
time to its first piece.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gc
import io
import json
import os
import random
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlencode

from benchmarks.data import FIRST_NAMES, LAST_NAMES, Event
from benchmarks.data import timeline as chain_timeline
from benchmarks.engine import Stats, _jsonable, _row, machine_facts
from benchmarks.reevaluation import prepare_environment

ROOT = Path(__file__).resolve().parents[1]
PACK_KEY = "asylum-reexamination"
OUT_DIR = ROOT / ".run" / "bench"
OUT_FILE = OUT_DIR / "dashboard.json"

CASES = 100_000  # organisation A (--cases)
CASEWORKERS = 20
OTHER_SHARE = 0.15  # organisation B has this many cases for one of A's
TARGET_MS = 150.0  # p95 of every page (issue 10)
# Deadline fields copied from the case (set again from each copied case).
LISTED_COPIES = ("organisation_id", "case_open", "assigned_to_id", "case_reference")
OTHER_CASEWORKERS = 3
TEMPLATES = 300  # distinct timelines evaluated through cases.actions
CLOSED_SHARE = 0.10  # copies closed (their deadlines leave the dashboard)
BATCH = 2_000
RUNS = 200
WARMUP = 5
# Seconds of timed requests per page at most, so that a slow machine still finishes the whole
# run in about three minutes; the table says how many requests each figure is made of.
PAGE_BUDGET_S = 24.0
MIN_RUNS = 50
PAGE = 40
SEED = 20_000
SEARCH = "diallo"

# Each case records EVENTS (min, max) consecutive steps of benchmarks.data's chain of a
# re-examination file (~10 events a case: 100,000 cases, ~1,000,000 events, as issue 10 asks).
EVENTS = (6, 14)
DEPARTMENTS = ("57", "57", "54", "54", "88", "55")


# --- Django ------------------------------------------------------------------------------------


@contextmanager
def page_settings() -> Iterator[None]:
    """The test Client's host allowed; static URLs without collectstatic's manifest.

    DEBUG off selects WhiteNoise's manifest storage, which needs `collectstatic` first; the plain
    storage builds the same /static/ URLs without it (a dictionary lookup apart).
    """
    from django.conf import settings
    from django.test.utils import override_settings

    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"], STORAGES=storages
    ):
        yield


# --- the data ----------------------------------------------------------------------------------


def timeline(rng: random.Random, today: dt.date) -> list[Event]:
    """EVENTS consecutive steps of the chain, the last one 0 to 90 days ago."""
    return chain_timeline(rng, today, EVENTS, (0, 90))


@dataclass
class Template:
    case_id: int
    department: str
    evaluation: dict[str, Any]
    case_warnings: dict[str, Any]
    events: list[dict[str, Any]]
    deadlines: list[dict[str, Any]]


@dataclass
class Dataset:
    organisation_id: int
    other_organisation_id: int
    supervisor_id: int
    caseworker_ids: list[int]
    other_caseworker_ids: list[int]
    templates: int
    template_seconds: float
    evaluations: int
    copy_seconds: float
    build_seconds: float
    counts: dict[str, int] = field(default_factory=dict)


def _fields(obj: Any, skip: Sequence[str]) -> dict[str, Any]:
    return {
        f.attname: getattr(obj, f.attname)
        for f in type(obj)._meta.concrete_fields
        if f.attname not in skip
    }


def _member(username: str, organisation: Any, role: str, first: str, last: str) -> Any:
    from django.contrib.auth.models import User

    from cases.models import Membership

    user = User.objects.create_user(username, first_name=first, last_name=last)  # no password
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def make_templates(
    organisation: Any, caseworkers: Sequence[Any], procedure: Any, rng: random.Random
) -> tuple[list[Template], int]:
    """Template cases through cases.actions, as tests/cases/personas.make_case does."""
    from cases import actions
    from cases.models import Deadline
    from rules.services import today

    day = today()
    templates: list[Template] = []
    evaluations = 0
    refused = 0
    while len(templates) < TEMPLATES:
        user = caseworkers[len(templates) % len(caseworkers)]
        events = timeline(rng, day)
        try:
            case = actions.create_case(
                organisation=organisation,
                user=user,
                assigned_to=user,
                procedure=procedure,
                reference=f"A-{len(templates) + 1:05d}",
                applicant_name=_name(rng),
                department=rng.choice(DEPARTMENTS),
                preferred_language=rng.choice(("fr", "fr", "en")),
            )
            evaluations += 1
            for kind, date, outcome in events:
                actions.record_event(case, user=user, type=kind, date=date, outcome=outcome)
                evaluations += 1
        except actions.CaseRefused as error:  # not expected: count it, never hide it
            refused += 1
            if refused > 10:
                raise RuntimeError(f"the rules refuse the generated timelines: {error}") from error
            continue
        templates.append(
            Template(
                case_id=case.pk,
                department=case.department,
                evaluation=case.evaluation,
                case_warnings=case.case_warnings,
                events=[_fields(e, ("id", "case_id", "created_at")) for e in case.events.all()],
                deadlines=[
                    _fields(d, ("id", "case_id", "updated_at", *LISTED_COPIES))
                    for d in Deadline.objects.filter(case=case).order_by("id")
                ],
            )
        )
    return templates, evaluations


def copy_cases(
    organisation: Any,
    prefix: str,
    first_number: int,
    count: int,
    caseworkers: Sequence[Any],
    procedure: Any,
    templates: Sequence[Template],
    rng: random.Random,
) -> None:
    """`count` cases, each copying a template's timeline, evaluation and Deadline rows."""
    from django.utils import timezone

    from cases.models import Case, CaseEvent, Deadline, next_due_of

    now = timezone.now()
    next_due = {
        id(template): next_due_of(Deadline(**d) for d in template.deadlines)
        for template in templates
    }
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        chosen = [rng.choice(templates) for _ in range(size)]
        cases = [
            Case(
                organisation=organisation,
                reference=f"{prefix}-{first_number + start + i:05d}",
                applicant_name=_name(rng),
                # The template's department too: holidays depend on it (Alsace-Moselle).
                department=template.department,
                preferred_language=rng.choice(("fr", "fr", "en")),
                assigned_to=caseworkers[(start + i) % len(caseworkers)],
                procedure=procedure,
                state=Case.State.CLOSED if rng.random() < CLOSED_SHARE else Case.State.OPEN,
                evaluation=template.evaluation,
                case_warnings=template.case_warnings,
                evaluated_at=now,
                next_due=next_due[id(template)],
            )
            for i, template in enumerate(chosen)
        ]
        Case.objects.bulk_create(cases)
        CaseEvent.objects.bulk_create(
            [
                CaseEvent(case_id=case.pk, **event)
                for case, template in zip(cases, chosen, strict=True)
                for event in template.events
            ]
        )
        Deadline.objects.bulk_create(
            [
                Deadline(case_id=case.pk, **deadline, **Deadline.listed_values(case))
                for case, template in zip(cases, chosen, strict=True)
                for deadline in template.deadlines
            ]
        )


def build(cases: int, other_cases: int) -> Dataset:
    from django.db import transaction

    from cases import actions
    from cases.models import Organisation
    from rules.models import RulePack

    started = time.perf_counter()
    rng = random.Random(SEED)
    procedure = RulePack.objects.get(key=PACK_KEY)
    org_a = Organisation.objects.create(name="Cimade Metz")
    org_b = Organisation.objects.create(name="Forum Réfugiés Lyon")
    supervisor = _member("sofia", org_a, "supervisor", "Sofia", "Marchetti")
    caseworkers = [
        _member(f"cw{i:02d}", org_a, "caseworker", rng.choice(FIRST_NAMES), f"Caseworker {i:02d}")
        for i in range(1, CASEWORKERS + 1)
    ]
    others = [
        _member(f"lyon{i}", org_b, "caseworker", rng.choice(FIRST_NAMES), f"Lyon {i}")
        for i in range(1, OTHER_CASEWORKERS + 1)
    ]
    # Detached while building: each write would otherwise queue an alert-planning task.
    with mock.patch.object(actions, "after_deadlines_change", []):
        clock = time.perf_counter()
        templates, evaluations = make_templates(org_a, caseworkers, procedure, rng)
        template_seconds = time.perf_counter() - clock
    clock = time.perf_counter()
    with transaction.atomic():
        rest = cases - TEMPLATES
        copy_cases(org_a, "A", TEMPLATES + 1, rest, caseworkers, procedure, templates, rng)
        copy_cases(org_b, "B", 1, other_cases, others, procedure, templates, rng)
    copy_seconds = time.perf_counter() - clock
    data = Dataset(
        organisation_id=org_a.pk,
        other_organisation_id=org_b.pk,
        supervisor_id=supervisor.pk,
        caseworker_ids=[u.pk for u in caseworkers],
        other_caseworker_ids=[u.pk for u in others],
        templates=len(templates),
        template_seconds=template_seconds,
        evaluations=evaluations,
        copy_seconds=copy_seconds,
        build_seconds=0.0,
    )
    analyse()  # before the checks' own counts too (without statistics they take minutes)
    data.counts = counts(org_a.pk, org_b.pk)
    data.build_seconds = time.perf_counter() - started
    return data


def counts(org_a: int, org_b: int) -> dict[str, int]:
    from cases.models import Case, CaseEvent, Deadline

    return {
        "cases_a": Case.objects.filter(organisation_id=org_a).count(),
        "open_cases_a": Case.objects.filter(organisation_id=org_a, state=Case.State.OPEN).count(),
        "cases_b": Case.objects.filter(organisation_id=org_b).count(),
        "events": CaseEvent.objects.count(),
        "deadlines": Deadline.objects.count(),
        "pending_a": pending(org_a).count(),
        "pending_b": pending(org_b).count(),
    }


def built(url: str) -> Dataset:
    """The Dataset of a database an earlier run built and kept (--reuse-database)."""
    from django.contrib.auth.models import User

    from cases.models import Organisation

    org_a = Organisation.objects.get(name="Cimade Metz")
    org_b = Organisation.objects.get(name="Forum Réfugiés Lyon")

    def ids(prefix: str) -> list[int]:
        users = User.objects.filter(username__regex=rf"^{prefix}[0-9]+$").order_by("username")
        return list(users.values_list("pk", flat=True))

    return Dataset(
        organisation_id=org_a.pk,
        other_organisation_id=org_b.pk,
        supervisor_id=User.objects.get(username="sofia").pk,
        caseworker_ids=ids("cw"),
        other_caseworker_ids=ids("lyon"),
        templates=TEMPLATES,
        template_seconds=0.0,
        evaluations=0,
        copy_seconds=0.0,
        build_seconds=0.0,
        counts=counts(org_a.pk, org_b.pk),
    )


def analyse() -> None:
    """On PostgreSQL, fresh planner statistics, as autovacuum would soon give them.

    VACUUM as well: PostgreSQL 13+ autovacuum vacuums tables after large inserts, which sets the
    visibility map that index-only scans (the dashboard's counts) rely on. Not on SQLite: Django
    never runs ANALYZE there, so a production file has no statistics.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def pending(organisation_id: int, assigned_to: int | None = None) -> Any:
    """Pending deadlines of open cases, straight from the ORM (what the pages should show)."""
    from cases.dashboard import PENDING
    from cases.models import Case, Deadline

    rows = Deadline.objects.filter(
        case__organisation_id=organisation_id,
        case__state=Case.State.OPEN,
        status__in=PENDING,
        completed_on__isnull=True,
    )
    return rows if assigned_to is None else rows.filter(case__assigned_to_id=assigned_to)


# --- the pages ---------------------------------------------------------------------------------


@dataclass
class Page:
    key: str
    label: str
    user_id: int
    path: str
    check: Callable[[bytes], str]  # returns what it checked; raises when the page is wrong


TILE = re.compile(rb'<span class="tile-count">(\d+)</span>')
REFERENCE = re.compile(rb"\b([AB])-\d{5,}\b")


def _refs(body: bytes) -> set[bytes]:
    return {m.group(1) for m in REFERENCE.finditer(body)}


def check_tiles(expected: int, other: int) -> Callable[[bytes], str]:
    def check(body: bytes) -> str:
        counts = [int(n) for n in TILE.findall(body)]
        if sum(counts) != expected or _refs(body) - {b"A"}:
            raise RuntimeError(f"tiles {counts} (sum {sum(counts)}), expected {expected} in all")
        return f"tiles sum {sum(counts):,} = org A pending (org B: {other:,} not shown)"

    return check


def check_search(expected_cases: int, other_cases: int) -> Callable[[bytes], str]:
    def check(body: bytes) -> str:
        if _refs(body) != {b"A"}:
            raise RuntimeError("the search shows other organisations' cases, or none")
        return (
            f"only A- files; {expected_cases:,} matching files in org A "
            f"({other_cases:,} in org B not shown)"
        )

    return check


def check_case_list(expected: int) -> Callable[[bytes], str]:
    def check(body: bytes) -> str:
        shown = re.search(rb"(\d+) (?:dossiers|files)", body)
        if _refs(body) != {b"A"} or shown is None:
            raise RuntimeError("the case list shows other organisations' cases, or none")
        number = int(shown.group(1))
        if number != expected:
            raise RuntimeError(f"the case list counts {number} open files, expected {expected}")
        return f"{number:,} open files = org A's; only A- files"

    return check


def check_csv(expected: int, what: str) -> Callable[[bytes], str]:
    def check(body: bytes) -> str:
        rows = len(list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))) - 1
        if rows != expected or _refs(body) != {b"A"}:
            raise RuntimeError(f"{rows} CSV rows, expected {expected}")
        return f"{expected:,} rows = {what}; only A- files"

    return check


def pages(data: Dataset) -> list[Page]:
    from django.db.models import Q

    from cases.models import Case

    worker = data.caseworker_ids[0]
    org_a, org_b = data.organisation_id, data.other_organisation_id
    pending_a = data.counts["pending_a"]
    dated_a = pending(org_a).filter(due__isnull=False).count()
    if dated_a < PAGE * 25:
        raise RuntimeError(f"only {dated_a} dated deadlines: no page {PAGE}")

    def found(organisation: int) -> Any:
        """The organisation's cases the search finds (by name or file reference)."""
        return Case.objects.filter(
            Q(applicant_name__icontains=SEARCH) | Q(reference__icontains=SEARCH),
            organisation_id=organisation,
        )

    def matching(organisation: int) -> int:
        return int(found(organisation).count())

    everyone = {"caseworker": "all"}
    return [
        Page(
            "caseworker",
            "dashboard, caseworker, default scope",
            worker,
            "/",
            check_tiles(pending(org_a, worker).count(), data.counts["pending_b"]),
        ),
        Page(
            "supervisor",
            "dashboard, supervisor, ?caseworker=all",
            data.supervisor_id,
            "/?" + urlencode(everyone),
            check_tiles(pending_a, data.counts["pending_b"]),
        ),
        Page(
            "page40",
            f"  the same, page {PAGE}",
            data.supervisor_id,
            "/?" + urlencode({**everyone, "page": PAGE}),
            check_tiles(pending_a, data.counts["pending_b"]),
        ),
        Page(
            "search",
            f'  the same, search "{SEARCH}"',
            data.supervisor_id,
            "/?" + urlencode({"q": SEARCH, **everyone}),
            check_search(matching(org_a), matching(org_b)),
        ),
        Page(
            "case_list",
            "case list, caseworker, default (all)",
            worker,
            "/cases/",
            check_case_list(data.counts["open_cases_a"]),
        ),
        Page(
            "csv",
            "CSV export, caseworker, default scope",
            worker,
            "/export/deadlines.csv",
            check_csv(pending(org_a, worker).count(), "the caseworker's pending deadlines"),
        ),
        Page(
            "csv_search",
            f'CSV export, supervisor, search "{SEARCH}"',
            data.supervisor_id,
            "/export/deadlines.csv?" + urlencode({"q": SEARCH, **everyone}),
            check_csv(
                pending(org_a).filter(case__in=found(org_a)).count(),
                f"the pending deadlines of org A's files matching '{SEARCH}'",
            ),
        ),
    ]


def measure_page(page: Page, runs: int, warmup: int, budget_s: float) -> dict[str, Any]:
    """Time `runs` requests, or as many as `budget_s` seconds allow (at least MIN_RUNS)."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(User.objects.get(pk=page.user_id))
    clock = time.perf_counter_ns
    first_bytes: list[int] = []

    def get() -> bytes:
        """The whole body (a streamed one read to its end); notes when its first bytes came."""
        start = clock()
        response = client.get(page.path, secure=True)  # DEBUG off redirects plain HTTP
        if response.status_code != 200:
            raise RuntimeError(f"{page.path}: HTTP {response.status_code}")
        if not response.streaming:
            first_bytes.append(clock() - start)
            return bytes(response.content)
        streamed: Any = response
        chunks = iter(streamed.streaming_content)
        first = next(chunks, b"")
        first_bytes.append(clock() - start)
        body = first + b"".join(chunks)
        response.close()
        return body

    checked = page.check(get())
    for _ in range(warmup):
        get()
    with CaptureQueriesContext(connection) as captured:
        body = get()
    times = [float(q["time"]) * 1000 for q in captured.captured_queries]
    gc.collect()
    first_bytes.clear()
    samples: list[int] = []
    deadline = clock() + int(budget_s * 1e9)
    while len(samples) < runs and (clock() < deadline or len(samples) < MIN_RUNS):
        start = clock()
        get()
        samples.append(clock() - start)
    return {
        "key": page.key,
        "label": page.label,
        "path": page.path,
        "stats": Stats.of(samples),
        "first_byte": Stats.of(first_bytes),
        "queries": len(times),
        "sql_ms": sum(times),
        "slowest_query_ms": max(times, default=0.0),
        "slowest_query": max(
            captured.captured_queries, key=lambda q: float(q["time"]), default={"sql": ""}
        )["sql"],
        "max_ms": max(samples) / 1e6,
        "bytes": len(body),
        "checked": checked,
    }


# --- the run ----------------------------------------------------------------------------------


def reuse_environment(url: str) -> Callable[[], None]:
    """prepare_environment's settings on a kept database (nothing created, nothing to drop)."""
    os.environ.pop("DATABASE_URL_FILE", None)
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or os.urandom(24).hex(),
            "DJANGO_LOG_LEVEL": "WARNING",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DJANGO_SETTINGS_MODULE": "project.settings",
        }
    )
    return lambda: None


def run(cases: int, runs: int, reuse: str = "") -> dict[str, Any]:
    """In a throwaway database: migrate, build the data, time the pages, drop the database.

    BENCH_KEEP_DATABASE=1 keeps the database (its URL is printed); `reuse` (a kept database's
    URL) times the pages on it again without building anything, and keeps it too.
    """
    keep = bool(reuse) or os.environ.get("BENCH_KEEP_DATABASE", "") not in ("", "0", "false")
    drop = reuse_environment(reuse) if reuse else prepare_environment("dashboard")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    other_cases = max(TEMPLATES, round(cases * OTHER_SHARE))
    label = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    url = os.environ["DATABASE_URL"]
    try:
        clock = time.perf_counter()
        if reuse:
            _progress(f"{label}: reusing {url}")
            data = built(url)
            cases, other_cases = data.counts["cases_a"], data.counts["cases_b"]
        else:
            _progress(f"{label}: migrate + loadrulepack")
            call_command("migrate", interactive=False, verbosity=0)
            call_command("loadrulepack", stdout=io.StringIO())
        migrate_s = time.perf_counter() - clock
        if not reuse:
            _progress(f"{label}: building {cases:,} + {other_cases:,} cases")
            data = build(cases, other_cases)
        figures: list[dict[str, Any]] = []
        with page_settings():
            for page in pages(data):
                _progress(f"{label}: {page.label.strip()} (up to {runs} requests)")
                figures.append(measure_page(page, runs, WARMUP, PAGE_BUDGET_S))
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SHOW server_version")
            else:
                cursor.execute("SELECT sqlite_version()")
            server = str(cursor.fetchone()[0])
    finally:
        connections.close_all()
        if keep:
            _progress(f"kept database {url} (--reuse-database {url}; drop it when done)")
        else:
            drop()
    return {
        "database": label,
        "server_version": server,
        "cases": cases,
        "other_cases": other_cases,
        "migrate_s": migrate_s,
        "data": data.__dict__,
        "per_case_actions_ms": 1000 * data.template_seconds / data.templates,
        "pages": figures,
    }


# --- printing ----------------------------------------------------------------------------------


def _stats(value: Any) -> Stats:
    return value if isinstance(value, Stats) else Stats(**value)


def print_backend(result: dict[str, Any]) -> None:
    data = result["data"]
    counts = data["counts"]
    print(f"\n{result['database']} {result['server_version']}")
    print(
        f"  data: org A {counts['cases_a']:,} cases ({counts['open_cases_a']:,} open), "
        f"1 supervisor + {CASEWORKERS} caseworkers;"
    )
    print(f"        org B {counts['cases_b']:,} cases, {OTHER_CASEWORKERS} caseworkers;")
    cases = result["cases"]
    print(
        f"        {counts['events']:,} events, {counts['deadlines']:,} deadlines; pending on open "
        f"cases: {counts['pending_a']:,} in org A, {counts['pending_b']:,} in org B"
    )
    print(
        f"  built in {data['build_seconds']:.1f} s: {data['templates']} template cases through "
        f"cases.actions ({data['evaluations']:,} evaluations,"
    )
    print(
        f"        {data['template_seconds']:.1f} s, "
        f"{result['per_case_actions_ms']:.0f} ms a case), "
        f"the other {counts['cases_a'] + counts['cases_b'] - data['templates']:,} copied with "
        f"bulk_create ({data['copy_seconds']:.1f} s);"
    )
    print(
        f"        all {cases:,} through cases.actions would take "
        f"~{cases * result['per_case_actions_ms'] / 1000:,.0f} s"
    )
    widths = (40, 6, 8, 8, 8, 8, 9, 8, 8, 8, 6)
    head = (
        "page", "reqs", "median", "p95", "target", "max", "1st byte", "queries", "SQL ms",
        "worst q", "KB",
    )  # fmt: skip
    print(_row(head, widths))
    for page in result["pages"]:
        s = _stats(page["stats"])
        print(
            _row(
                (
                    page["label"],
                    str(s.runs),
                    f"{s.median_us / 1000:.1f}",
                    f"{s.p95_us / 1000:.1f}",
                    f"< {TARGET_MS:.0f}" + ("" if s.p95_us / 1000 < TARGET_MS else " !"),
                    f"{_max_ms(page):.1f}",
                    _first_byte(page),
                    str(page["queries"]),
                    f"{page['sql_ms']:.1f}",
                    f"{page['slowest_query_ms']:.1f}",
                    f"{page['bytes'] / 1024:.0f}",
                ),
                widths,
            )
        )
    print("  checked against the ORM (organisation A only, organisation B's rows never shown):")
    for page in result["pages"]:
        print(f"    {page['key']:<11} {page['checked']}")


def _first_byte(page: dict[str, Any]) -> str:
    """p95 of the time to the body's first bytes (a streamed body's first chunk)."""
    first = page.get("first_byte")
    return f"{_stats(first).p95_us / 1000:.1f}" if first else ""


def _max_ms(page: dict[str, Any]) -> float:
    return float(page.get("max_ms", 0.0))


def print_report(report: dict[str, Any]) -> None:
    m = report["machine"]
    result = report["result"]
    print(f"\nCaseworkers' pages benchmark ({result['cases']:,} cases in one organisation)")
    print(f"  CPU       {m['cpu']} ({m['logical_cpus']} logical CPUs, {m['usable_cpus']} usable)")
    print(f"  Speed     {m['reference_loop_ms']} ms for a million Python additions (reference)")
    print(f"  Platform  {m['platform']}")
    print(f"  Python    {m['python']}; Django {m['django']}; SQLite {m['sqlite']}")
    if m["load_average"]:
        load = ", ".join(f"{x:.2f}" for x in m["load_average"])
        print(f"  Load      {load} (1, 5, 15 min, at start: other work on the machine adds noise)")
    print(
        f"  Timing    time.perf_counter_ns around each client.get (test Client, force_login, "
        f"DEBUG off,\n            all middleware), {WARMUP} warm-up requests first; figures in ms"
    )
    print(
        f"  Requests  up to {report['settings']['runs']} a page, or as many as "
        f"{PAGE_BUDGET_S:.0f} s allow (reqs column)"
    )
    print_backend(result)
    print("  target: p95 to stay under (issue 10), ! when it does not; queries, SQL ms, worst q:")
    print("  on one more request, the number of queries, the SQL time Django measured for them,")
    print("  and the slowest query; 1st byte: p95 of the time to the body's first bytes (a")
    print("  streamed body's first chunk: the rest follows as it is written); KB: response body.")
    if m["load_average"] and report.get("load_at_end"):
        load = ", ".join(f"{x:.2f}" for x in report["load_at_end"])
        print(f"\nLoad at the end: {load}")
    print(
        f"\nFigures written to {OUT_FILE.relative_to(ROOT)} "
        f"(whole run: {report['elapsed_s']:.0f} s)"
    )


def _progress(label: str) -> None:
    print(f"… {label}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    default = int(os.environ.get("BENCH_DASHBOARD_CASES", str(CASES)))
    parser.add_argument("--cases", type=int, default=default, help="cases in organisation A")
    parser.add_argument("--runs", type=int, default=RUNS, help="timed requests a page at most")
    parser.add_argument(
        "--reuse-database",
        default="",
        metavar="URL",
        help="time the pages on a database a run kept (BENCH_KEEP_DATABASE=1): no build",
    )
    args = parser.parse_args(argv)
    if args.cases < PAGE * 25 or args.runs < 1:
        parser.error(f"--cases must be at least {PAGE * 25} and --runs at least 1")
    started = time.perf_counter()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"machine": machine_facts()}
    report["result"] = run(args.cases, args.runs, args.reuse_database)
    report["elapsed_s"] = time.perf_counter() - started
    report["load_at_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    report["settings"] = {
        "cases": args.cases,
        "caseworkers": CASEWORKERS,
        "other_share": OTHER_SHARE,
        "templates": TEMPLATES,
        "closed_share": CLOSED_SHARE,
        "runs": args.runs,
        "page_budget_s": PAGE_BUDGET_S,
        "warmup": WARMUP,
        "seed": SEED,
        "target_ms": TARGET_MS,
    }
    OUT_FILE.write_text(
        json.dumps(_jsonable(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print_report(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
