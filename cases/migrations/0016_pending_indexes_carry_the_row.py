"""The pending-rows indexes carry the row's id too (PostgreSQL): a list page reads the ids of
its rows from the index alone and then only those rows (cases/dashboard.py `rows_between`).
Without it PostgreSQL visited every row it skipped: the supervisor's search "diallo" at 100,000
cases visited the organisation's 14,678 suspended rows to show 20 (124 ms cold). SQLite builds the
same indexes without the carried columns. Rebuilding them takes the table's write lock for a
second or two at 100,000 cases."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0015_pending_indexes_cover_the_case"),
        ("rules", "0009_lookup_row_confidence_rule_version_description"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="deadline",
            name="deadline_pending_org_idx",
        ),
        migrations.RemoveIndex(
            model_name="deadline",
            name="deadline_pending_worker_idx",
        ),
        migrations.AddIndex(
            model_name="deadline",
            index=models.Index(
                condition=models.Q(
                    ("case_open", True),
                    ("completed_on__isnull", True),
                    ("status__in", ("open", "missed", "suspended", "possibly_open")),
                ),
                fields=["organisation", "due", "case_reference", "key"],
                include=("case", "id"),
                name="deadline_pending_org_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="deadline",
            index=models.Index(
                condition=models.Q(
                    ("case_open", True),
                    ("completed_on__isnull", True),
                    ("status__in", ("open", "missed", "suspended", "possibly_open")),
                ),
                fields=["assigned_to", "due", "case_reference", "key"],
                include=("organisation", "case", "id"),
                name="deadline_pending_worker_idx",
            ),
        ),
    ]
