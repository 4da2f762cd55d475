"""0016's index dropped: the frequent alert planner finds what a re-evaluation moved by the deadline
rows' updated_at again (set where dates or status moved), not by the chunks applied."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0016_chunks_by_applied_time'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='reevaluationchunk',
            name='reevaluation_chunk_applied_idx',
        ),
    ]
