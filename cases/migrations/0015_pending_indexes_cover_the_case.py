"""The pending-rows indexes carry the case (and the caseworker's, the organisation) on PostgreSQL:
the CSV export's audit of the cases a file holds reads them from the index alone (an index-only
scan) instead of visiting each deadline row (23 -> 6 ms for one caseworker's 8,723 rows at
100,000 cases). SQLite builds the same indexes without the carried columns. Rebuilding them
takes the table's write lock for about a second at 100,000 cases."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0014_deadline_move_long_statuses"),
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
                include=("case",),
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
                include=("organisation", "case"),
                name="deadline_pending_worker_idx",
            ),
        ),
    ]
