"""Case and deadline rows updated in place (PostgreSQL's HOT updates) when a re-evaluation only
records a new pack version or a new result: no index on the version columns, no redundant index,
and room left in each page for the new row (fillfactor). The room applies to pages written from
now on; `VACUUM FULL cases_case, cases_deadline` (or pg_repack) applies it to the existing ones."""
from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models

FILLED = {"cases_case": 80, "cases_deadline": 80}


def leave_room(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, percent in FILLED.items():
        schema_editor.execute(f'ALTER TABLE "{table}" SET (fillfactor = {int(percent)})')


def fill_pages(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in FILLED:
        schema_editor.execute(f'ALTER TABLE "{table}" RESET (fillfactor)')


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_lists_read_from_indexes"),
        ("rules", "0009_lookup_row_confidence_rule_version_description"),
    ]

    operations = [
        migrations.RunPython(leave_room, fill_pages),
        migrations.RemoveIndex(
            model_name="case",
            name="cases_case_organis_086f41_idx",
        ),
        migrations.RemoveIndex(
            model_name="case",
            name="cases_case_organis_42407a_idx",
        ),
        migrations.AlterField(
            model_name="case",
            name="evaluated_pack_version",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="rules.packversion",
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="organisation",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to="cases.organisation",
            ),
        ),
        migrations.AlterField(
            model_name="deadline",
            name="pack_version_ref",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="rules.packversion",
            ),
        ),
    ]
