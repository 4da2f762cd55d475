"""PostgreSQL statistics on how a deadline's status, due date, completion and case state go
together.

Alone, PostgreSQL estimates the suspended deadlines still to do (status pending, no due date) as
pending rows times the share of all rows without a due date; but met rows, most of the table, nearly
all have one, so the estimate was 7 times too low (2,017 for 14,678 at 100,000 cases). With it,
the dashboard's search read every suspended deadline of the organisation into a hash join (250 ms)
instead of walking the pending index (7 ms). A multivariate MCV list on the four columns gives
the planner their combinations. ANALYZE fills it (autovacuum, or the re-evaluation's ANALYZE).
"""

from __future__ import annotations

from django.db import migrations

NAME = "deadline_pending_stats"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f'CREATE STATISTICS IF NOT EXISTS "{NAME}" (mcv) '
        'ON "status", "due", "completed_on", "case_open" FROM "cases_deadline"'
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP STATISTICS IF EXISTS "{NAME}"')


class Migration(migrations.Migration):
    dependencies = [("cases", "0012_case_view_without_constraints")]

    operations = [migrations.RunPython(create, drop)]
