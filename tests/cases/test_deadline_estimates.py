"""PostgreSQL knows how many suspended deadlines are still to do (cases/migrations/0013).

Most deadline rows are met and have a due date; the pending ones without a date (suspended) are
a few percent of the table but a large share of what is still to do. Estimated from each column
alone, they came out 7 times too few at 100,000 cases, and the dashboard's search then read every
suspended deadline of the organisation into a hash join (250 ms) instead of walking the pending
index (7 ms). The planner's estimate for them must be near the truth.
"""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from django.contrib.auth.models import User
from django.db import connection

from cases.dashboard import PENDING
from cases.models import Case, Deadline, Organisation
from rules.models import PackVersion
from rules.services import today

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the planner's estimates are PostgreSQL's"
)

CASES = 1_500
STEPS = ("registration", "ofpra_submission", "ofpra_decision", "legal_aid", "cnda_appeal")


def estimated_and_counted(organisation: Organisation) -> tuple[float, int]:
    suspended = Deadline.objects.filter(
        organisation=organisation,
        case_open=True,
        completed_on__isnull=True,
        status__in=PENDING,
        due__isnull=True,
    )
    sql, params = suspended.values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_deadline")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return plan[0]["Plan"]["Plan Rows"], suspended.count()


def test_the_planner_knows_how_many_suspended_deadlines_are_still_to_do(
    asylum_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    rng = random.Random(13)
    day = today()
    cases = Case.objects.bulk_create(
        Case(
            organisation=org_a,
            reference=f"E-{n:05d}",
            applicant_name="Applicant",
            department="57",
            assigned_to=carla,
            procedure=asylum_pack.pack,
        )
        for n in range(CASES)
    )
    rows = []
    for case in cases:
        for key in STEPS:
            # As in real files: most steps met (with their date), a few open, few suspended.
            status = rng.choices(("met", "open", "suspended"), weights=(85, 10, 5))[0]
            due = None if status == "suspended" else day + dt.timedelta(days=rng.randint(-90, 60))
            rows.append(
                Deadline(
                    case=case,
                    key=key,
                    label=key,
                    due=due,
                    status=status,
                    completed_on=due if status == "met" else None,
                    trigger_type="registration",
                    trigger_date=day,
                    rule_version=1,
                    confidence="certain",
                    legal_basis="CESEDA",
                    pack_version=1,
                    **Deadline.listed_values(case),
                )
            )
    Deadline.objects.bulk_create(rows)
    estimated, counted = estimated_and_counted(org_a)
    assert counted > 200
    assert counted / 2 <= estimated <= counted * 2, (estimated, counted)
