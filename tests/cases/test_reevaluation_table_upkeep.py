"""A re-evaluation keeps PostgreSQL's tables fit for its bulk reads and writes whether or not
autovacuum runs (this project's machines run without it): statistics refreshed when a run
starts, so that its chunks read by index, and the old row versions it leaves freed when it
ends."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.db import connection

from cases import reevaluation
from cases.models import Deadline, Organisation
from rules.models import PackVersion
from tests.cases.personas import make_case
from tests.cases.test_reevaluation_narrowing import draft_moving
from tests.cases.workbench import publish

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's statistics and VACUUM"
)

START = [("prefecture_presentation", dt.date(2026, 4, 2)), ("registration", dt.date(2026, 4, 8))]


def estimated_rows(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return float(cursor.fetchone()[0])


def test_starting_a_run_refreshes_the_statistics_of_the_tables_it_reads(
    asylum_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    for _ in range(4):
        make_case(org_a, carla, asylum_pack, events=START)
    rows = Deadline.objects.count()
    assert estimated_rows("cases_deadline") != rows  # never analysed with these rows
    draft = draft_moving(asylum_pack, "ofpra_submission")
    publish(draft, reason="Décret 2026-124", hooks=False)

    reevaluation.start_run(draft.pk)

    assert estimated_rows("cases_deadline") == rows


@pytest.mark.django_db(transaction=True)  # VACUUM runs outside a transaction
def test_a_finished_run_vacuums_the_tables_it_rewrote(
    asylum_pack: PackVersion, org_a: Organisation, carla: User, celery_eager: None
) -> None:
    for _ in range(3):
        make_case(org_a, carla, asylum_pack, events=START)
    draft = draft_moving(asylum_pack, "ofpra_submission")
    publish(draft, reason="Décret 2026-124", hooks=False)
    before = vacuumed()

    run = reevaluation.start_run(draft.pk)
    for chunk in run.chunks.order_by("number"):
        reevaluation.apply_chunk(chunk.pk)  # the last one finishes the run: its hooks, on commit

    run.refresh_from_db()
    assert run.state == "done"
    after = vacuumed()
    for table in ("cases_case", "cases_deadline"):
        assert after[table] is not None, table
        assert after[table] != before[table], table


def vacuumed() -> dict[str, dt.datetime | None]:
    """When each table was last vacuumed by hand (not by autovacuum), from fresh statistics."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT relname, last_vacuum FROM pg_stat_user_tables "
            "WHERE relname IN ('cases_case', 'cases_deadline')"
        )
        return dict(cursor.fetchall())
