"""The Celery application shared by the web process, the workers and beat."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, signals
from celery.app import trace

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("project")
# Every CELERY_* Django setting configures Celery (CELERY_BROKER_URL -> broker_url).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # A task is acknowledged when it ends, not when it starts, so a crash mid-task re-runs it:
    # tasks must be idempotent. One message at a time, so a long task holds up nothing queued.
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    # Periodic tasks live in the database (editable in the admin), not in a local file.
    beat_scheduler="django_celery_beat.schedulers:DatabaseScheduler",
)
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _check_database_connections(sender: Any = None, **kwargs: Any) -> None:
    """Reuse a database connection across tasks as Django does across requests: dropped when
    older than CONN_MAX_AGE or when it failed, health-checked before reuse (settings.py:
    CELERY_DB_REUSE_MAX). Not for eager tasks, which run inside the caller's transaction."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


# Celery logs every task's return value at INFO; a value could carry personal data, so the
# success line names the task, its id and its duration only.
trace.LOG_SUCCESS = "Task %(name)s[%(id)s] succeeded in %(runtime)ss"
