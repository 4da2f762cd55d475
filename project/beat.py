"""Beat entries the apps create after migrate (django-celery-beat keeps them in the database)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def ensure_interval_task(
    *,
    name: str,
    task: str,
    every: int,
    period: str,
    description: str,
    due_now: bool = False,
    using: str = "default",
) -> None:
    """Create the beat entry `name` running `task` every `every` `period`s, unless it exists.

    An existing entry is kept as it is (an administrator may have changed it). A run not started
    within one interval expires rather than piling up behind a stopped worker: the next run does
    the same work. `due_now`: the first run happens when beat starts, not one interval later.
    """
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    if PeriodicTask.objects.using(using).filter(name=name).exists():
        return
    interval, _ = IntervalSchedule.objects.using(using).get_or_create(every=every, period=period)
    length = dt.timedelta(**{period: every})
    PeriodicTask.objects.using(using).create(
        name=name,
        task=task,
        interval=interval,
        expire_seconds=int(length.total_seconds()),
        last_run_at=timezone.now() - length if due_now else None,
        description=description,
    )
