from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CasesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from rules import workbench

        from . import impact
        from .privacy import ensure_anonymisation_schedule
        from .roles import ensure_groups
        from .schedule import ensure_sweep_schedule
        from .tasks import queue_impact, start_reevaluation

        post_migrate.connect(ensure_groups, sender=self, dispatch_uid="cases-ensure-groups")
        post_migrate.connect(
            ensure_sweep_schedule, sender=self, dispatch_uid="cases-reevaluation-sweep"
        )
        # A published pack version re-evaluates every open case of its procedure.
        if start_reevaluation not in workbench.after_publish:
            workbench.after_publish.append(start_reevaluation)
        if queue_impact not in impact.after_start:
            impact.after_start.append(queue_impact)
        post_migrate.connect(
            ensure_anonymisation_schedule, sender=self, dispatch_uid="cases-anonymisation-beat"
        )
