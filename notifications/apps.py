from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from cases import actions, reevaluation

        from .shipped import ensure_shipped
        from .tasks import notify_caseworkers, schedule_case_planning, schedule_cases_planning

        # Every write to a case re-plans its alerts once the write is committed.
        if schedule_case_planning not in actions.after_deadlines_change:
            actions.after_deadlines_change.append(schedule_case_planning)
        if schedule_cases_planning not in actions.after_many_deadlines_change:
            actions.after_many_deadlines_change.append(schedule_cases_planning)
        # Caseworkers hear once, by email, which of their cases a re-evaluation moved.
        if notify_caseworkers not in reevaluation.after_run_finished:
            reevaluation.after_run_finished.append(notify_caseworkers)
        post_migrate.connect(ensure_shipped, sender=self, dispatch_uid="notifications-shipped")
