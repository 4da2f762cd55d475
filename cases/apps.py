from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CasesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from rules import workbench

        from . import impact, reevaluation
        from .privacy import ensure_anonymisation_schedule
        from .roles import ensure_groups
        from .schedule import ensure_sweep_schedule
        from .tasks import queue_impact, queue_tidy, start_reevaluation

        post_migrate.connect(ensure_groups, sender=self, dispatch_uid="cases-ensure-groups")
        post_migrate.connect(
            ensure_sweep_schedule, sender=self, dispatch_uid="cases-reevaluation-sweep"
        )
        # A published pack version re-evaluates every open case of its procedure.
        if start_reevaluation not in workbench.after_publish:
            workbench.after_publish.append(start_reevaluation)
        # A finished run frees the old row versions it left (autovacuum may be off or late).
        if queue_tidy not in reevaluation.after_run_finished:
            reevaluation.after_run_finished.append(queue_tidy)
        if queue_impact not in impact.after_start:
            impact.after_start.append(queue_impact)
        post_migrate.connect(
            ensure_anonymisation_schedule, sender=self, dispatch_uid="cases-anonymisation-beat"
        )
