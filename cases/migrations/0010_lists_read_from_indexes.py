"""The lists' indexes (separate from 0009: PostgreSQL refuses CREATE INDEX on a table with
deferred foreign-key checks pending from the backfill in the same transaction)."""

from django.db import migrations, models

# The search box (icontains on the name and the reference: UPPER(column::text) LIKE UPPER(...))
# from trigram indexes on PostgreSQL; SQLite has no such index and keeps scanning.
SEARCH_INDEXES = {
    "case_name_trigram_idx": "applicant_name",
    "case_reference_trigram_idx": "reference",
}


def create_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in SEARCH_INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "cases_case" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in SEARCH_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0009_deadline_list_copies'),
    ]

    operations = [
        migrations.RunPython(create_search_indexes, drop_search_indexes),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['organisation', '-state', 'next_due', 'reference'], name='case_list_order_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['organisation', 'assigned_to', '-state', 'next_due', 'reference'], name='case_list_worker_order_idx'),
        ),
        migrations.AddIndex(
            model_name='deadline',
            index=models.Index(condition=models.Q(('case_open', True), ('completed_on__isnull', True), ('status__in', ('open', 'missed', 'suspended', 'possibly_open'))), fields=['organisation', 'due', 'case_reference', 'key'], name='deadline_pending_org_idx'),
        ),
        migrations.AddIndex(
            model_name='deadline',
            index=models.Index(condition=models.Q(('case_open', True), ('completed_on__isnull', True), ('status__in', ('open', 'missed', 'suspended', 'possibly_open'))), fields=['assigned_to', 'due', 'case_reference', 'key'], name='deadline_pending_worker_idx'),
        ),
    ]
