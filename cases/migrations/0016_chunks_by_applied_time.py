"""Chunks found by the time they were applied: the frequent alert planner takes their cases
(notifications/planner.py: changed_since)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0015_pending_indexes_cover_the_case'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='reevaluationchunk',
            index=models.Index(fields=['applied_at'], name='reevaluation_chunk_applied_idx'),
        ),
    ]
