from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from cases import actions

        from .shipped import ensure_shipped
        from .tasks import schedule_case_planning

        # Every write to a case re-plans its alerts once the write is committed.
        if schedule_case_planning not in actions.after_deadlines_change:
            actions.after_deadlines_change.append(schedule_case_planning)
        post_migrate.connect(ensure_shipped, sender=self, dispatch_uid="notifications-shipped")
