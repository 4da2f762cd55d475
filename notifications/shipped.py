"""What the app ships into the database, ensured after every migrate (like cases/roles.py).

- the French and English message templates, from shipped_messages/<language>/ (email in threes:
  <name>.subject.txt, <name>.txt, <name>.html; SMS: <name>.sms.txt), created when missing and
  never overwritten, so staff edits stand;
- the beat schedule that runs the planner every ALERT_PLANNER_INTERVAL_MINUTES on the cases
  changed since its last run, sending what is due (an interval staff may change in the admin;
  it is not reset), and the daily sweep that re-plans every case at ALERT_SWEEP_HOUR;
- the "legal staff" group's right to edit message templates.

A post_migrate receiver rather than a data migration: a template added to shipped_messages/
reaches existing installations without a new migration, and the rows come back after a test
database flush (TransactionTestCase), which empties every table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from project.beat import ensure_interval_task

SHIPPED_DIR = Path(__file__).resolve().parent / "shipped_messages"
PLANNER_TASK = "notifications.plan_due_alerts"
PLANNER_SCHEDULE_NAME = "Plan and send deadline alerts"
SWEEP_TASK = "notifications.sweep_alert_plans"
SWEEP_SCHEDULE_NAME = "Re-plan every case's alerts (daily)"
SHIPPED_NOTE = "Shipped with the application."


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip() if path.exists() else ""


def shipped_templates() -> list[dict[str, str]]:
    """Every shipped template as field values (name, channel, language, subject, text, html)."""
    from .models import MessageTemplate

    found: list[dict[str, str]] = []
    for folder in sorted(p for p in SHIPPED_DIR.iterdir() if p.is_dir()):
        for name in MessageTemplate.Name.values:
            text = _read(folder / f"{name}.txt")
            if text:
                found.append(
                    {
                        "name": name,
                        "channel": "email",
                        "language": folder.name,
                        "subject": _read(folder / f"{name}.subject.txt"),
                        "text": text + "\n",
                        "html": _read(folder / f"{name}.html"),
                    }
                )
            sms = _read(folder / f"{name}.sms.txt")
            if sms:
                found.append(
                    {
                        "name": name,
                        "channel": "sms",
                        "language": folder.name,
                        "subject": "",
                        "text": sms,
                        "html": "",
                    }
                )
    return found


def ensure_shipped_templates(*, using: str = "default", **kwargs: Any) -> int:
    from .models import MessageTemplate

    created = 0
    for values in shipped_templates():
        key = {k: values[k] for k in ("name", "channel", "language")}
        defaults = {k: values[k] for k in ("subject", "text", "html")}
        _, was_created = MessageTemplate.objects.using(using).get_or_create(
            **key, defaults={**defaults, "reviewed": True, "notes": SHIPPED_NOTE}
        )
        created += was_created
    return created


def ensure_beat_schedule(*, using: str = "default", **kwargs: Any) -> None:
    ensure_sweep_schedule(using=using)
    ensure_interval_task(
        name=PLANNER_SCHEDULE_NAME,
        task=PLANNER_TASK,
        every=max(1, settings.ALERT_PLANNER_INTERVAL_MINUTES),
        period="minutes",
        due_now=True,
        description="Plans the alerts of the cases changed since its last run and queues the "
        "due ones (notifications/README.md).",
        using=using,
    )


def ensure_sweep_schedule(*, using: str = "default", **kwargs: Any) -> None:
    """The daily safety sweep: every open case re-planned, at ALERT_SWEEP_HOUR local time."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    if PeriodicTask.objects.using(using).filter(name=SWEEP_SCHEDULE_NAME).exists():
        return
    crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
        minute="0",
        hour=str(settings.ALERT_SWEEP_HOUR % 24),
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.using(using).create(
        name=SWEEP_SCHEDULE_NAME,
        task=SWEEP_TASK,
        crontab=crontab,
        expire_seconds=12 * 3600,
        description="Re-plans every open case's alerts once a day, for safety "
        "(notifications/README.md).",
    )


def ensure_legal_staff_can_edit_templates(*, using: str = "default", **kwargs: Any) -> None:
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    from cases.roles import LEGAL_STAFF

    create_permissions(apps.get_app_config("notifications"), verbosity=0, using=using)
    group, _ = Group.objects.using(using).get_or_create(name=LEGAL_STAFF)
    wanted = Permission.objects.using(using).filter(
        content_type__app_label="notifications",
        codename__in=[
            "view_messagetemplate",
            "add_messagetemplate",
            "change_messagetemplate",
            "view_historicalmessagetemplate",
        ],
    )
    group.permissions.add(*wanted)


def ensure_shipped(*, using: str = "default", **kwargs: Any) -> None:
    """The post_migrate receiver."""
    ensure_shipped_templates(using=using)
    ensure_beat_schedule(using=using)
    ensure_legal_staff_can_edit_templates(using=using)
